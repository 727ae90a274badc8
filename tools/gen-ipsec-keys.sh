#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Key files for configs/exchange-provider-ipsec.json: random AES-GCM keys + salts (RFC 4106)
# in configs/keys/, mode 0600, hex. Existing files are kept (rerun-safe); -f replaces them.
# Both ends of a tunnel need the same keys: copy them to the cloud side securely.
set -eu
dir=$(cd "$(dirname "$0")/.." && pwd)/configs/keys
force=${1:-}
umask 077
mkdir -p "$dir"
gen() { # file bytes
	if [ -f "$dir/$1" ] && [ "$force" != "-f" ]; then
		chmod 600 "$dir/$1"
		return
	fi
	{ echo "# $3: key || 4-byte salt (RFC 4106), $2 bytes, generated $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	  od -An -tx1 -N"$2" /dev/urandom | tr -d ' \n'; echo; } >"$dir/$1.tmp"
	chmod 600 "$dir/$1.tmp"
	mv "$dir/$1.tmp" "$dir/$1"
}
gen contoso-out.key 20 aes-gcm-128
gen contoso-in.key 36 aes-gcm-256
gen fabrikam-out.key 36 aes-gcm-256
gen fabrikam-in.key 36 aes-gcm-256
echo "keys in $dir (mode 0600)"
