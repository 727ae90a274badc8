#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Record tests/fixtures/fpm/*.bin from a REAL FRR zebra (dplane_fpm_nl): zebra + staticd run
# in a private network namespace and send their FPM stream to fpm_dump.py, which cuts it
# into phases. Needs root and FRR (apt-get install frr); daemons run as user frr.
#
#   tests/integration/fpm/record_fixtures.sh [OUTDIR]     (default tests/fixtures/fpm)
#
# Phases (one file each, decoded listing next to it as .txt):
#   dump_nhg.bin   first connection, FRR 8.4's default `fpm use-next-hop-groups`: RTM_NEWNEXTHOP
#                  objects and routes carrying only RTA_NH_ID (what peerfwd must refuse)
#   dump.bin       after `no fpm use-next-hop-groups`: zebra reconnects and resends its whole
#                  RIB with next hops inline (RTA_GATEWAY/RTA_OIF, RTA_MULTIPATH)
#   changes.bin    incremental updates on that connection: deletes, an ECMP route losing a
#                  member (zebra sends DELROUTE+NEWROUTE in one FPM frame), additions, and
#                  the table 10 / 1000 routes (zebra's reconnect dump walks each VRF's own
#                  table only, so routes in extra tables of the default VRF - staticd's
#                  `table N` - appear only as updates; a real VRF's table is in the dump)
# Routes: main table (254) and tables 10 and 1000 (>= 256 travels in RTA_TABLE), IPv4 and
# IPv6, 2-way ECMP in each, a 9-way ECMP route (> PF_RT_MAX_NH), blackhole and reject.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$SRC/tests/fixtures/fpm}
NS=pffpm-rec-$$
TMP=$(mktemp -d /tmp/pffpm-rec.XXXXXX)
PS=pffpm-rec-$$          # FRR pathspace: /var/run/frr/$PS, keeps us off any other FRR
FRRBIN=/usr/lib/frr
PY=/usr/bin/python3      # not a wrapper script: signals must reach fpm_dump.py itself
PIDS=()

[ "$(id -u)" = 0 ] || { echo "record_fixtures.sh: needs root" >&2; exit 2; }
[ -x $FRRBIN/zebra ] || { echo "record_fixtures.sh: FRR not installed (apt-get install frr)" >&2; exit 2; }

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "/var/run/frr/$PS" "$TMP"
}
trap cleanup EXIT

# background jobs are started with `ip netns exec` directly (not through this function) so
# that $! is the daemon itself (ip execs it), which cleanup can kill
nsx() { ip netns exec "$NS" "$@"; }
vty() { nsx vtysh -N "$PS" --config_dir "$TMP" "$@"; }

ip netns add "$NS"
nsx ip link set lo up
# three links with nobody behind them: next hops only need a connected route
for l in 1 2 9; do
	nsx ip link add v${l}a type veth peer name v${l}b
	nsx ip link set v${l}a up
	nsx ip link set v${l}b up
done
nsx ip addr add 172.16.1.2/30 dev v1a
nsx ip addr add 2001:db8:a1::2/126 dev v1a nodad
nsx ip addr add 172.16.2.2/30 dev v2a
nsx ip addr add 2001:db8:a2::2/126 dev v2a nodad
nsx ip addr add 10.9.0.254/24 dev v9a

