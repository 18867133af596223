#!/usr/bin/env bash
# Runs inside the IPVS VM (bash test/vm/run.sh bench/apply-in-vm.sh N): apply timings for issue #5.
# 1. the bare tools loading the compiled artifacts into an empty kernel (the floor);
# 2. a full ipvsc apply of the same cluster into an empty kernel;
# 3. incremental applies with --refresh=changed (the keys changed since the recorded last apply):
#    one endpoint changed (c1), then one Service added (c2); then c0f: back to the first cluster
#    with the default full refresh (the whole node read), for comparison; with their command counts.
#
# The VM's root file system is the host's, shared over 9p: every file access is a round trip under
# TCG, which no real node pays. Two of them dominate unless moved to the VM's tmpfs first (both
# the floor and the applies run after this): ipset resolves every `tcp:80` of a save or restore
# with getprotobyname/getprotobynumber, re-reading /etc/protocols each time (21 s instead of 1.7 s
# for `ipset save` at 1k Services), and node loads ~210 module files per start (~10 s). So
# /etc/protocols is bind-mounted from a tmpfs copy and ipvsc runs from a copy of its runtime on
# tmpfs (bench/copy-runtime.mjs), as installed on a node's disk. BENCH_ON_9P=1 skips both.
# IPVSC_TREE=DIR times another checkout (built, with node_modules), e.g. an older commit.
# BENCH_FULL_ONLY=1 stops after the floor and the full apply (to compare builds quickly).
set -u
source test/vm-tests/lib.sh
N=${1:-10000}
W=/tmp/bench; mkdir -p $W
TREE=${IPVSC_TREE:-.}
if [ -z "${BENCH_ON_9P:-}" ]; then
  cp /etc/protocols $W/protocols && mount --bind $W/protocols /etc/protocols
  node bench/copy-runtime.mjs "$TREE" $W/ipvsc
  TREE=$W/ipvsc
fi
IPVSC="node $TREE/bin/ipvsc.js"
export IPVSC_APPLIED_DIR=$W/applied   # the record of the last apply (/ is read-only in the VM)
echo "# ipvsc ${IPVSC_LABEL:-$(git rev-parse --short HEAD 2>/dev/null)} from $TREE; /etc/protocols on $(stat -f -c %T /etc/protocols)"
ip link add backends type dummy && ip link set backends up
ip addr add 10.244.0.254/16 dev backends; ip addr add 10.128.0.254/9 dev backends
ip link add eth0 type dummy && ip addr add 192.168.0.10/24 dev eth0 && ip link set eth0 up
node bench/gen-cluster.mjs --services $N --endpoints 3 --nodes 3 --format json --out $W/c.json --seed 1 2>/dev/null
$IPVSC compile -f $W/c.json --hostname-override node-0 -o $W/out 2>/dev/null
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
# Not in the floor above (issue #5's definition), but part of any full apply, kube-proxy's too:
# binding every Service address to kube-ipvs0 (one `ip -batch`, as ipvsc does).
node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const a of m.kubeIpvs0) console.log(`addr add ${a} dev kube-ipvs0`)' $W/out/manifest.json > $W/addrs.batch
ip -n floor link add kube-ipvs0 type dummy
t0=$(now); ip -n floor -batch $W/addrs.batch; t1=$(now); ADDRS=$(secs $t0 $t1)
ip netns del floor

# 2. full apply of the compiled artifacts (--from: no compile) into the empty root namespace
export IPVSC_TIMINGS=1   # per-phase durations on stderr ([timing] lines), copied to $VM_RESULTS
t0=$(now); $IPVSC apply --from $W/out --hostname-override node-0 >$W/full.out 2>&1; rc=$?; t1=$(now); FULL=$(secs $t0 $t1)
FULLSTEPS=$(grep -c '^- ' $W/full.out)

if [ -n "${BENCH_FULL_ONLY:-}" ]; then
  echo "RESULT services=$N floor_s=$FLOOR full_apply_s=$FULL full_apply_steps=$FULLSTEPS full_rc=$rc"
  grep -E '^\[timing\]' $W/full.out
  exit 0
