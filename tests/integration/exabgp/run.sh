#!/usr/bin/env bash
# Integration test of the ExaBGP feed, end to end with real BGP daemons (run as root):
#
#   netns cust: BIRD 2, the customer router (contoso-private peering of
#               configs/exchange-provider.json: 172.16.1.1/30 + 2001:db8:a1::1/126, AS 65520)
#        | veth
#   netns pf:   ExaBGP 4.x (172.16.1.2 + 2001:db8:a1::2, AS 12076), API process
#               peerfwd-exabgp --socket S
#        | Unix socket S (a file path: namespaces do not matter)
#   root ns:    peerfwd on net_pcap devices with the example config plus
#               "feeds": {"exabgp": {"socket": S}}, "management": {"socket": M};
#               checked with peerctl --socket M routes contoso-private --json / counters
#
# Steps: BIRD announces IPv4 and IPv6 prefixes -> installed; one withdrawn -> gone; a /30
# (longer than the policy's /29) -> rejected (too_specific); BIRD stops (neighbor down) ->
# all gone; BIRD again -> back; ExaBGP stops (its process and connection go) -> all gone.
#
# Modes: "full" needs a peerfwd that serves the ExaBGP feed (the socket appears) and
# peerctl. If the feed socket never appears, the test falls back to "adapter" mode: the
# adapter thread alone (test_exabgp --serve S prints the route messages it would hand to
# the applier); checks that need the applier (policy rejection) are then skipped.
# EXA_MODE=full makes that fallback a failure; EXA_MODE=adapter forces adapter mode.
#
# Prints "N passed, M failed[, K skipped]" and exits non-zero on failure (2: cannot run).
# Env: BUILD (default build), PEERFWD, PEERCTL, EXA_PIPE, TEST_EXABGP (binaries, default
# under BUILD), NS_CUST/NS_PF (default cust/pf), EXA_DURATION (peerfwd --duration, 180).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

BUILD=${BUILD:-$root/build}
PEERFWD=${PEERFWD:-$BUILD/control/peerfwd}
PEERCTL=${PEERCTL:-$BUILD/control/peerctl}
EXA_PIPE=${EXA_PIPE:-$BUILD/control/peerfwd-exabgp}
TEST_EXABGP=${TEST_EXABGP:-$BUILD/tests/unit/test_exabgp}
NS_CUST=${NS_CUST:-cust}
NS_PF=${NS_PF:-pf}
EXA_MODE=${EXA_MODE:-auto}
EXA_DURATION=${EXA_DURATION:-180}

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)"; echo "0 passed, 1 failed"; exit 2; }
if ! exa_need ip bird birdc exabgp python3; then
  echo "run.sh: install them first: apt-get install -y exabgp bird2"
  echo "0 passed, 1 failed"; exit 2
fi
for b in "$EXA_PIPE" "$TEST_EXABGP"; do
  [ -x "$b" ] || { echo "run.sh: $b not built (meson/ninja in $BUILD)"; echo "0 passed, 1 failed"; exit 2; }
done
for ns in "$NS_CUST" "$NS_PF"; do
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    echo "run.sh: network namespace '$ns' already exists and is not ours; remove it" \
      "(ip netns del $ns) or set NS_CUST/NS_PF"
    echo "0 passed, 1 failed"; exit 2
  fi
done

WORK=$(mktemp -d /tmp/pfexa-it.XXXXXX)
chmod 755 "$WORK"
SOCK=$WORK/exabgp.sock MGMT=$WORK/mgmt.sock
PF_PID= SERVE_PID= mode=
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
sk() { skip=$((skip + 1)); echo "SKIP: $*"; }

stop_pid() { # pid [seconds]
  local p=$1 i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 1 $(( ${2:-5} * 10 ))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  true
}

