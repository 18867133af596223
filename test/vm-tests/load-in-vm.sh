#!/usr/bin/env bash
# Runs inside the IPVS VM: every golden case's expected artifacts, complete (ipvsadm.restore and the
# `-m ipvs` OUT-FILTER rules included), load into the real tools in a fresh network namespace.
set -u
source test/vm/modules.sh
vm_load_modules >/dev/null 2>&1 || true
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
n=0
for d in test/golden/cases/*/; do
  c=$(basename "$d"); e="$d/expected"; ns=load$n
  ip netns add $ns
  # IPVS refuses real servers it has no route to ("address not unicast"): give the namespace one.
  ip -n $ns link set lo up; ip -n $ns link add d0 type dummy; ip -n $ns link set d0 up
  ip -n $ns addr add 10.255.255.1/32 dev d0; ip -n $ns route add default dev d0; ip -n $ns -6 route add default dev d0 2>/dev/null
  err=""
  out=$(ip netns exec $ns ipset restore -exist < $e/ipset.restore 2>&1) || err="ipset: $out"
  [ -z "$err" ] && { out=$(ip netns exec $ns iptables-restore -w --noflush < $e/iptables.restore 2>&1) || err="iptables: $out"; }
  [ -z "$err" ] && [ -f $e/ip6tables.restore ] && { out=$(ip netns exec $ns ip6tables-restore -w --noflush < $e/ip6tables.restore 2>&1) || err="ip6tables: $out"; }
  if [ -z "$err" ]; then
    out=$(ip netns exec $ns ipvsadm -R < $e/ipvsadm.restore 2>&1); rc=$?
    # ipvsadm -R exits 0 when the kernel refuses a line: stderr is the signal.
    [ $rc != 0 ] || [ -n "$out" ] && err="ipvsadm -R (exit $rc): $out"
  fi
  if [ -z "$err" ]; then
    want=$(grep -cE '^-[Aa] ' $e/ipvsadm.restore)
    have=$(ip netns exec $ns ipvsadm -Sn | grep -cE '^-[Aa] ')
    [ "$want" = "$have" ] || err="ipvsadm: $want lines written, $have in the kernel"
  fi
  n=$((n+1))
  if [ -z "$err" ]; then echo "ok $n - kernel loads every artifact of $c"; else echo "not ok $n - kernel loads every artifact of $c"; echo "#   $err" | head -5; fi
  ip netns del $ns
done
echo "1..$n"
