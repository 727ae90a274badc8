#!/usr/bin/env bash
# The demo: peerfwd on configs/exchange-provider.json with pcap virtual devices.
# Generated customer and cloud traffic goes in, the forwarder prints its per-context and
# per-customer counters, and tshark shows what left each port.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh build
out=${DEMO_OUT:-build/demo}
mkdir -p "$out"
/usr/bin/python3 tools/demo_traffic.py "$out"
echo "== peerfwd on configs/exchange-provider.json (edge: $out/edge_in.pcap, core: $out/core_in.pcap)"
timeout 120 build/control/peerfwd -l 0,1 --no-huge --no-shconf -m 512 --no-pci \
  --log-level='*:warning' \
  --vdev "net_pcap_edge,rx_pcap=$out/edge_in.pcap,tx_pcap=$out/edge_out.pcap" \
  --vdev "net_pcap_core,rx_pcap=$out/core_in.pcap,tx_pcap=$out/core_out.pcap" \
  -- --config configs/exchange-provider.json --idle-exit 500 --stats-json "$out/stats.json"
for p in edge core; do
  echo
  echo "== what left the $p port ($out/${p}_out.pcap), decoded by tshark (first 15 frames)"
  # -c rather than "| head": with pipefail, tshark writing into a pipe head has closed
  # fails the demo (exit 2) depending on timing
  tshark -r "$out/${p}_out.pcap" -c 15 -T fields -E header=y -e frame.number -e vlan.id \
    -e gre.key -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e _ws.col.Protocol -e _ws.col.Info \
    2>/dev/null
done
echo
echo "counters as JSON: $out/stats.json"
