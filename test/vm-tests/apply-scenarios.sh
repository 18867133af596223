#!/usr/bin/env bash
# Runs inside the IPVS VM (test/vm/run.sh): ipvsc apply against a real kernel.
# Prints TAP-like lines `ok N - name` / `not ok N - name` that apply.test.ts turns into tests.
set -u
source test/vm-tests/lib.sh
setup_node
FOREIGN_BEFORE=$(foreign_state)

# 1. Apply the reference example (LB + source ranges + the -m ipvs OUT-FILTER rule).
C=s00-reference-example-lb-source-ranges
check "apply $C exits 0" $IPVSC apply -f $G/$C/input $(flags $C) $EXCL
check "plan after apply shows no changes (detailed exit 0)" $IPVSC plan -f $G/$C/input $(flags $C) $EXCL --detailed-exitcode
out=$($IPVSC apply -f $G/$C/input $(flags $C) $EXCL 2>&1)
if echo "$out" | grep -q '^No changes'; then pass "second apply is idempotent (no changes, no mutating command)"; else fail "second apply is idempotent" "$out"; fi
if iptables-save | grep -q -- '-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4/32 -m ipvs'; then pass "OUT-FILTER -m ipvs rule is in the kernel"; else fail "OUT-FILTER rule loaded" "$(iptables-save | grep OUT-FILTER)"; fi
if [ "$(iptables-save -t nat | grep -c 'kubernetes service portals')" = 2 ]; then pass "jump rules present exactly once"; else fail "jump rules once" "$(iptables-save -t nat | grep portals)"; fi
check "VS 10.20.30.41:80 exists" sh -c "ipvsadm -Sn | grep -q -- '-A -t 10.20.30.41:80 -s rr'"
check "kube-ipvs0 holds the VIPs" sh -c "ip -o addr show dev kube-ipvs0 | grep -q 1.2.3.4/32"

# 2. A saved plan is refused once the node moved.
C2=s01-nodeport-ipv4-two-endpoints
$IPVSC plan -f $G/$C2/input $(flags $C2) $EXCL -out /tmp/p.json >/dev/null 2>&1
ipset add KUBE-CLUSTER-IP 10.99.99.99,tcp:99
$IPVSC apply /tmp/p.json >/tmp/stale.out 2>&1; rc=$?
if [ $rc = 1 ] && grep -q stale /tmp/stale.out; then pass "saved plan refused after the node changed"; else fail "stale saved plan refused (rc=$rc)" "$(cat /tmp/stale.out)"; fi
ipset del KUBE-CLUSTER-IP 10.99.99.99,tcp:99

# 3. Rollback: a scheduler the kernel lacks (twos is not in Debian 6.1) fails mid-apply.
BEFORE=$(owned_state)
$IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL --ipvs-scheduler=twos >/tmp/rb.out 2>&1; rc=$?
AFTER=$(owned_state)
if [ $rc = 3 ]; then pass "failing apply exits 3"; else fail "failing apply exits 3 (rc=$rc)" "$(tail -20 /tmp/rb.out)"; fi
if grep -q 'rollback: succeeded' /tmp/rb.out; then pass "rollback reported as succeeded"; else fail "rollback reported" "$(tail -20 /tmp/rb.out)"; fi
if [ "$BEFORE" = "$AFTER" ]; then pass "owned state after rollback equals the state before, byte for byte"; else fail "state restored" "$(echo "$BEFORE" > /tmp/b.txt; echo "$AFTER" > /tmp/a.txt; diff /tmp/b.txt /tmp/a.txt | head -20)"; fi

