#!/bin/bash
# test/unit/state/capture-roundtrip.sh — regenerate the iptables round-trip fixtures used by
# parse-iptables.test.ts (needs root, ipset, iptables nft + legacy; no IPVS / xt_ipvs needed).
#
# For each golden case: in a throwaway network namespace, `ipset restore` the case's
# expected/ipset.restore, then `iptables-restore -w --noflush` its expected/iptables.restore
# (and ip6tables for expected/ip6tables.restore) with the `-m ipvs` lines removed (this host's
# kernel has no xt_ipvs; the captured VM fixtures cover those), then `iptables-save`.
#   roundtrip-<case>[-ip6][-legacy].restore   exactly what was loaded
#   roundtrip-<case>[-ip6][-legacy].save      what iptables-save printed afterwards
#
#   bash test/unit/state/capture-roundtrip.sh [case ...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$repo/test/fixtures/tool-output/iptables
mkdir -p "$out"
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(
  s00-variant-bridge-interface s00-variant-cluster-cidr s00-variant-interface-name-prefix
  s00-variant-masquerade-all s00-variant-masquerade-bit-13 s00-variant-node-ip-inside-source-range
  s05-nodeport-ipv4-sctp-etp-local s06-nodeport-ipv6-two-endpoints s12-external-ips
  s14-only-local-external-ips s16-only-local-nodeports s18-loadbalancer-source-ranges
  s20-only-local-loadbalancer x01-dual-stack-nodeport
)
for c in "${cases[@]}"; do
  exp=$repo/test/golden/cases/$c/expected
  for be in nft legacy; do
    for v in 4 6; do
      ipt=iptables sfx=
      [ $v = 6 ] && ipt=ip6tables sfx=-ip6
      [ -f "$exp/$ipt.restore" ] || continue
      [ $be = legacy ] && sfx=$sfx-legacy
      ns=ipvsc-rt-$$
      ip netns add $ns
      trap 'ip netns del '$ns' 2>/dev/null || true' EXIT
      ip netns exec $ns ipset restore -exist < "$exp/ipset.restore"
      grep -v -- ' -m ipvs ' "$exp/$ipt.restore" > "$out/roundtrip-$c$sfx.restore"
      ip netns exec $ns $ipt-$be-restore -w --noflush < "$out/roundtrip-$c$sfx.restore"
      ip netns exec $ns $ipt-$be-save > "$out/roundtrip-$c$sfx.save"
      ip netns del $ns
      trap - EXIT
    done
  done
  echo "captured $c"
done
