#!/usr/bin/env bash
# Installs the Debian tools that benchmarks, fixtures and end-to-end tests compare against.
# Usage: scripts/install-tools.sh [test|bench|all]   (default: all)
#   test  - what the test suite uses when present: tshark, softflowd, chromium, and what node-gyp builds the native
#           addons with at `npm ci` (g++, make, python3)
#   bench - adds the peers: python3-sklearn, python3-pandas, nfdump, tcpreplay, tcpdump
set -euo pipefail
set_name=${1:-all}
test_pkgs=(tshark softflowd chromium g++ make python3)
bench_pkgs=(python3-sklearn python3-pandas nfdump tcpreplay tcpdump wireshark-common)
case "$set_name" in
  test) pkgs=("${test_pkgs[@]}") ;;
  bench|all) pkgs=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [test|bench|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
