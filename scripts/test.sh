#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: host packages,
# npm ci, build, then unit and end-to-end tests (as root, on real runc and CNI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-host.sh
exec npm test --silent