fi

# 3. incremental: one endpoint changed (one that really is a real server of node-0: taken from the
# compiled ipvsadm.restore, so the plan has changes); then one Service added.
RS=$(grep -m1 -E '^-a -[tu] [0-9.]+:[0-9]+ -r 10\.' $W/out/ipvsadm.restore | sed -E 's/.* -r ([0-9.]+):[0-9]+ .*/\1/')
python3 - "$W/c.json" "$RS" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); rs = sys.argv[2]
used = {a for it in d['items'] if it['kind'] == 'EndpointSlice' for e in it.get('endpoints') or [] for a in e['addresses']}
new = next(f'10.244.255.{i}' for i in range(2, 254) if f'10.244.255.{i}' not in used)
hits = 0
for it in d['items']:
    if it['kind'] == 'EndpointSlice':
        for e in it.get('endpoints') or []:
            if e['addresses'][0] == rs:
                e['addresses'][0] = new; hits += 1
print(f'c1: endpoint {rs} -> {new} in {hits} slice endpoint(s)', file=sys.stderr)
json.dump(d, open(sys.argv[1].replace('c.json', 'c1.json'), 'w'))
# c2 = c1 plus one Service (applied after c1: only the Service is new)
d['items'].append({'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'bench-added', 'namespace': 'default'},
  'spec': {'clusterIP': '10.111.222.33', 'ports': [{'name': 'http', 'port': 80, 'protocol': 'TCP'}]}})
json.dump(d, open(sys.argv[1].replace('c.json', 'c2.json'), 'w'))
PY
cp -r $W/out $W/out-c0f; PREV=out
for step in c1 c2 c0f; do
  [ $step = c0f ] && REFRESH=full || REFRESH=changed
  [ $step = c0f ] || $IPVSC compile -f $W/$step.json --hostname-override node-0 -o $W/out-$step 2>/dev/null
  # The change must reach the artifacts (else the apply has nothing to do).
  d=$(cat $W/$PREV/*.restore | sort >$W/a.txt; cat $W/out-$step/*.restore | sort >$W/b.txt; comm -3 $W/a.txt $W/b.txt | wc -l); PREV=out-$step
  t0=$(now); $IPVSC apply --from $W/out-$step --hostname-override node-0 --refresh=$REFRESH >$W/$step.out 2>&1; rcs=$?; t1=$(now)
  plan=$(grep -m1 -E '^(Plan:|No changes)' $W/$step.out | tr ' ' '_')
  echo "$step $(secs $t0 $t1) $(grep -c "^- " $W/$step.out) $rcs $d $plan refresh=$REFRESH" >> $W/incr.txt
done
node -e 'console.log(0)' >/dev/null; t0=$(now); $IPVSC version >/dev/null; t1=$(now); NODE0=$(secs $t0 $t1)
echo "RESULT services=$N floor_s=$FLOOR full_apply_s=$FULL full_apply_steps=$FULLSTEPS full_rc=$rc node_start_s=$NODE0 kube_ipvs0_addrs_s=$ADDRS ($(wc -l < $W/addrs.batch) addresses, not in the floor)"
while read s t c r d p f; do echo "RESULT $s apply_s=$t mutating_steps=$c rc=$r artifact_lines_changed=$d plan=$p $f"; done < $W/incr.txt
# After them all, a full plan must find the node exactly at the first cluster.
$IPVSC plan --from $W/out --hostname-override node-0 --detailed-exitcode >/dev/null 2>&1; echo "RESULT final_full_plan_exit=$? (0: no changes)"
for f in full c1 c2 c0f; do echo "== $f"; grep -E '^(\[timing\]|Refreshed|--refresh)' $W/$f.out; done
[ -n "${VM_RESULTS:-}" ] && cp $W/full.out $W/c1.out $W/c2.out $W/c0f.out "$VM_RESULTS/" 2>/dev/null
exit 0
