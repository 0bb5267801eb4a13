#!/usr/bin/env bash
# Install what podctl needs on a Debian/Ubuntu host, only what is missing.
# Run as root. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "podctl setup: run as root (it installs packages with apt-get)" >&2
  exit 4
fi

# package -> a file it provides
declare -A provides=(
  [runc]=/usr/sbin/runc
  [crun]=/usr/bin/crun
  [catatonit]=/usr/bin/catatonit
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [iproute2]=/usr/sbin/ip
  [iptables]=/usr/sbin/iptables
  [iputils-ping]=/usr/bin/ping
  [util-linux]=/usr/bin/unshare
  [man-db]=/usr/bin/man
  [groff-base]=/usr/bin/groff
  [zsh]=/usr/bin/zsh
  [fish]=/usr/bin/fish
  # containers: the per-container monitor
  [conmon]=/usr/bin/conmon
  # images: the tests' local registry, the tools that push their fixtures and
  # that the bench compares pulls against, and the static busybox they build from
  [docker-registry]=/usr/bin/docker-registry
  [skopeo]=/usr/bin/skopeo
  [umoci]=/usr/bin/umoci
  [busybox-static]=/bin/busybox
  [apache2-utils]=/usr/bin/htpasswd
  # images: setfattr writes unpacked layers' xattrs and overlayfs opaque markers (node has no setxattr)
  [attr]=/usr/bin/setfattr
  # a real pty for the exec/attach tests
  [tmux]=/usr/bin/tmux
  # critest's images (test/e2e/critest-images.ts): pgrep for its busybox, and a C compiler with
  # a static libc for nonewprivs' setuid program
  [procps]=/usr/bin/pgrep
  [gcc]=/usr/bin/gcc
  [libc6-dev]=/usr/lib/x86_64-linux-gnu/libc.a
)
missing=()
for pkg in "${!provides[@]}"; do
  [ -e "${provides[$pkg]}" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "podctl setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# critest's nginx images are Debian's nginx unpacked (test/e2e/critest-images.ts): its packages are
# downloaded, not installed (installing would start an nginx on this host's port 80).
debs=/var/cache/podctl/debs
if ! ls "$debs"/nginx_*.deb "$debs"/nginx-common_*.deb >/dev/null 2>&1; then
  echo "podctl setup: downloading the nginx packages for critest's images into $debs" >&2
  mkdir -p "$debs"
  (cd "$debs" && apt-get download -qq nginx nginx-common 2>/dev/null) || echo "podctl setup: could not download nginx; critest skips its nginx specs" >&2
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "podctl setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 4
fi

cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
