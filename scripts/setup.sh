#!/usr/bin/env bash
# Installs the Debian packages hangar builds and tests with (skipping those already present).
# Runs apt through sudo when not root. Needs a Swift 6 toolchain on PATH (see README).
set -euo pipefail

# What hangar builds with. libssl-dev comes with libcurl4-openssl-dev; named because hangar links libcrypto itself.
packages=(pkg-config libyaml-dev libcurl4-openssl-dev libssl-dev libarchive-dev libncurses-dev)
# What the tests need too (scripts/test.sh sets HANGAR_SETUP_TESTS=1): docker-registry (a real OCI registry on
# loopback), tmux (the real binary on a terminal), python3 (builds hostile archives, serves TLS, makes the test
# sigstore), zstd (.tar.zst).
if [ "${HANGAR_SETUP_TESTS:-0}" = 1 ]; then
  packages+=(docker-registry tmux python3 zstd)
fi
# What scripts/install.sh needs too (it sets HANGAR_SETUP_INSTALL=1): python3 turns the parser's help into the man page.
if [ "${HANGAR_SETUP_INSTALL:-0}" = 1 ]; then
  packages+=(python3)
fi

if ! command -v swift >/dev/null 2>&1; then
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$dir/swift" ] && export PATH="$dir:$PATH" && break
  done
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no Swift toolchain on PATH: install Swift 6 (https://www.swift.org/install/linux/) and retry" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The signed-backend tests build a private sigstore with python3's `cryptography` (for the python3 on PATH).
if [ "${HANGAR_SETUP_TESTS:-0}" = 1 ] && ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "setup: installing python3's cryptography (the tests' private sigstore)" >&2
  python3 -m pip install --quiet cryptography >/dev/null 2>&1 || {
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-cryptography >/dev/null
  }
fi
