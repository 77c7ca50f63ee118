# Shared by scripts/up.sh and scripts/test.sh.

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# What the engine itself runs on.
install_runtime_packages() {
  apt_install runc containernetworking-plugins iptables busybox-static tini zstd ca-certificates make g++ python3
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "berth needs Node.js 20 or newer (node and npm on PATH)" >&2
    exit 1
  fi
}

build_berth() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # the addon and the monitor again when their C sources changed since the last build
  if [ ! -f build/Release/berth_sys.node ] || [ src/native/sys.c -nt build/Release/berth_sys.node ] \
    || [ ! -f build/Release/berth-monitor ] || [ src/monitor/berth-monitor.c -nt build/Release/berth-monitor ]; then
    npx --no-install node-gyp rebuild --silent
  fi
  npm run --silent build
}

# A rootfs tarball of busybox-static with its applets, on stdout.
rootfs_tar() {
  local d
  d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root" "$d/proc" "$d/sys" "$d/dev"
  chmod 1777 "$d/tmp"
  cp /bin/busybox "$d/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  tar -C "$d" --numeric-owner -cf - .
  rm -rf "$d"
}