cleanup() {
  exa_exabgp_stop
  exa_bird_stop
  stop_pid "$PF_PID"; PF_PID=
  stop_pid "$SERVE_PID"; SERVE_PID=
  ip netns del "$NS_CUST" 2>/dev/null
  ip netns del "$NS_PF" 2>/dev/null
  if ip netns list | awk '{print $1}' | grep -qxE "$NS_CUST|$NS_PF"; then
    echo "run.sh: WARNING: namespace left behind" >&2
  fi
  if [ -n "${KEEP:-}" ]; then echo "run.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- peerfwd (or the adapter alone) ---------------------------------------------------
python3 - "$root/configs/exchange-provider.json" "$WORK/peerfwd.json" "$SOCK" "$MGMT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["feeds"] = {"exabgp": {"socket": sys.argv[3]}}
c["management"] = {"socket": sys.argv[4]}
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
# an empty capture: the ports receive nothing, this test is about the control plane
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
  > "$WORK/empty.pcap"

start_peerfwd() {
  [ -x "$PEERFWD" ] || return 1
  "$PEERFWD" -l 0,1 --no-huge --no-shconf -m 512 --no-pci --file-prefix "pfexa$$" \
    --vdev "net_pcap_edge,rx_pcap=$WORK/empty.pcap,tx_pcap=$WORK/edge_out.pcap" \
    --vdev "net_pcap_core,rx_pcap=$WORK/empty.pcap,tx_pcap=$WORK/core_out.pcap" \
    -- --config "$WORK/peerfwd.json" --duration "$EXA_DURATION" \
    --stats-json "$WORK/stats.json" -q >"$WORK/peerfwd.log" 2>&1 &
  PF_PID=$!
  # the socket appears, or peerfwd ended (feed not configured/wired, or an error)
  exa_wait_for 30 eval 'test -S "$SOCK" || ! kill -0 $PF_PID 2>/dev/null'
  test -S "$SOCK"
}

start_serve() {
  "$TEST_EXABGP" --serve "$SOCK" --config "$WORK/peerfwd.json" --seconds "$EXA_DURATION" \
    >"$WORK/serve.out" 2>"$WORK/serve.log" &
  SERVE_PID=$!
  exa_wait_for 10 test -S "$SOCK"
}

if [ "$EXA_MODE" != adapter ] && start_peerfwd; then
  mode=full
  if [ -x "$PEERCTL" ] && exa_wait_for 10 test -S "$MGMT"; then
    ok "peerfwd serves the ExaBGP feed on $SOCK and management on $MGMT"
  else
    ko "peerfwd's management socket $MGMT or peerctl ($PEERCTL) missing"
    tail -20 "$WORK/peerfwd.log"
    echo "$pass passed, $fail failed"; exit 1
  fi
else
  if [ -n "$PF_PID" ]; then
    echo "run.sh: peerfwd did not open $SOCK in 30 s (feed not wired in this build?):"
    tail -5 "$WORK/peerfwd.log" | sed 's/^/  | /'
    stop_pid "$PF_PID"; PF_PID=
  fi
  if [ "$EXA_MODE" = full ]; then
    ko "EXA_MODE=full but peerfwd does not serve the ExaBGP feed"
    echo "$pass passed, $fail failed"; exit 1
  fi
  mode=adapter
  echo "run.sh: ADAPTER mode: the ExaBGP adapter alone (test_exabgp --serve), no applier"
  if start_serve; then ok "adapter listens on $SOCK"; else
    ko "adapter did not start"; cat "$WORK/serve.log"; echo "$pass passed, $fail failed"; exit 1
  fi
fi

# ---- what peerfwd holds ---------------------------------------------------------------
# routes of contoso-private, one "PREFIX SOURCE" per line
routes() {
  "$PEERCTL" --socket "$MGMT" --json routes contoso-private --limit 100000 2>/dev/null |
    python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
except Exception:
    sys.exit(1)
res = r.get("result", r) if isinstance(r, dict) else r
for x in (res.get("routes", []) if isinstance(res, dict) else []):
    print(x.get("prefix"), x.get("source"))'
}
# full: the route is there from ExaBGP; adapter: its last message for it is an ADD
installed() { # prefix
  if [ "$mode" = full ]; then
    routes | grep "^$1 exabgp" >/dev/null  # not -q: reading on spares python a broken pipe
  else
    last_msg "$1" | grep -q "^ADD "
  fi
}
absent() { # prefix
  if [ "$mode" = full ]; then
    local r; r=$(routes) || return 1
    ! grep -q "^$1 " <<<"$r"
  else
    local l; l=$(last_msg "$1")
    [ -z "$l" ] || grep -q "^DEL \|^PEER_DOWN " <<<"$l"
  fi
}
# adapter mode: the last message concerning prefix (ADD/DEL of it, or a PEER_DOWN of its
# neighbor after it)
last_msg() {
  python3 - "$WORK/serve.out" "$1" <<'PY'
import sys
pfx = sys.argv[2]
last = ""
peer = None
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) < 3:
        continue
    if w[0] in ("ADD", "DEL") and w[2] == pfx:
        last = line.strip()
        peer = [x for x in w if x.startswith("peer=")][0]
    elif w[0] == "PEER_DOWN" and peer and peer in w:
        last = line.strip()
print(last)
PY
}
counter() { # name: summed over every JSON object that has it (stats / counters)
  "$PEERCTL" --socket "$MGMT" --json counters 2>/dev/null | python3 -c '
import json, sys
name = sys.argv[1]
try:
    d = json.load(sys.stdin)
except Exception:
    print(-1); sys.exit()
tot = 0
def walk(o):
    global tot
    if isinstance(o, dict):
        for k, v in o.items():
            if k == name and isinstance(v, int):
                tot += v
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
print(tot)' "$1"
}