# 4. Apply another cluster over the first one (services replaced), then drift repair.
check "apply $C2 over $C exits 0" $IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL
check "old VS removed" sh -c "! ipvsadm -Sn | grep -q 1.2.3.4:80"
iptables -t nat -D KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
ipset add KUBE-CLUSTER-IP 10.66.66.66,tcp:66
out=$($IPVSC plan -f $G/$C2/input $(flags $C2) $EXCL --no-color 2>&1)
if echo "$out" | grep -q 'KUBE-SERVICES' && echo "$out" | grep -q '10.66.66.66'; then pass "plan shows hand-made drift"; else fail "plan shows drift" "$out"; fi
check "apply repairs drift" $IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL
check "plan after repair is empty" $IPVSC plan -f $G/$C2/input $(flags $C2) $EXCL --detailed-exitcode

# 5. Concurrency: two applies at once are serialised by the lock; both succeed.
C3=x01-dual-stack-nodeport
( $IPVSC apply -f $G/$C3/input $(flags $C3) $EXCL >/tmp/a1.out 2>&1; echo $? >/tmp/a1.rc ) &
( $IPVSC apply -f $G/$C3/input $(flags $C3) $EXCL >/tmp/a2.out 2>&1; echo $? >/tmp/a2.rc ) &
wait
if [ "$(cat /tmp/a1.rc)" = 0 ] && [ "$(cat /tmp/a2.rc)" = 0 ]; then pass "two concurrent applies both succeed"; else fail "concurrent applies" "$(cat /tmp/a1.out /tmp/a2.out | tail -20)"; fi
check "dual-stack state correct after concurrent applies" $IPVSC plan -f $G/$C3/input $(flags $C3) $EXCL --detailed-exitcode

# 6. A large apply (more than 16 virtual services touched) reads the IPVS table back through
# /proc/net/ip_vs, with HZ learned from a persistent (ClientIP) service; both reads must agree.
# A foreign fwmark service in both families (dual-stack keepalived): /proc/net/ip_vs does not say
# which is which, and the read-back must neither fail on it nor touch it.
node bench/gen-cluster.mjs --services 120 --endpoints 2 --nodes 3 --format yaml --out /tmp/big.yaml --seed 7 2>/dev/null
ipvsadm -A -f 77 -s rr && ipvsadm -A -f 77 -6 -s rr
IPVSC_TIMINGS=1 $IPVSC apply -f /tmp/big.yaml --hostname-override node-0 $EXCL >/tmp/big.out 2>&1; rc=$?
if [ $rc = 0 ] && grep -q 'run cat /proc/net/ip_vs' /tmp/big.out && grep -q 'run ipvsadm -Ln -t' /tmp/big.out && ! sed -n '/apply: step/,$p' /tmp/big.out | grep -q 'run ipvsadm -Ln ->'; then
  pass "large apply reads back through /proc/net/ip_vs (HZ from one service), not the ipvsadm dump"
else fail "large apply read back through /proc (rc=$rc)" "$(grep -E 'run (cat|ipvsadm)|error|!' /tmp/big.out | tail -20)"; fi
check "plan after the large apply is empty" $IPVSC plan -f /tmp/big.yaml --hostname-override node-0 $EXCL --detailed-exitcode
cat /proc/net/ip_vs >/tmp/proc.txt; ipvsadm -Sn >/tmp/save.txt
cmp_out=$(node -e '
const fs = require("fs");
Promise.all([import("./dist/state/proc-ip-vs.js"), import("./dist/state/parse-ipvsadm.js")]).then(([p, s]) => {
  const proc = fs.readFileSync("/tmp/proc.txt", "utf8");
  const strip = (vs) => JSON.stringify(vs.map((v) => ({ ...v, flags: [] })));
  const viaSave = s.parseIpvsadmSave(fs.readFileSync("/tmp/save.txt", "utf8")).filter((v) => v.fwmark === undefined);
  const first = p.firstPersistentService(proc);
  const persistent = viaSave.find((v) => (v.address.includes(":") ? `[${v.address}]` : v.address) + ":" + v.port === first.service);
  const hz = first.jiffies / persistent.timeout;
  const viaProc = s.parseIpvsadmSave(p.procIpVsToSave(proc, hz));
  console.log(viaProc.length > 100 && strip(viaProc) === strip(viaSave) ? `same ${viaProc.length} HZ ${hz}` : `differ ${viaProc.length} ${viaSave.length}`);
});' 2>&1)
case "$cmp_out" in same*) pass "/proc/net/ip_vs and ipvsadm -Sn read as the same table ($cmp_out)";; *) fail "/proc and ipvsadm -Sn agree" "$cmp_out";; esac
if [ "$(ipvsadm -Sn | grep -c -- '-A -f 77')" = 2 ]; then pass "the foreign fwmark services of both families are untouched"; else fail "fwmark services untouched" "$(ipvsadm -Sn | grep -- '-f 77')"; fi
ipvsadm -D -f 77 && ipvsadm -D -f 77 -6
check "apply $C2 back over the large cluster exits 0" $IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL

