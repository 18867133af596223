#!/bin/sh
# Rebuilds the tool-output files of a plan case's live/ from REAL tools (run as root from the repo
# root, after `npm run build`):   sh test/golden/plans/make-live.sh test/golden/plans/<case>
#
# <case>/live-src/*.yaml + live-src/flags: the cluster the node was last synced to. It is compiled,
# and its artifacts are loaded in a throwaway network namespace exactly as apply would:
#   live-src/pre.sh   (optional) foreign state created first (Docker rules, foreign sets)
#   ipset restore -exist < ipset.restore; iptables-restore -w --noflush < iptables.restore (+ ip6)
#   ip link add kube-ipvs0 type dummy; ip addr add <manifest kubeIpvs0> dev kube-ipvs0
#   live-src/drift.sh (optional) hand changes made afterwards with real commands
# then `ipset save`, `iptables-save`, `ip6tables-save`, `ip -o addr show dev kube-ipvs0` are
# written to live/. The host has no IPVS: live/ipvsadm.save (ipvsadm -Sn), live/ipvsadm.list
# (ipvsadm -Ln), live/sysctl.txt and live/node.json are written by hand and left alone here.
set -eu
case=${1%/}
src=$case/live-src
live=$case/live
out=$(mktemp -d)
ns=ipvsc-plan-golden-$$
mkdir -p "$live"
# shellcheck disable=SC2046
node bin/ipvsc.js compile -f "$src" $(grep -v '^#' "$src/flags" 2>/dev/null || true) -o "$out" >/dev/null 2>&1
ip netns add "$ns"
trap 'ip netns del "$ns"; rm -rf "$out"' EXIT
x() { ip netns exec "$ns" "$@"; }
[ -f "$src/pre.sh" ] && x sh -eu "$src/pre.sh"
x ipset restore -exist < "$out/ipset.restore"
x iptables-restore -w --noflush < "$out/iptables.restore"
[ -f "$out/ip6tables.restore" ] && x ip6tables-restore -w --noflush < "$out/ip6tables.restore"
# kube-ipvs0 is a dummy link; a host without the dummy module gets a bridge (same `ip -o addr` text)
x ip link add kube-ipvs0 type dummy 2>/dev/null || x ip link add kube-ipvs0 type bridge
for a in $(jq -r '.kubeIpvs0[]' "$out/manifest.json"); do x ip addr add "$a" dev kube-ipvs0; done
[ -f "$src/drift.sh" ] && x sh -eu "$src/drift.sh"
x ipset save > "$live/ipset.save"
x iptables-save > "$live/iptables.save"
x ip6tables-save > "$live/ip6tables.save"
x ip -o addr show dev kube-ipvs0 > "$live/kube-ipvs0.addr"
echo "compiled ipvsadm.restore of live-src (for writing live/ipvsadm.save by hand):" >&2
cat "$out/ipvsadm.restore" >&2
