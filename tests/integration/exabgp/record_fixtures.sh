#!/usr/bin/env bash
# Record the JSON that the real ExaBGP 4.x emits to its API process, for the unit tests
# (tests/unit/test_exabgp.c) and the fuzz seed corpus. Needs root, exabgp, bird2.
#
# Two network namespaces: BIRD 2 as the customer router (contoso-private peering of
# configs/exchange-provider.json: 172.16.1.1/30 + 2001:db8:a1::1/126, AS 65520) and ExaBGP
# (172.16.1.2 + 2001:db8:a1::2, AS 12076) whose API process appends every line it gets to
# a file. Scenario, one fixture file per step (tests/fixtures/exabgp/):
#   01-up.jsonl          sessions come up; BIRD announces IPv4 and IPv6 prefixes; end-of-RIB
#   02-withdraw.jsonl    one IPv4 and one IPv6 static route disabled -> withdraws
#   03-reannounce.jsonl  a /30 (too specific for the policy) and a /25 announced
#   04-down.jsonl        BIRD stops -> both neighbors "down"
#   05-shutdown.jsonl    ExaBGP stops -> "notification": "shutdown"
# EXA_COMPACT=true records the same into *-compact.jsonl (ExaBGP's exabgp.api.compact).
# Usage: tests/integration/exabgp/record_fixtures.sh [OUTDIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../fixtures/exabgp}
mkdir -p "$out"
out=$(cd "$out" && pwd)
. "$here/lib.sh"
exa_need ip bird birdc exabgp || exit 2
[ "$(id -u)" = 0 ] || { echo "record_fixtures: needs root (network namespaces)" >&2; exit 2; }

NS_CUST=pfexa-rec-cust-$$ NS_PF=pfexa-rec-pf-$$
WORK=$(mktemp -d /tmp/pfexa-rec.XXXXXX)
chmod 755 "$WORK"
trap 'exa_cleanup; rm -rf "$WORK"' EXIT
suffix=
[ "${EXA_COMPACT:-false}" = true ] && suffix=-compact

rec="$WORK/rec.jsonl"
: > "$rec"
cat > "$WORK/recorder.sh" <<REC
#!/bin/sh
# ExaBGP's API process: append every line as received. Not "exec cat >> FILE": ExaBGP
# takes the end of its helper's stdout for the helper's death, so stdout stays open here.
cat >> "$rec"
REC
chmod 755 "$WORK/recorder.sh"

exa_netns_up || { echo "record_fixtures: netns setup failed" >&2; exit 1; }
exa_bird_start '
protocol static st4 { ipv4;
  route 198.51.100.0/24 unreachable;
  route 216.221.239.224/28 unreachable;
  route 10.99.0.0/16 unreachable;
  route 192.0.2.128/25 unreachable; }
protocol static st4wd { ipv4; route 203.0.113.0/24 unreachable; }
protocol static st6 { ipv6;
  route 2001:db8:1000::/48 unreachable;
  route 2001:db8:1001::/48 unreachable; }
protocol static st6wd { ipv6; route 2001:db8:1002::/48 unreachable; }
protocol static st4late { ipv4; disabled;
  route 198.51.100.4/30 unreachable;
  route 198.51.100.128/25 unreachable; }'
exa_exabgp_start "$WORK/recorder.sh"

lines() { wc -l < "$rec"; }
cut_at=0
snap() { # name: the lines since the last snapshot
  local n; n=$(lines)
  sed -n "$((cut_at + 1)),${n}p" "$rec" > "$out/$1$suffix.jsonl"
  echo "record_fixtures: $1$suffix.jsonl: $((n - cut_at)) lines"
  cut_at=$n
}
settle() { # wait until the file stops growing for 2 s (at most $1 s)
  local prev=-1 same=0 i
  for i in $(seq 1 $(( $1 * 5 ))); do
    local n; n=$(lines)
    if [ "$n" = "$prev" ]; then same=$((same + 1)); [ $same -ge 10 ] && return 0; else same=0; fi
    prev=$n; sleep 0.2
  done
}
have() { grep -q -- "$1" "$rec"; }

exa_wait_for 60 have '"eor": { "afi" : "ipv4"' || { echo "no IPv4 EOR" >&2; tail -20 "$WORK/exabgp.log" >&2; exit 1; }
exa_wait_for 30 have '"eor": { "afi" : "ipv6"' || { echo "no IPv6 EOR" >&2; exit 1; }
settle 10; snap 01-up

exa_birdc disable st4wd >/dev/null; exa_birdc disable st6wd >/dev/null
exa_wait_for 20 have '"withdraw"' || { echo "no withdraw" >&2; exit 1; }
settle 10; snap 02-withdraw

exa_birdc enable st4late >/dev/null
exa_wait_for 20 have '198.51.100.4/30' || { echo "no /30" >&2; exit 1; }
settle 10; snap 03-reannounce

exa_bird_stop
exa_wait_for 30 have '"state": "down"' || { echo "no down" >&2; exit 1; }
settle 10; snap 04-down

exa_exabgp_stop
snap 05-shutdown
echo "record_fixtures: ExaBGP $(exabgp --version 2>/dev/null | sed -n 's/^ExaBGP : //p'), $(bird --version 2>&1)"
