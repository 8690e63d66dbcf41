#!/usr/bin/env bash
# Builds the release hangar and installs it with its themes, shell completions and man page (both generated from
# the argument parser), and on request a systemd unit for `hangar daemon`. Prints every path it writes and records
# them in <prefix>/share/hangar/install-manifest.txt; `--uninstall` removes exactly those (and the directories the
# install created, when empty).
#
#   scripts/install.sh [--prefix DIR] [--systemd system|user] [--binary PATH]
#   scripts/install.sh [--prefix DIR] --uninstall
#
# --prefix   where to install (default /usr/local as root, ~/.local otherwise)
# --systemd  also install the unit from dist/systemd/: `system` → <prefix>/lib/systemd/system/hangar.service,
#            `user` → <prefix>/share/systemd/user/hangar.service (both on systemd's search path for /usr/local
#            and ~/.local), with ExecStart pointing at <prefix>/bin/hangar
# --binary   install this already built hangar instead of building one (packagers, and the tests, which run
#            while SwiftPM holds the build directory)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }
prefix=""
uninstall=0
systemd=""
binary=""
while (($#)); do
  case "$1" in
    --prefix) (($# >= 2)) || usage; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --uninstall) uninstall=1; shift ;;
    --systemd) (($# >= 2)) || usage; systemd=$2; shift 2 ;;
    --systemd=*) systemd=${1#--systemd=}; shift ;;
    --binary) (($# >= 2)) || usage; binary=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install: unknown argument $1" >&2; usage ;;
  esac
done
case "$systemd" in ""|system|user) ;; *) echo "install: --systemd takes system or user, not \"$systemd\"" >&2; exit 2 ;; esac
if [ -z "$prefix" ]; then
  if [ "$(id -u)" -eq 0 ]; then prefix=/usr/local; else prefix=$HOME/.local; fi
fi
prefix_created=""
if ((!uninstall)) && [ ! -d "$prefix" ]; then
  mkdir -p -- "$prefix" 2>/dev/null || { echo "install: cannot create $prefix" >&2; exit 2; }
  prefix_created=1
fi
[ -d "$prefix" ] || { echo "install: no such directory $prefix" >&2; exit 2; }
prefix=$(cd "$prefix" && pwd -P)
manifest=$prefix/share/hangar/install-manifest.txt

# Removes what a manifest lists: files first, then the directories the install created, deepest first, if empty.
remove_installed() {
  local kind path
  local dirs=()
  while read -r kind path; do
    case "$kind" in
      file) if [ -e "$path" ] || [ -L "$path" ]; then rm -f -- "$path" && echo "removed $path"; fi ;;
      dir) dirs+=("$path") ;;
    esac
  done <"$manifest"
  rm -f -- "$manifest" && echo "removed $manifest"
  local i
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    if [ -d "${dirs[i]}" ] && rmdir -- "${dirs[i]}" 2>/dev/null; then echo "removed ${dirs[i]}/"; fi
  done
  return 0
}

if ((uninstall)); then
  [ -f "$manifest" ] || { echo "install: nothing to uninstall: no $manifest" >&2; exit 2; }
  remove_installed
  exit 0
fi

# A reinstall keeps what earlier installs recorded (directories they created, files such as the other systemd
# unit that this run does not write again), so that --uninstall still removes everything.
created_dirs=()
written=()
[ -n "$prefix_created" ] && created_dirs+=("$prefix")
if [ -f "$manifest" ]; then
  while read -r kind path; do
    case "$kind" in
      dir) created_dirs+=("$path") ;;
      file) if [ -e "$path" ] && [ "$path" != "$manifest" ]; then written+=("$path"); fi ;;
    esac
  done <"$manifest"
fi

# Creates a directory and every missing parent inside the prefix, remembering which ones it created.
make_dir() {
  local dir=$1 missing=()
  while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  local d
  for d in "${missing[@]}"; do
    mkdir -- "$d"
    created_dirs+=("$d")
  done
}

# Installs one file with a mode, and records it. Never in a pipeline: it must update this shell's lists.
put() {
  local mode=$1 source=$2 target=$3
  make_dir "$(dirname "$target")"
  install -m "$mode" -- "$source" "$target"
  written+=("$target")
  echo "installed $target"
}
generated=$(mktemp -d)
trap 'rm -rf -- "$generated"' EXIT

if [ -z "$binary" ]; then
  HANGAR_SETUP_INSTALL=1 source scripts/setup.sh
  set -euo pipefail
  # The release build with the Swift runtime and Foundation linked statically: the fast, small binary (the same
  # flags as scripts/demo.sh and the benchmarks, so one build serves all three).
  build=(swift build -c release --static-swift-stdlib)
  echo "install: building the release binary (${build[*]} --product hangar)" >&2
  "${build[@]}" --product hangar 2>&1 | tail -n 1 >&2
  binary=$("${build[@]}" --show-bin-path)/hangar
fi
[ -x "$binary" ] || { echo "install: no executable hangar at $binary" >&2; exit 2; }

bindir=$prefix/bin
put 755 "$binary" "$bindir/hangar"
for theme in themes/*.yaml; do
  put 644 "$theme" "$prefix/share/hangar/themes/$(basename "$theme")"
done
# Completions and the man page come from the installed binary's own argument parser.
for shell in bash zsh fish; do "$bindir/hangar" --generate-completion-script "$shell" >"$generated/$shell"; done
put 644 "$generated/bash" "$prefix/share/bash-completion/completions/hangar"
put 644 "$generated/zsh" "$prefix/share/zsh/site-functions/_hangar"
put 644 "$generated/fish" "$prefix/share/fish/vendor_completions.d/hangar.fish"
if command -v python3 >/dev/null 2>&1; then
  "$bindir/hangar" --experimental-dump-help | python3 "$repo/scripts/manpage.py" >"$generated/hangar.1"
  put 644 "$generated/hangar.1" "$prefix/share/man/man1/hangar.1"
else
  echo "install: python3 not found: no man page (install python3 and run again)" >&2
fi
case "$systemd" in
  system) unit_source=dist/systemd/hangar.service; unit=$prefix/lib/systemd/system/hangar.service ;;
  user) unit_source=dist/systemd/hangar-user.service; unit=$prefix/share/systemd/user/hangar.service ;;
  *) unit="" ;;
esac
if [ -n "$unit" ]; then
  sed "s|@BINDIR@|$bindir|g" "$unit_source" >"$generated/unit"
  put 644 "$generated/unit" "$unit"
fi

make_dir "$(dirname "$manifest")"
{
  for d in "${created_dirs[@]}"; do echo "dir $d"; done | awk '!seen[$0]++'
  for f in "${written[@]}"; do echo "file $f"; done | awk '!seen[$0]++'
} >"$manifest"
echo "installed $manifest (what --uninstall removes)"

case "$systemd" in
  system) echo "install: edit User= and the paths in $unit, then: systemctl daemon-reload && systemctl enable --now hangar" \
            "(a prefix other than /usr/local: link the unit into /etc/systemd/system first)" ;;
  user) echo "install: edit the paths in $unit, then: systemctl --user daemon-reload && systemctl --user enable --now hangar" \
          "(a prefix other than ~/.local or /usr/local: link the unit into ~/.config/systemd/user first)" ;;
esac
case ":$PATH:" in *":$bindir:"*) ;; *) echo "install: $bindir is not on PATH: add it to run hangar by name" ;; esac
