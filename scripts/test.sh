#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Debian's docker-registry,
# skopeo, debootstrap, the docker CLI ...), builds, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_root
install_runtime_packages
mapfile -t test_pkgs < <(grep -v '^\s*#' test/harness/apt-packages.txt | grep -v '^\s*$')
apt_install "${test_pkgs[@]}"
# The docker CLI is a test peer only (no dockerd runs): Debian ships it in docker.io.
command -v docker >/dev/null || apt_install docker.io
build_berth
npm run --silent lint

# Every compiled *.test.js under dist/, unit and whole-system alike.
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
status=0
log=$(mktemp /tmp/berth-test-log.XXXXXX)
# Bounded twice: a test file (and each test in it) fails after 10 minutes, and the
# whole run stops after 40, so a hang is reported as a failure, never a stalled CI.
timeout --kill-after=30 2400 node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-3}" \
  --test-timeout=600000 "${files[@]}" 2>&1 | tee "$log" || status=$?
if [ "$status" != 0 ]; then
  echo "---- failures (exit $status) ----"
  grep -n -A12 '^not ok\|^ *not ok' "$log" | head -300 || true
fi
rm -f "$log"
# Tests leave portmap's host-wide chains in place while others may still use them
# (removing them races a parallel ADD); once all are done, the idle ones go.
node -e "import('./dist/src/network/index.js').then((m) => m.removeIdlePortmapChains())" || true
exit "$status"