# 7. A chunked apply (4,000+ IPVS lines: 4 ipvsadm -R restores, addresses bound chunk by chunk,
# steps running alongside) that fails part-way rolls back exactly; then it applies cleanly.
node bench/gen-cluster.mjs --services 700 --endpoints 2 --nodes 3 --format yaml --out /tmp/chunked.yaml --seed 11 2>/dev/null
BEFORE=$(owned_state)
chunks=$($IPVSC apply -f /tmp/chunked.yaml --hostname-override node-0 $EXCL --dry-run 2>/dev/null | grep -c '^# [0-9]*\. ipvs: add and edit virtual and real servers (part ')
if [ "$chunks" -ge 2 ]; then pass "the 700-Service apply loads IPVS in $chunks chunks"; else fail "chunked IPVS load" "chunks=$chunks"; fi
for k in 5 7; do
  IPVSC_TEST_FAULT=fail-step=$k $IPVSC apply -f /tmp/chunked.yaml --hostname-override node-0 $EXCL >/tmp/chunk-fail.out 2>&1; rc=$?
  if [ $rc = 3 ] && grep -q 'rollback: succeeded' /tmp/chunk-fail.out && [ "$(owned_state)" = "$BEFORE" ]; then pass "chunked apply failing at mutating command $k rolls back exactly"
  else fail "chunked apply failing at command $k (rc=$rc)" "$(tail -8 /tmp/chunk-fail.out)" "$(echo "$BEFORE" > /tmp/b.txt; owned_state > /tmp/a.txt; diff /tmp/b.txt /tmp/a.txt | head -10)"; fi
done
check "the chunked apply then succeeds" $IPVSC apply -f /tmp/chunked.yaml --hostname-override node-0 $EXCL
check "plan after the chunked apply is empty" $IPVSC plan -f /tmp/chunked.yaml --hostname-override node-0 $EXCL --detailed-exitcode
check "apply $C2 back over the chunked cluster exits 0" $IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL

