# Shared by record_fixtures.sh and run.sh: two network namespaces joined by a veth, BIRD 2
# (the customer router) in one and ExaBGP 4.x in the other, as in the exchange-provider
# example's contoso-private peering (172.16.1.0/30 and 2001:db8:a1::/126, the customer
# router on .1/::1, us on .2/::2, customer ASN 65520).
# Callers set: NS_CUST NS_PF WORK (a private temporary directory) and call exa_cleanup in
# their EXIT trap. Only namespaces and processes created here are touched (by name/PID).

CUST4=172.16.1.1 PF4=172.16.1.2 CUST6=2001:db8:a1::1 PF6=2001:db8:a1::2
CUST_ASN=65520 PF_ASN=12076
BIRD_PID= EXABGP_PID=

exa_need() { # commands...
  local m=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || m+=("$c"); done
  [ ${#m[@]} -eq 0 ] && return 0
  echo "missing: ${m[*]} (Debian packages: exabgp bird2 iproute2)" >&2
  return 1
}

exa_netns_up() {
  ip netns add "$NS_CUST" && ip netns add "$NS_PF" || return 1
  ip -n "$NS_CUST" link set lo up && ip -n "$NS_PF" link set lo up || return 1
  ip link add exa-c0 netns "$NS_CUST" type veth peer name exa-p0 netns "$NS_PF" || return 1
  ip -n "$NS_CUST" addr add $CUST4/30 dev exa-c0 &&
  ip -n "$NS_CUST" addr add $CUST6/126 dev exa-c0 nodad &&
  ip -n "$NS_PF" addr add $PF4/30 dev exa-p0 &&
  ip -n "$NS_PF" addr add $PF6/126 dev exa-p0 nodad &&
  ip -n "$NS_CUST" link set exa-c0 up && ip -n "$NS_PF" link set exa-p0 up || return 1
  # link-local addresses (BGP IPv6 next hops) need DAD to finish
  local i
  for i in $(seq 1 50); do
    ip -n "$NS_CUST" -6 addr show dev exa-c0 tentative | grep -q inet6 ||
      { ip -n "$NS_PF" -6 addr show dev exa-p0 tentative | grep -q inet6 || return 0; }
    sleep 0.1
  done
  return 0
}

# BIRD: the customer router. $1 = extra config appended (static protocols etc.)
exa_bird_start() {
  cat > "$WORK/bird.conf" <<BIRD
router id $CUST4;
log "$WORK/bird.log" all;
protocol device { }
$1
protocol bgp pf4 {
  local $CUST4 as $CUST_ASN;
  neighbor $PF4 as $PF_ASN;
  hold time 9; connect retry time 1; error wait time 1, 2;
  ipv4 { import none; export where source = RTS_STATIC; };
}
protocol bgp pf6 {
  local $CUST6 as $CUST_ASN;
  neighbor $PF6 as $PF_ASN;
  hold time 9; connect retry time 1; error wait time 1, 2;
  ipv6 { import none; export where source = RTS_STATIC; };
}
BIRD
  ip netns exec "$NS_CUST" bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" \
    -P "$WORK/bird.pid" >>"$WORK/bird.out" 2>&1 &
  BIRD_PID=$!
}

exa_birdc() { birdc -s "$WORK/bird.ctl" "$@"; }

exa_bird_stop() {
  [ -n "$BIRD_PID" ] || return 0
  kill "$BIRD_PID" 2>/dev/null
  local i
  for i in $(seq 1 50); do kill -0 "$BIRD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$BIRD_PID" 2>/dev/null
  wait "$BIRD_PID" 2>/dev/null
  BIRD_PID=
}

# ExaBGP: our side. $1 = the API process command line (run ...;)
exa_exabgp_start() {
  cat > "$WORK/exabgp.conf" <<EXA
process feed {
  run $1;
  encoder json;
}
template {
  neighbor customer {
    local-as $PF_ASN;
    peer-as $CUST_ASN;
    hold-time 9;
    # needed for peerfwd-exabgp's route-refresh requests after a peerfwd restart: ExaBGP
    # sends ROUTE-REFRESH only when it announced the capability itself
    capability { route-refresh; }
    api {
      processes [ feed ];
      neighbor-changes;
      receive { parsed; update; }
    }
  }
}
neighbor $CUST4 {
  inherit customer;
  router-id $PF4;
  local-address $PF4;
  family { ipv4 unicast; }
}
neighbor $CUST6 {
  inherit customer;
  router-id $PF4;
  local-address $PF6;
  family { ipv6 unicast; }
}
EXA
  # run as root (default drops to nobody), no CLI pipes, log to a file
  env exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.daemon.drop=false \
    exabgp.log.destination="$WORK/exabgp.log" exabgp.log.level=INFO \
    exabgp.api.compact="${EXA_COMPACT:-false}" \
    ip netns exec "$NS_PF" exabgp "$WORK/exabgp.conf" >>"$WORK/exabgp.out" 2>&1 &
  EXABGP_PID=$!
}

exa_exabgp_stop() {
  [ -n "$EXABGP_PID" ] || return 0
  kill -TERM "$EXABGP_PID" 2>/dev/null
  local i
  for i in $(seq 1 100); do kill -0 "$EXABGP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$EXABGP_PID" 2>/dev/null
  wait "$EXABGP_PID" 2>/dev/null
  EXABGP_PID=
}

# wait_for SECONDS command...: poll every 0.2 s until command succeeds
exa_wait_for() {
  local t=$1 i; shift
  for i in $(seq 1 $((t * 5))); do "$@" && return 0; sleep 0.2; done
  return 1
}

exa_cleanup() {
  exa_exabgp_stop
  exa_bird_stop
  ip netns del "$NS_CUST" 2>/dev/null
  ip netns del "$NS_PF" 2>/dev/null
  true
}
