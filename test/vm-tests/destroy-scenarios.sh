#!/usr/bin/env bash
# Runs inside the IPVS VM (test/vm/run.sh): ipvsc apply --destroy against a real kernel.
# kube-proxy --cleanup flushes all of IPVS and deletes kube-ipvs0; --destroy removes what ipvsc
# owns and keeps the rest: foreign chains, rules and sets, the services and kube-ipvs0 addresses
# inside --ipvs-exclude-cidrs, fwmark services. Prints TAP-like lines for destroy.test.ts.
set -u
source test/vm-tests/lib.sh
setup_node
FOREIGN_BEFORE=$(foreign_state)
C=x01-dual-stack-nodeport
# keepalived-like foreign state that --destroy must keep: a fwmark service, and the excluded VIP
# bound on kube-ipvs0 (once the apply has created the link).
ipvsadm -A -f 78 -s rr
check "apply $C (dual-stack) exits 0" $IPVSC apply -f $G/$C/input $(flags $C) $EXCL
ip addr add 192.168.100.10/32 dev kube-ipvs0
owned_before=$(owned_state)

# 1. A saved destroy plan, reviewed and then applied.
$IPVSC plan --destroy $(flags $C) $EXCL --no-color -out /tmp/destroy.json >/tmp/d-plan.out 2>/tmp/d-plan.err; rc=$?
if [ $rc = 0 ] && grep -qE '^Plan: 0 to add, 0 to change, [0-9]+ to destroy\.' /tmp/d-plan.out && ! grep -qE '192\.168\.100\.|DOCKER|foreign-allow|link kube-ipvs0' /tmp/d-plan.out; then
  pass "plan --destroy lists owned state only, and keeps the link that holds an excluded address"
else fail "plan --destroy (rc=$rc)" "$(grep -E "192\.168\.100\.|DOCKER|foreign-allow|link kube-ipvs0" /tmp/d-plan.out)" "$(tail -3 /tmp/d-plan.out /tmp/d-plan.err)"; fi
$IPVSC apply /tmp/destroy.json >/tmp/d-apply.out 2>&1; rc=$?
if [ $rc = 0 ] && grep -q 'Apply complete' /tmp/d-apply.out; then pass "apply of the saved destroy plan exits 0"; else fail "apply destroy plan (rc=$rc)" "$(tail -20 /tmp/d-apply.out)"; fi

# 2. What is left: no owned state at all; the foreign state byte for byte.
left=$(ipvsadm -Sn | grep -vE '192\.168\.100\.|-f 78')
if [ -z "$left" ]; then pass "no owned virtual service is left"; else fail "owned virtual services left" "$left"; fi
if [ "$(ipset save | grep -c '^create KUBE-')" = 0 ]; then pass "no KUBE-* or KUBE-6-* set is left"; else fail "sets left" "$(ipset save | grep '^create KUBE-')"; fi
if ! iptables-save | grep -q 'KUBE-' && ! ip6tables-save | grep -q 'KUBE-'; then pass "no kube-proxy chain or jump is left, in either family"; else fail "rules left" "$(iptables-save | grep KUBE-; ip6tables-save | grep KUBE-)"; fi
if [ "$(ip -o addr show dev kube-ipvs0 | awk '{print $4}')" = 192.168.100.10/32 ]; then pass "kube-ipvs0 keeps only the excluded address"; else fail "kube-ipvs0 addresses" "$(ip -o addr show dev kube-ipvs0)"; fi
if [ "$(foreign_state)" = "$FOREIGN_BEFORE" ] && ipvsadm -Sn | grep -q -- '-A -f 78'; then pass "foreign chains, set, excluded and fwmark services are untouched"
else fail "foreign state untouched" "$(echo "$FOREIGN_BEFORE" > /tmp/fb.txt; foreign_state > /tmp/fa.txt; diff /tmp/fb.txt /tmp/fa.txt)" "$(ipvsadm -Sn | grep -- '-f 78')"; fi
if [ ! -f "$IPVSC_APPLIED_DIR/applied.json" ]; then pass "no record of an apply is left for --refresh=changed to trust"; else fail "record removed" "$(ls -la "$IPVSC_APPLIED_DIR")"; fi

