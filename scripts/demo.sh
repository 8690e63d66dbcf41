#!/usr/bin/env bash
# Quick start: install what hangar needs, build it, build the demo sandbox and open the UI on it
# (on a terminal; piped, it lists the sandbox instead). `scripts/demo.sh --reset` starts the demo afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The release build, Swift runtime linked statically: the binary scripts/install.sh installs (fast start, small).
build=(swift build -c release --static-swift-stdlib)
"${build[@]}" --product hangar 2>&1 | tail -n 1
exec "$("${build[@]}" --show-bin-path)/hangar" demo "$@"
