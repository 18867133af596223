#!/usr/bin/env bash
# Runs inside the IPVS VM (bash test/vm/run.sh bench/apply-in-vm.sh N): apply timings for issue #5.
# 1. the bare tools loading the compiled artifacts into an empty kernel (the floor);
# 2. a full ipvsc apply of the same cluster into an empty kernel;
# 3. an incremental apply (one endpoint changed) and one adding a Service, with their command counts.
set -u
source test/vm-tests/lib.sh
N=${1:-10000}
W=/tmp/bench; mkdir -p $W
ip link add backends type dummy && ip link set backends up
ip addr add 10.244.0.254/16 dev backends; ip addr add 10.128.0.254/9 dev backends
ip link add eth0 type dummy && ip addr add 192.168.0.10/24 dev eth0 && ip link set eth0 up
node bench/gen-cluster.mjs --services $N --endpoints 3 --nodes 3 --format json --out $W/c.json --seed 1 2>/dev/null
node bin/ipvsc.js compile -f $W/c.json --hostname-override node-0 -o $W/out 2>/dev/null
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

# 1. floor: the bare tools, in a fresh network namespace
ip netns add floor; ip -n floor link set lo up; ip -n floor link add d0 type dummy; ip -n floor link set d0 up
ip -n floor addr add 10.255.255.1/32 dev d0; ip -n floor route add default dev d0; ip -n floor -6 route add default dev d0
t0=$(now)
ip netns exec floor ipset restore -exist < $W/out/ipset.restore
ip netns exec floor ipvsadm -R < $W/out/ipvsadm.restore
ip netns exec floor iptables-restore -w --noflush < $W/out/iptables.restore
[ -f $W/out/ip6tables.restore ] && ip netns exec floor ip6tables-restore -w --noflush < $W/out/ip6tables.restore
t1=$(now); FLOOR=$(secs $t0 $t1)
ip netns del floor

# 2. full apply (compile included) into the empty root namespace, then the plan it leaves
t0=$(now); node bin/ipvsc.js apply --from $W/out --hostname-override node-0 >$W/full.out 2>&1; rc=$?; t1=$(now); FULL=$(secs $t0 $t1)
FULLSTEPS=$(grep -c '^- ' $W/full.out)

# 3. incremental: one endpoint changed; then one Service added
python3 - "$W/c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for it in d['items']:
    if it['kind'] == 'EndpointSlice' and it['addressType'] == 'IPv4' and it.get('endpoints'):
        it['endpoints'][0]['addresses'][0] = '10.244.255.77'; break
json.dump(d, open(sys.argv[1].replace('c.json', 'c1.json'), 'w'))
d['items'].append({'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'bench-added', 'namespace': 'default'},
  'spec': {'clusterIP': '10.111.222.33', 'ports': [{'name': 'http', 'port': 80, 'protocol': 'TCP'}]}})
json.dump(d, open(sys.argv[1].replace('c.json', 'c2.json'), 'w'))
PY
for step in c1 c2; do
  node bin/ipvsc.js compile -f $W/$step.json --hostname-override node-0 -o $W/out-$step 2>/dev/null
  t0=$(now); node bin/ipvsc.js apply --from $W/out-$step --hostname-override node-0 >$W/$step.out 2>&1; t1=$(now)
  echo "$step $(secs $t0 $t1) $(grep -c '^- ' $W/$step.out)" >> $W/incr.txt
done
node -e 'console.log(0)' >/dev/null; t0=$(now); node bin/ipvsc.js version >/dev/null; t1=$(now); NODE0=$(secs $t0 $t1)
echo "RESULT services=$N floor_s=$FLOOR full_apply_s=$FULL full_apply_steps=$FULLSTEPS full_rc=$rc node_start_s=$NODE0"
while read s t c; do echo "RESULT $s apply_s=$t mutating_steps=$c"; done < $W/incr.txt