mkdir -p "/var/run/frr/$PS" "$TMP/dump"
chown frr:frr "/var/run/frr/$PS"
chmod 755 "$TMP"
mkdir -p "$TMP/$PS"
touch "$TMP/$PS/vtysh.conf"
cat >"$TMP/zebra.conf" <<EOF
hostname rec
fpm address 127.0.0.1 port 2620
EOF
{
	echo "hostname rec"
	echo "ip route 203.0.113.0/24 172.16.1.1"
	echo "ip route 198.51.100.0/24 172.16.1.1"
	echo "ip route 198.51.100.0/24 172.16.2.1"
	echo "ipv6 route 2001:db8:1000::/48 2001:db8:a1::1"
	echo "ipv6 route 2001:db8:2000::/48 2001:db8:a1::1"
	echo "ipv6 route 2001:db8:2000::/48 2001:db8:a2::1"
	echo "ip route 192.0.2.128/25 blackhole"
	echo "ip route 192.0.2.64/26 reject"
	for i in 1 2 3 4 5 6 7 8 9; do echo "ip route 100.64.9.0/24 10.9.0.$i"; done
	echo "ip route 10.1.0.0/16 172.16.1.1 table 10"
	echo "ip route 10.1.0.0/16 172.16.2.1 table 10"
	echo "ip route 0.0.0.0/0 172.16.1.1 table 10"
	echo "ipv6 route fd00:1::/48 2001:db8:a1::1 table 10"
	echo "ipv6 route fd00:1::/48 2001:db8:a2::1 table 10"
	echo "ip route 10.2.0.0/16 172.16.1.1 table 1000"
	echo "ipv6 route fd00:2::/48 2001:db8:a1::1 table 1000"
} >"$TMP/staticd.conf"
chmod 644 "$TMP"/*.conf

ip netns exec "$NS" $PY "$HERE/fpm_dump.py" --listen 127.0.0.1:2620 --outdir "$TMP/dump" \
	--max-seconds 120 >"$TMP/dump.log" 2>&1 &
DUMP=$!
PIDS+=("$DUMP")
sleep 0.5
ip netns exec "$NS" $FRRBIN/zebra -N "$PS" -M dplane_fpm_nl -f "$TMP/zebra.conf" -P 0 -u frr -g frr \
	-i "/var/run/frr/$PS/zebra.pid" --log "file:$TMP/zebra.log" >/dev/null 2>&1 &
PIDS+=("$!")
disown "$!"
for _ in $(seq 50); do [ -S "/var/run/frr/$PS/zserv.api" ] && break; sleep 0.1; done
ip netns exec "$NS" $FRRBIN/staticd -N "$PS" -f "$TMP/staticd.conf" -P 0 -u frr -g frr \
	-i "/var/run/frr/$PS/staticd.pid" --log "file:$TMP/staticd.log" >/dev/null 2>&1 &
PIDS+=("$!")
disown "$!"

# wait until the 9-way route is in zebra's RIB and FPM has connected (3 s timer)
wait_grep() { # timeout_s pattern command...
	local t=$1 pat=$2; shift 2
	for _ in $(seq $((t * 10))); do "$@" 2>/dev/null | grep -q -- "$pat" && return 0; sleep 0.1; done
	echo "record_fixtures.sh: timed out waiting for '$pat' in: $*" >&2
	return 1
}
wait_grep 20 "100.64.9.0/24" vty -c "show ip route"
wait_grep 20 "connection 1" cat "$TMP/dump.log"
sleep 4
vty -c "show fpm counters" || true
echo "== switching next-hop groups off (zebra reconnects and resends everything)"
vty -c "configure terminal" -c "no fpm use-next-hop-groups"
wait_grep 20 "connection 2" cat "$TMP/dump.log"
sleep 5
echo "== changes"
touch "$TMP/dump/rotate"
for _ in $(seq 50); do [ -e "$TMP/dump/rotate" ] || break; sleep 0.1; done
vty -c "configure terminal" -c "no ip route 203.0.113.0/24 172.16.1.1"
sleep 0.5
vty -c "configure terminal" -c "no ip route 198.51.100.0/24 172.16.2.1"
sleep 0.5
vty -c "configure terminal" -c "no ipv6 route 2001:db8:1000::/48 2001:db8:a1::1"
sleep 0.5
vty -c "configure terminal" -c "ip route 203.0.113.0/25 172.16.2.1"
sleep 0.5
vty -c "configure terminal" -c "no ip route 10.1.0.0/16 172.16.1.1 table 10"
sleep 0.5
vty -c "configure terminal" -c "no ip route 10.2.0.0/16 172.16.1.1 table 1000"
sleep 0.5
# tables other than the main one are not part of zebra's reconnect dump (only each VRF's
# own table is walked), so their ECMP and IPv6 cases are recorded here as updates
vty -c "configure terminal" -c "ip route 10.3.0.0/16 172.16.1.1 table 10"
sleep 0.5
vty -c "configure terminal" -c "ip route 10.3.0.0/16 172.16.2.1 table 10"
sleep 0.5
vty -c "configure terminal" -c "ip route 0.0.0.0/0 172.16.2.1 table 10"
sleep 0.5
vty -c "configure terminal" -c "ipv6 route fd00:3::/48 2001:db8:a1::1 table 1000"
sleep 0.5
vty -c "configure terminal" -c "ipv6 route fd00:3::/48 2001:db8:a2::1 table 1000"
sleep 0.5
vty -c "configure terminal" -c "ip route 10.4.0.0/16 blackhole table 10"
sleep 2
vty -c "show running-config" >"$TMP/running.txt" || true
kill "$DUMP"
for _ in $(seq 50); do kill -0 "$DUMP" 2>/dev/null || break; sleep 0.1; done
cat "$TMP/dump.log"
cat "$TMP/dump/index.txt"

mkdir -p "$OUT"
cp "$TMP/dump/seg00.bin" "$OUT/dump_nhg.bin"
cp "$TMP/dump/seg01.bin" "$OUT/dump.bin"
cp "$TMP/dump/seg02.bin" "$OUT/changes.bin"
for f in dump_nhg dump changes; do
	$PY "$HERE/fpm_decode.py" "$OUT/$f.bin" | sed "s|$OUT/||" >"$OUT/$f.txt"
done
{
	echo "# recorded $(date -u +%Y-%m-%dT%H:%M:%SZ) by tests/integration/fpm/record_fixtures.sh"
	echo "# $($FRRBIN/zebra --version 2>&1 | head -1), kernel $(uname -r)"
} >"$OUT/RECORDED.txt"
echo "recorded into $OUT:"
ls -l "$OUT"