check() { # description, timeout, command...
  local d=$1 t=$2; shift 2
  if exa_wait_for "$t" "$@"; then ok "$d"; else ko "$d"; fi
}

# ---- BGP ------------------------------------------------------------------------------
if ! exa_netns_up; then
  ko "network namespaces $NS_CUST/$NS_PF"; echo "$pass passed, $fail failed"; exit 1
fi
BIRD_STATICS='
protocol static keep4 { ipv4;
  route 198.51.100.0/24 unreachable;
  route 10.200.0.0/16 unreachable; }
protocol static wd4 { ipv4; route 203.0.113.0/24 unreachable; }
protocol static keep6 { ipv6; route 2001:db8:2000::/48 unreachable; }
protocol static long4 { ipv4; disabled; route 198.51.100.4/30 unreachable; }'
exa_bird_start "$BIRD_STATICS"
exa_exabgp_start "$EXA_PIPE --socket $SOCK"

bgp_up() { exa_birdc show protocols 2>/dev/null | grep -E "^pf$1 " | grep -q Established; }
check "BGP sessions established (IPv4 and IPv6)" 60 eval 'bgp_up 4 && bgp_up 6'

all4() { installed 198.51.100.0/24 && installed 10.200.0.0/16 && installed 203.0.113.0/24; }
check "IPv4 prefixes from BIRD installed in contoso-private" 30 all4
check "IPv6 prefix 2001:db8:2000::/48 installed" 30 installed 2001:db8:2000::/48
if [ "$mode" = full ]; then
  # the route's "nexthop" object names the customer router somewhere
  nh=$("$PEERCTL" --socket "$MGMT" --json routes contoso-private --limit 100000 2>/dev/null |
    python3 -c '
import json, sys
r = json.load(sys.stdin)
res = r.get("result", r)
for x in res.get("routes", []):
    if x.get("prefix") == "198.51.100.0/24":
        print(json.dumps(x.get("nexthop")))' 2>/dev/null)
  grep -q '"172.16.1.1"' <<<"$nh" && ok "next hop is the customer router 172.16.1.1" ||
    ko "next hop is the customer router 172.16.1.1 (got: ${nh:-nothing})"
else
  grep -q "^ADD ctx=1 198.51.100.0/24 nh=172.16.1.1 peer=172.16.1.1$" "$WORK/serve.out" &&
    ok "next hop is the customer router 172.16.1.1" ||
    ko "next hop is the customer router 172.16.1.1"
fi

exa_birdc disable wd4 >/dev/null
check "withdrawn prefix 203.0.113.0/24 gone" 30 absent 203.0.113.0/24
installed 198.51.100.0/24 && ok "other prefixes stay" || ko "other prefixes stay"

exa_birdc enable long4 >/dev/null
if [ "$mode" = full ]; then
  check "a /30 (policy max /29) is rejected: too_specific counted" 30 \
    eval '[ "$(counter too_specific)" -ge 1 ]'
  absent 198.51.100.4/30 && ok "the /30 is not installed" || ko "the /30 is not installed"
else
  check "the /30 reaches the adapter" 30 grep -q "^ADD ctx=1 198.51.100.4/30 " "$WORK/serve.out"
  sk "too_specific rejection (applier's policy; needs peerfwd with the feed)"
fi

exa_bird_stop
gone_all() { absent 198.51.100.0/24 && absent 10.200.0.0/16 && absent 2001:db8:2000::/48; }
check "BIRD stopped (neighbor down): all its routes gone" 40 gone_all

exa_bird_start "$BIRD_STATICS"
check "BIRD back: routes installed again" 60 eval 'all4 && installed 2001:db8:2000::/48'
# peerfwd restarts: it starts empty; peerfwd-exabgp reconnects and asks ExaBGP for a
# ROUTE-REFRESH, and BIRD sends its routes again
if [ "$mode" = full ]; then
  stop_pid "$PF_PID" 20; PF_PID=
  start_peerfwd && exa_wait_for 10 test -S "$MGMT" || ko "peerfwd restarted"
else
  stop_pid "$SERVE_PID"; SERVE_PID=
  start_serve || ko "adapter restarted"
fi
check "peerfwd restarted: routes back (pipe reconnected, route refresh)" 40 \
  eval 'all4 && installed 2001:db8:2000::/48'
exa_exabgp_stop
check "ExaBGP stopped (connection closed): all its routes gone" 30 gone_all

# ---- counters ------------------------------------------------------------------------
if [ "$mode" = full ]; then
  bad=$("$PEERCTL" --socket "$MGMT" --json feeds 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = ["bad_json","bad_type","truncated","bad_version","unknown_family","bad_prefix",
         "host_bits","bad_nexthop","too_many_nexthops","unknown_neighbor","unsupported"]
t = 0
def walk(o):
    global t
    if isinstance(o, dict):
        for k, v in o.items():
            if k in names and isinstance(v, int): t += v
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(d); print(t)' 2>/dev/null)
  [ "${bad:-x}" = 0 ] && ok "no bad input counted by the feed" || ko "no bad input counted by the feed (got '${bad:-none}')"
  stop_pid "$PF_PID" 20; PF_PID=
  [ -s "$WORK/stats.json" ] && ok "peerfwd exited and wrote --stats-json" || ko "peerfwd wrote --stats-json"
else
  stop_pid "$SERVE_PID"; SERVE_PID=
  c=$(grep '^COUNTERS' "$WORK/serve.out")
  echo "  $c"
  if [ -n "$c" ] && ! grep -qE ' (bad_json|bad_type|truncated|bad_version|unknown_family|bad_prefix|host_bits|bad_nexthop|too_many_nexthops|unknown_neighbor|unsupported)=[1-9]' <<<"$c"; then
    ok "no bad input counted by the feed"
  else
    ko "no bad input counted by the feed"
  fi
fi

# ---- cleanup, checked -----------------------------------------------------------------
exa_cleanup
if ip netns list | awk '{print $1}' | grep -qxE "$NS_CUST|$NS_PF"; then
  ko "network namespaces removed"
else
  ok "network namespaces removed"
fi
[ "$fail" -gt 0 ] && { echo "--- logs kept in $WORK"; KEEP=1; tail -5 "$WORK"/*.log 2>/dev/null; }

echo "mode: $mode"
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