# 3. Idempotent: a second destroy has nothing to do.
out=$($IPVSC apply --destroy $(flags $C) $EXCL 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q '^No changes'; then pass "a second apply --destroy: No changes"; else fail "second destroy (rc=$rc)" "$out"; fi

# 4. Without the excluded address the link goes too (kube-proxy --cleanup deletes it).
ip addr del 192.168.100.10/32 dev kube-ipvs0
$IPVSC plan --destroy $(flags $C) $EXCL --no-color --detailed-exitcode >/tmp/d2.out 2>&1; rc=$?
if [ $rc = 2 ] && grep -q '^  - link kube-ipvs0' /tmp/d2.out; then pass "an empty kube-ipvs0 is planned for deletion"; else fail "link planned (rc=$rc)" "$(cat /tmp/d2.out)"; fi
check "apply --destroy deletes it" $IPVSC apply --destroy $(flags $C) $EXCL --auto-approve
if ! ip link show kube-ipvs0 >/dev/null 2>&1; then pass "kube-ipvs0 is gone"; else fail "kube-ipvs0 gone" "$(ip link show kube-ipvs0)"; fi

# 5. From the destroyed node, an apply builds everything again, exactly as before the destroy.
check "apply $C after the destroy exits 0" $IPVSC apply -f $G/$C/input $(flags $C) $EXCL
check "plan after it shows no changes" $IPVSC plan -f $G/$C/input $(flags $C) $EXCL --detailed-exitcode
after=$(owned_state)
if [ "$after" = "$(echo "$owned_before" | grep -v '^192\.168\.100\.10/32$')" ]; then pass "the owned state is what it was before the destroy"
else fail "owned state rebuilt" "$(echo "$owned_before" > /tmp/b.txt; echo "$after" > /tmp/a.txt; diff /tmp/b.txt /tmp/a.txt | head -20)"; fi

# 6. The last apply excluded 192.168.100.0/24: a --destroy that forgets it is refused, untouched.
before=$(owned_state)
$IPVSC apply --destroy $(flags $C) >/tmp/d-forgot.out 2>&1; rc=$?
if [ $rc = 1 ] && grep -q 'the last apply on this node ran with --ipvs-exclude-cidrs' /tmp/d-forgot.out && [ "$(owned_state)" = "$before" ] && ipvsadm -Sn | grep -q 192.168.100.10:80; then
  pass "a --destroy without the last apply's --ipvs-exclude-cidrs is refused, nothing changed"
else fail "forgotten exclude CIDRs refused (rc=$rc)" "$(tail -5 /tmp/d-forgot.out)"; fi

# 7. A destroy that fails part-way (a foreign rule still uses a KUBE-* set: ipset refuses to
# destroy it) rolls everything back.
iptables -A INPUT -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT -m comment --comment foreign-user-of-a-kube-set
before=$(owned_state)
$IPVSC apply --destroy $(flags $C) $EXCL >/tmp/d-fail.out 2>&1; rc=$?
if [ $rc = 3 ] && grep -q 'failed: ipset: delete' /tmp/d-fail.out && grep -q 'rollback: succeeded' /tmp/d-fail.out && [ "$(owned_state)" = "$before" ]; then pass "a destroy failing at ipset destroy (set in use) rolls back exactly"
else fail "failing destroy rolls back (rc=$rc)" "$(tail -12 /tmp/d-fail.out)" "$(echo "$before" > /tmp/b.txt; owned_state > /tmp/a.txt; diff /tmp/b.txt /tmp/a.txt | head -20)"; fi
iptables -D INPUT -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT -m comment --comment foreign-user-of-a-kube-set
check "then the destroy succeeds" $IPVSC apply --destroy $(flags $C) $EXCL
echo "1..$n"
