#!/usr/bin/env bash
# Runs inside the IPVS VM: every step boundary of an apply, in turn, is hit by an injected tool
# failure (fail-step=K: rollback must restore the old state exactly) and by SIGKILL
# (kill-after-step=K: the next apply must reach the new state exactly). Foreign state must be
# byte-identical at the end. TAP-like output, read by faults.test.ts.
set -u
source test/vm-tests/lib.sh
setup_node
FOREIGN_BEFORE=$(foreign_state)
A=s00-reference-example-lb-source-ranges   # old desired state
B=x01-dual-stack-nodeport                  # new desired state (both families, every subsystem changes)
applyA() { $IPVSC apply -f $G/$A/input $(flags $A) $EXCL >/tmp/a.out 2>&1 && $IPVSC plan -f $G/$A/input $(flags $A) $EXCL --detailed-exitcode >/dev/null 2>&1; }
applyA || { fail "set up the old state" "$(tail /tmp/a.out)"; echo "1..$n"; exit 0; }
OLD=$(owned_state)
steps=$($IPVSC apply -f $G/$B/input $(flags $B) $EXCL --dry-run 2>/dev/null | grep -c '^# ')
[ "$steps" -ge 6 ] && pass "the A→B apply has $steps steps" || fail "step count" "$steps"
failures_ok=0; kills_ok=0
for k in $(seq 1 "$steps"); do
  applyA; before=$(owned_state)
  IPVSC_TEST_FAULT=fail-step=$k $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/f.out 2>&1; rc=$?
  after=$(owned_state)
  if [ $rc = 3 ] && [ "$before" = "$after" ] && [ "$after" = "$OLD" ]; then failures_ok=$((failures_ok+1)); pass "tool failure at step $k: rolled back to the old state exactly";
  else fail "tool failure at step $k (rc=$rc)" "$(tail -8 /tmp/f.out)" "$(diff <(echo "$before") <(echo "$after") | head -10)"; fi
  applyA
  IPVSC_TEST_FAULT=kill-after-step=$k $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/k.out 2>&1; rc=$?
  $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/k2.out 2>&1; rc2=$?
  if [ $rc = 137 ] && [ $rc2 = 0 ] && $IPVSC plan -f $G/$B/input $(flags $B) $EXCL --detailed-exitcode >/dev/null 2>&1; then kills_ok=$((kills_ok+1)); pass "SIGKILL after step $k: the next apply reaches the new state exactly";
  else fail "SIGKILL after step $k (rc=$rc, next=$rc2)" "$(tail -8 /tmp/k2.out)"; fi
done
echo "# fault points: $steps failure points ($failures_ok ok), $steps kill points ($kills_ok ok)"
[ "$(foreign_state)" = "$FOREIGN_BEFORE" ] && pass "foreign state byte-identical after every fault run" || fail "foreign state" "$(diff <(echo "$FOREIGN_BEFORE") <(foreign_state))"
echo "1..$n"
