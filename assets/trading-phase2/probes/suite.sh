#!/bin/sh
# Phase 2 final validation: one of the six test suites, run in root.
# Usage: suite.sh health|data-pipeline|performance|integration|resilience|error-handling
# Prints one line per test and `passed=N failed=M`; exits 1 when a test failed.
# Optional services (feast-pipeline, execution-quality) are reported, never failed.
set -eu
suite=$1
T=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0
result() { if [ "$1" = ok ]; then pass=$((pass + 1)); echo "PASS $2"; else fail=$((fail + 1)); echo "FAIL $2"; fi; }
required="risk oms exeq ptrc pnl hot_cache questdb_writer"
optional="feast-pipeline execution-quality"
phase_of() { grep "^$1|" "$T/services.txt" | cut -d'|' -f2; }
case $suite in
health)
    for s in $required; do
        f=reports/$(phase_of "$s")/${s}_health.jsonl
        if [ -f "$f" ] && grep -q '"status": "healthy"' "$f"; then result ok "$s healthy"; else result no "$s not healthy"; fi
    done
    for s in $optional; do [ -f "reports/2b/${s}_health.jsonl" ] && echo "INFO optional $s healthy" || echo "INFO optional $s not deployed"; done
    ;;
data-pipeline)
    for s in questdb_writer pnl ptrc; do
        f=reports/2b/${s}_tests.csv
        if [ -f "$f" ] && [ "$(awk -F, '$2 == "integration" && $4 == "pass"' "$f" | wc -l)" -ge 6 ]; then result ok "$s end-to-end flow"; else result no "$s end-to-end flow"; fi
    done
    ;;
performance)
    for spec in risk:2a:1.5 oms:2a:10 exeq:2a:10 pnl:2b:10 hot_cache:2b:1; do
        IFS=: read -r s ph sla <<EOF2
$spec
EOF2
        p50=$(sh "$T/probes/latency.sh" "reports/$ph/${s}_latency.csv" 2>/dev/null | sed 's/^p50=\([0-9.]*\)ms.*/\1/') || p50=
        if [ -n "$p50" ] && awk -v a="$p50" -v b="$sla" 'BEGIN { exit !(a <= b) }'; then result ok "$s P50 ${p50}ms <= ${sla}ms"; else result no "$s P50 ${p50:-?}ms > ${sla}ms"; fi
    done
    ;;
integration)
    for s in $required; do
        f=reports/$(phase_of "$s")/${s}_tests.csv
        if [ -f "$f" ] && ! awk -F, '$4 == "fail" { bad = 1 } END { exit !bad }' "$f"; then result ok "$s tests green"; else result no "$s tests"; fi
    done
    ;;
resilience|error-handling)
    f=reports/final/$suite.csv
    if [ ! -f "$f" ]; then result no "$f missing (run by final-validation)"; else
        while IFS=, read -r test status; do
            [ "$test" = test ] && continue
            [ "$status" = pass ] && result ok "$test" || result no "$test"
        done < "$f"
    fi
    ;;
*) echo "unknown suite $suite" >&2; exit 2 ;;
esac
echo "passed=$pass failed=$fail"
[ "$fail" -eq 0 ]
