#!/bin/sh
# Simulated Claude Code running the Phase 2 final validation: six suites, then the
# validation report with a PASS / CONDITIONAL / FAIL decision.
set -eu
T=$(cd "$(dirname "$0")/.." && pwd)
. "$T/../lib/sim.sh"
banner "Phase 2 · final validation" "6 suites: health, data pipeline, performance, integration, resilience, error handling"
tool Read "instructions/PHASE2_FINAL_VALIDATION_PROMPT.md" "decision criteria: PASS / CONDITIONAL / FAIL"
mkdir -p reports/final
say "Resilience: kill and restart each critical service, check recovery."
progress "failover drills" 1.5
{ echo "test,status"
  for s in risk oms exeq; do echo "${s}_restart_recovers_under_5s,pass"; done
  echo "questdb_writer_buffers_during_db_outage,pass"; echo "oms_replays_orders_after_crash,pass"; } > reports/final/resilience.csv
say "Error handling: malformed orders, limit breaches, venue rejects."
progress "error-handling cases" 1
{ echo "test,status"
  for t in malformed_order_rejected_400 limit_breach_rejected venue_reject_propagates timeout_returns_503; do echo "$t,pass"; done; } \
    > reports/final/error-handling.csv
verdict=PASS
{
    echo "# Phase 2 validation report"
    echo
    for s in health data-pipeline performance integration resilience error-handling; do
        printf '## Suite: %s\n\n```\n' "$s"
        sh "$T/probes/suite.sh" "$s" || verdict=FAIL
        printf '```\n\n'
    done
    echo "## Optional services"
    echo
    for s in feast-pipeline execution-quality; do
        if [ -f "reports/2b/${s}_health.jsonl" ]; then echo "- $s: deployed"; else echo "- $s: not deployed"; [ "$verdict" = PASS ] && verdict=CONDITIONAL; fi
    done
    echo
    echo "## Decision: $verdict"
} > reports/final/PHASE2_VALIDATION_REPORT.md 2>&1
progress "running 6 suites" 2
grep -E '^(PASS|FAIL|INFO)' reports/final/PHASE2_VALIDATION_REPORT.md | sed 's/^PASS/  ✔/; s/^FAIL/  ✘/; s/^INFO/  ·/'
wrote reports/final/PHASE2_VALIDATION_REPORT.md
finish "Phase 2 decision: $verdict · waiting for approval to proceed to Phase 3"
[ "$verdict" != FAIL ]
