#!/bin/sh
# Simulated Session 1: Data Engineer (one subagent via the Task tool, then review).
set -eu
C=$(cd "$(dirname "$0")/.." && pwd)
. "$C/../lib/sim.sh"
banner "Session 1 · Data Engineer" "audit silver completeness 2010-2026, gap-fill framework, plays backfill fixes"
tool Task "data-engineer: audit every silver table, fix backfill edge cases" "subagent started"
tool Bash "aws athena start-query-execution --query-string 'select season, count(*) ...'" "17 seasons × 6 tables"
mkdir -p reports src/cbbd_etl
progress "auditing silver partitions" 3
awk 'BEGIN {
    srand(1); print "table,season,rows,expected_rows,completeness_pct,status"
    split("games teams players box_scores plays rankings", T, " ")
    split("5600 360 5200 11200 1900000 340", E, " ")
    for (t = 1; t <= 6; t++) for (s = 2010; s <= 2026; s++) {
        e = int(E[t] * (s == 2026 ? 0.55 : 1)); pct = 99 + rand()
        if (T[t] == "plays" && s <= 2012) pct = 96 + 2 * rand()     # the old backfill gap, now filled
        printf "%s,%d,%d,%d,%.2f,%s\n", T[t], s, int(e * pct / 100), e, pct, (pct >= 95 ? "ok" : "gap")
    }
}' < /dev/null > reports/completeness_audit.csv
wrote reports/completeness_audit.csv
say "plays 2010-2012 were 4-8% short: overtime periods dropped and null game ids. Fixing the backfill."
tool Edit "scripts/backfill_plays.py" "handle OT periods 5-8; skip and log null game ids"
printf '"""Backfill plays for past seasons.\n\nFixed: overtime periods 5-8 kept; rows with a null game id are logged and skipped."""\n' > scripts/backfill_plays.py
tool Write "src/cbbd_etl/gap_fill.py" "GapFiller: detect gaps per partition, re-extract, verify"
cat > src/cbbd_etl/gap_fill.py <<'PY'
"""Reusable gap-fill: find partitions below expected completeness and re-extract them."""


def find_gaps(audit_rows, threshold=95.0):
    return [r for r in audit_rows if float(r["completeness_pct"]) < threshold]
PY
progress "validating partition consistency" 2
ok "102 partitions consistent (season=YYYY/ layout, snappy parquet)"
finish "Session 1 done: review the diff, then commit"
