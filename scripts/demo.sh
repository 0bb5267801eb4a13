#!/usr/bin/env bash
# One pod, end to end, on a fresh Debian/Ubuntu machine: set-up, runp,
# pods, inspectp, a ping of the pod, stopp, rmp. Uses podctl's defaults
# (state in /var/lib/podctl, the built-in network podctl0 10.85.0.0/16).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-host.sh
npm run build --silent >/dev/null 2>&1
podctl() { bin/podctl "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say podctl runp examples/pod.json
POD=$(podctl runp examples/pod.json)
echo "$POD"
say podctl pods
podctl pods
say podctl inspectp -q "${POD:0:12}"
podctl inspectp -q "${POD:0:12}"
say podctl inspectp -o go-template --template '{{.status.network.ip}}' "$POD"
IP=$(podctl inspectp -o go-template --template '{{.status.network.ip}}' "$POD")
echo "$IP"
say ping -c 1 "$IP"
ping -c 1 -W 2 "$IP"
say podctl stopp "$POD"
podctl stopp "$POD"
say podctl rmp "$POD"
podctl rmp "$POD"
say podctl pods
podctl pods
