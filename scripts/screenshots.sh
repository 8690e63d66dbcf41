#!/usr/bin/env bash
# Pictures of every screen of hangar's UI for the README: builds hangar, opens the built-in demo under a private
# tmux server at 120x30, drives it to each screen (Backends, Catalog, Detail, Jobs during and after an upgrade,
# Settings, Help), captures each with its colours and renders it to docs/screens/NAME.png with
# ../shared/tools/ansi2png.py (needs python3 with pillow, and fonts-dejavu-core).
#   scripts/screenshots.sh            # all pictures
#   KEEP=1 scripts/screenshots.sh     # also keep the raw captures (docs/screens/NAME.ans) for a look in a terminal
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=docs/screens
render=${ANSI2PNG:-$root/../shared/tools/ansi2png.py}
[ -f "$render" ] || { echo "screenshots: $render not found (set ANSI2PNG)" >&2; exit 2; }
python3 -c 'import PIL' 2>/dev/null || { echo "screenshots: python3 needs pillow (pip install pillow)" >&2; exit 2; }

swift build --product hangar 2>&1 | tail -n 1
hangar="$(swift build --show-bin-path)/hangar"

work=$(mktemp -d /tmp/hangar-shots.XXXXXX)
sock="$work/tmux.sock"
tmux_() { tmux -u -S "$sock" "$@"; }
cleanup() { tmux_ kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out" "$work/home"

# A clean, private environment: the demo sandbox in the temp dir, UTF-8, 256 colours, UTC clock times.
tmux_ -f /dev/null new-session -d -s shots -x 120 -y 30 \
    "env -i PATH=/usr/bin:/bin HOME=$work/home XDG_CONFIG_HOME=$work/home/.config TERM=xterm-256color \
     LC_ALL=C.UTF-8 TZ=UTC $hangar demo --dir $work/demo; sleep 30"

screen() { tmux_ capture-pane -p -t shots; }
# Waits until the screen shows $1 (a grep -E pattern), 30 s at most.
wait_for() {
    for _ in $(seq 300); do
        if screen | grep -qE -- "$1"; then return 0; fi
        sleep 0.1
    done
    echo "screenshots: timed out waiting for: $1" >&2
    screen >&2
    exit 1
}
keys() { tmux_ send-keys -t shots "$@"; sleep 0.3; }
# Moves the selection down until backend $1's row is selected.
select_row() {
    for _ in $(seq 20); do
        if screen | grep -qE "^▸ $1 "; then return 0; fi
        keys j
    done
    echo "screenshots: could not select $1" >&2
    exit 1
}
shot() {
    sleep 0.3
    tmux_ capture-pane -e -N -p -t shots > "$work/$1.ans"
    python3 "$render" "$work/$1.ans" "$work/$1.png"
    # A terminal has few colours: a 32-colour palette keeps each picture small in the repository.
    python3 -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").quantize(32).save(sys.argv[2], optimize=True)' \
        "$work/$1.png" "$out/$1.png"
    if [ -n "${KEEP:-}" ]; then cp "$work/$1.ans" "$out/$1.ans"; fi
    echo "  $out/$1.png"
}

wait_for 'upgrades available'
shot backends

# kokoro's new build is broken: its rollback stays on the Jobs screen. Then stablediffusion-ggml (32 MiB at the
# demo's 8 MiB/s) runs long enough to be seen with its progress bar.
select_row kokoro
keys u
wait_for 'v1.0.0 restored'
select_row stablediffusion-ggml
keys u
wait_for 'stablediffusion-ggml .*upgrade [0-9]+%'
sleep 1
shot backends-upgrading
keys 4
shot jobs-running
wait_for '0 active'
shot jobs-finished

keys 1
keys g
select_row piper
keys Enter
wait_for 'size on disk +[0-9]'
shot detail

keys 2
wait_for 'RESOLVES TO|TAGS'
shot catalog

keys 5
shot settings

keys 1
keys '?'
shot help
keys Escape
keys q