# 8. --refresh=changed: the last apply ($C2, full) was recorded; one endpoint changed and one
# Service added are planned from the changed keys alone (ipvsadm -Ln -t, ipset test, ip addr show
# to), and the node ends exactly where a full apply would take it. (`ip -o addr show` of all
# interfaces is read: -f compiles, and NodePort addresses come from the node's interfaces.)
if [ -f "$IPVSC_APPLIED_DIR/applied.json" ]; then pass "a successful apply is recorded"; else fail "apply recorded" "$(ls -la "$IPVSC_APPLIED_DIR" 2>&1)"; fi
mkdir -p /tmp/rc && cp $G/$C2/input/*.yaml /tmp/rc/
sed -i 's/10\.180\.0\.1$/10.180.0.2/' /tmp/rc/endpointslices.yaml
cat >> /tmp/rc/service.yaml <<'YAML'
---
apiVersion: v1
kind: Service
metadata: {namespace: ns1, name: added}
spec: {clusterIP: 10.20.30.42, ports: [{name: p80, port: 80, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {namespace: ns1, name: added-1, labels: {kubernetes.io/service-name: added}}
addressType: IPv4
endpoints: [{addresses: [10.180.0.3], conditions: {ready: true}, nodeName: test-node}]
ports: [{name: p80, port: 80, protocol: TCP}]
YAML
IPVSC_TIMINGS=1 $IPVSC apply -f /tmp/rc $(flags $C2) $EXCL --refresh=changed >/tmp/rc.out 2>&1; rc=$?
runs=$(grep -o 'run [a-z0-9-]* [^>]*->' /tmp/rc.out)
if [ $rc = 0 ] && grep -q 'Refreshed only what changed since the last apply' /tmp/rc.out && grep -q 'Apply complete' /tmp/rc.out \
   && echo "$runs" | grep -q 'run ipvsadm -Ln -t 10.20.30.41:80' && echo "$runs" | grep -q 'run ipset test KUBE-LOOP-BACK' \
   && echo "$runs" | grep -q 'run ip -o addr show dev kube-ipvs0 to ->' \
   && ! echo "$runs" | grep -qE 'run (ipvsadm -Ln|ipset save|iptables-save|ip6tables-save|ip -o addr show dev kube-ipvs0) ->'; then
  pass "apply --refresh=changed reads only the changed keys, one by one, and applies them"
else fail "apply --refresh=changed (rc=$rc)" "$(grep -vE '^\[timing\] .*(step|phase)' /tmp/rc.out | tail -25)"; fi
check "a full plan after the --refresh=changed apply shows no changes" $IPVSC plan -f /tmp/rc $(flags $C2) $EXCL --detailed-exitcode
ipvsadm -Sn | grep -q -- '-a -t 10.20.30.41:80 -r 10.180.0.2:80' && ! ipvsadm -Sn | grep -q -- '-r 10.180.0.1:80' && pass "the changed endpoint is the real server now" || fail "changed endpoint" "$(ipvsadm -Sn)"
# Drift where nothing changed is not read by --refresh=changed (documented), and a full refresh repairs it.
ipset add KUBE-CLUSTER-IP 10.66.66.66,tcp:66
out=$($IPVSC apply -f /tmp/rc $(flags $C2) $EXCL --refresh=changed 2>&1)
if echo "$out" | grep -q '^No changes' && ipset test KUBE-CLUSTER-IP 10.66.66.66,tcp:66 2>/dev/null; then pass "drift outside the changed keys is left to a full refresh"; else fail "drift outside changed keys" "$out"; fi
check "a full refresh repairs it" $IPVSC apply -f /tmp/rc $(flags $C2) $EXCL
if ! ipset test KUBE-CLUSTER-IP 10.66.66.66,tcp:66 2>/dev/null; then pass "the drifted entry is gone"; else fail "drift repaired"; fi
check "apply --refresh=changed back to $C2 exits 0" $IPVSC apply -f $G/$C2/input $(flags $C2) $EXCL --refresh=changed
check "a full plan after it shows no changes" $IPVSC plan -f $G/$C2/input $(flags $C2) $EXCL --detailed-exitcode
# A failed apply leaves no record: the next --refresh=changed reads the whole node.
$IPVSC apply -f /tmp/rc $(flags $C2) $EXCL --refresh=changed --ipvs-scheduler=twos >/tmp/rcf.out 2>&1; rc=$?
out=$($IPVSC plan -f /tmp/rc $(flags $C2) $EXCL --refresh=changed 2>&1)
if [ $rc = 3 ] && [ ! -f "$IPVSC_APPLIED_DIR/applied.json" ] && echo "$out" | grep -q 'no record of a successful apply'; then pass "a failed apply removes the record; the next plan reads the whole node"
else fail "record after a failed apply (rc=$rc)" "$(tail -5 /tmp/rcf.out)" "$out"; fi

# 8. Foreign state untouched by all of the above.
if [ "$(foreign_state)" = "$FOREIGN_BEFORE" ]; then pass "foreign chains, set and excluded VS are byte-identical"; else fail "foreign state untouched" "$(echo "$FOREIGN_BEFORE" > /tmp/fb.txt; foreign_state > /tmp/fa.txt; diff /tmp/fb.txt /tmp/fa.txt)"; fi
echo "1..$n"
