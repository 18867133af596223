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
applyA() { $IPVSC apply -f $G/$A/input $(flags $A) $EXCL >/tmp/a.out 2>&1; }
applyB() { $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/b.out 2>&1; }
applyA && $IPVSC plan -f $G/$A/input $(flags $A) $EXCL --detailed-exitcode >/dev/null 2>&1 || { fail "set up the old state" "$(tail /tmp/a.out)"; echo "1..$n"; exit 0; }
OLD=$(owned_state)
applyB && $IPVSC plan -f $G/$B/input $(flags $B) $EXCL --detailed-exitcode >/dev/null 2>&1 || { fail "reach the new state" "$(tail /tmp/b.out)"; echo "1..$n"; exit 0; }
NEW=$(owned_state)
applyA; [ "$(owned_state)" = "$OLD" ] && pass "A -> B -> A returns to the old state exactly" || fail "A -> B -> A" "$(owned_state > /tmp/now.txt; echo "$OLD" > /tmp/old.txt; diff /tmp/old.txt /tmp/now.txt | head)"
steps=$($IPVSC apply -f $G/$B/input $(flags $B) $EXCL --dry-run 2>/dev/null | sed -n '/^Dry run:/,$p' | grep -c '^# ')
[ "$steps" -ge 6 ] && pass "the A->B apply has $steps steps" || fail "step count" "$steps"
failures_ok=0; kills_ok=0
for k in $(seq 1 "$steps"); do
  # The state is the old one here: after the previous iteration's return to A, or the rollback.
  IPVSC_TEST_FAULT=fail-step=$k $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/f.out 2>&1; rc=$?
  after=$(owned_state)
  if [ $rc = 3 ] && [ "$after" = "$OLD" ]; then failures_ok=$((failures_ok+1)); pass "tool failure at step $k: rolled back to the old state exactly";
  else fail "tool failure at step $k (rc=$rc)" "$(tail -8 /tmp/f.out)" "$(echo "$OLD" > /tmp/old.txt; echo "$after" > /tmp/now.txt; diff /tmp/old.txt /tmp/now.txt | head -10)"; applyA; fi
  IPVSC_TEST_FAULT=kill-after-step=$k $IPVSC apply -f $G/$B/input $(flags $B) $EXCL >/tmp/k.out 2>&1; rc=$?
  applyB; rc2=$?
  if [ $rc = 137 ] && [ $rc2 = 0 ] && [ "$(owned_state)" = "$NEW" ]; then kills_ok=$((kills_ok+1)); pass "SIGKILL after step $k: the next apply reaches the new state exactly";
  else fail "SIGKILL after step $k (rc=$rc, next=$rc2)" "$(tail -8 /tmp/b.out)" "$(echo "$NEW" > /tmp/new.txt; owned_state > /tmp/now.txt; diff /tmp/new.txt /tmp/now.txt | head -10)"; fi
  applyA
done
echo "# fault points: $steps failure points ($failures_ok ok), $steps kill points ($kills_ok ok)"
[ "$(foreign_state)" = "$FOREIGN_BEFORE" ] && pass "foreign state byte-identical after every fault run" || fail "foreign state" "$(echo "$FOREIGN_BEFORE" > /tmp/fb.txt; foreign_state > /tmp/fa.txt; diff /tmp/fb.txt /tmp/fa.txt)"
echo "1..$n"
