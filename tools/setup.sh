#!/usr/bin/env bash
# Install what peerfwd needs to build, run its demo and pass its tests (Debian 12, as root).
# Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libdpdk-dev dpdk dpdk-doc
  libjansson-dev libcunit1-dev libpcap-dev libbpf-dev
  python3 python3-scapy python3-cryptography tshark
  librte-crypto-ipsec-mb23 librte-crypto-openssl23 libipsec-mb1
  iproute2 exabgp bird2 frr
  dpdk-dev make libbsd-dev python3-matplotlib valgrind
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the default (no) is fine
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"
