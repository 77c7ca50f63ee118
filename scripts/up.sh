#!/usr/bin/env bash
# Bring berth up on a fresh Debian 12 machine, as root: install what it needs,
# build, start `berth daemon` on its defaults (/var/lib/berth,
# /run/berth/berth.sock) and show it working with an image made locally.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_root
install_runtime_packages
build_berth

SOCK=/run/berth/berth.sock
if bin/berth -H "unix://$SOCK" version >/dev/null 2>&1; then
  echo "berth daemon already running on $SOCK"
else
  mkdir -p /var/log
  echo "starting berth daemon (log: /var/log/berth.log)"
  nohup bin/berth daemon >>/var/log/berth.log 2>&1 &
  for _ in $(seq 1 100); do
    bin/berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
bin/berth version

# There is no internet here: make a busybox image from Debian's busybox-static.
if ! bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  rootfs_tar | bin/berth import --change 'CMD ["sh"]' --message "busybox from Debian's busybox-static" - busybox:latest
fi
# `docker compose` (the docker CLI's plugin) as berth compose, unless another Compose plugin is installed.
plugins=/usr/local/lib/docker/cli-plugins
if [ ! -e "$plugins/docker-compose" ] || [ "$(readlink "$plugins/docker-compose")" = "$PWD/bin/docker-compose" ]; then
  mkdir -p "$plugins" && ln -sfn "$PWD/bin/docker-compose" "$plugins/docker-compose"
fi
bin/berth images
bin/berth run --rm busybox sh -c 'echo "hello from a berth container: $(hostname), pid $$"'
echo
echo "berth is up. Try: bin/berth run --rm busybox uname -a   bin/berth image inspect busybox"
