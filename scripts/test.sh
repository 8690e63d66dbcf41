#!/usr/bin/env bash
# Install what hangar needs, build everything and run every test (what CI runs).
set -uo pipefail
cd "$(dirname "$0")/.."
HANGAR_SETUP_TESTS=1 source scripts/setup.sh || exit 2
set +e  # setup.sh turned on errexit; this script reports failures itself
export LC_ALL=C.UTF-8
mkdir -p .build

if ! swift build --build-tests >.build/build-output.txt 2>&1; then
  grep -E "error:" .build/build-output.txt | head -n 40 || tail -n 40 .build/build-output.txt
  echo "test: the build failed" >&2
  exit 1
fi
grep -E "warning:" .build/build-output.txt | grep -v "^\s*|" | sort -u | head -n 20 || true
tail -n 1 .build/build-output.txt

# XCTest only: without --disable-swift-testing, Swift Testing prints its own "0 tests" line last.
swift test --skip-build --disable-swift-testing >.build/test-output.txt 2>&1
status=$?
grep -E "error:|: failed|skipped" .build/test-output.txt | head -n 60 || true
grep -E "^\s*Executed [0-9]+ tests?" .build/test-output.txt | tail -n 1
exit $status
