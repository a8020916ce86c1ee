#!/bin/sh
# Simulated Session B (pipeline), in its worktree on feature/pipeline.
set -eu
V=$(cd "$(dirname "$0")/.." && pwd)
. "$V/../lib/sim.sh"
banner "Session B · pipeline (${MODEL:-sonnet})" "branch $(git branch --show-current) · $(pwd)"
tool Read "PLAN_B_PIPELINE.md" "ingest → segment → transform"
tool Read "src/contracts/schemas.py" "SEGMENT_COLUMNS, WEEKLY_TREND_COLUMNS"
mkdir -p src/pipeline data/raw data/processed
upstream=${FLIGHTDECK_ROOT:-..}/.flightdeck/worktrees/data-generator/data/raw/transactions.csv
if [ -f "$upstream" ]; then
    say "Session A's transactions are there: building against the real data."
    cp "$upstream" data/raw/transactions.csv
else
    say "data/raw/transactions.parquet is not there yet (Session A still running): building against the contract with the same generator."
    awk -f "$V/transactions.awk" < /dev/null > data/raw/transactions.csv
fi
for f in ingest segment transform; do
    tool Write "src/pipeline/$f.py" ""
    printf '"""Pipeline step: %s (see PLAN_B_PIPELINE.md)."""\n' "$f" > "src/pipeline/$f.py"
done
progress "segmenting 10 dimension combinations" 3
awk -F, '
    function bucket_amt(a) { return a < 50 ? "<50" : (a < 200 ? "50-200" : (a < 500 ? "200-500" : ">=500")) }
    function bucket_hr(h) { return h < 12 ? "morning" : (h < 18 ? "afternoon" : "evening") }
    function add(dim, seg) { K = dim SUBSEP seg SUBSEP per; T[K]++; OK[K] += $11; if (!(dim SUBSEP seg in SEEN)) { SEEN[dim SUBSEP seg]; ORDER[++no] = dim SUBSEP seg } }
    NR == 1 { next }
    {
        per = $4 <= 3 ? "weeks_1_3" : "weeks_4_6"; ab = bucket_amt($10); hb = bucket_hr($5)
        add("country", $6); add("issuer", $7); add("card_brand", $8); add("merchant_category", $9)
        add("amount_bucket", ab); add("hour_bucket", hb); add("country_x_card_brand", $6 "|" $8)
        add("issuer_x_amount_bucket", $7 "|" ab); add("country_x_hour_bucket", $6 "|" hb); add("card_brand_x_amount_bucket", $8 "|" ab)
        WT[$4]++; WA[$4] += $11
    }
    END {
        print "dimension,segment,period,transactions,approved,approval_rate" > "data/processed/segments.csv"
        for (k = 1; k <= no; k++) { split(ORDER[k], p, SUBSEP)
            for (q = 1; q <= 2; q++) { per = q == 1 ? "weeks_1_3" : "weeks_4_6"; K = p[1] SUBSEP p[2] SUBSEP per
                if (T[K]) printf "%s,%s,%s,%d,%d,%.4f\n", p[1], p[2], per, T[K], OK[K], OK[K] / T[K] > "data/processed/segments.csv" } }
        print "week,transactions,approved,approval_rate" > "data/processed/weekly_trends.csv"
        for (w = 1; w <= 6; w++) printf "%d,%d,%d,%.4f\n", w, WT[w], WA[w], WA[w] / WT[w] > "data/processed/weekly_trends.csv"
    }' data/raw/transactions.csv
parquet data/processed/segments.csv data/processed/segments.parquet
parquet data/processed/weekly_trends.csv data/processed/weekly_trends.parquet
rm -f data/processed/segments.csv data/processed/weekly_trends.csv
wrote data/processed/segments.parquet
wrote data/processed/weekly_trends.parquet
# The raw data belongs to Session A's branch.
rm -f data/raw/transactions.csv
git add -A
git commit -qm "feat: Polars segmentation pipeline and weekly trends"
tool Bash "git log --oneline -1" "$(git log --oneline -1)"
finish "Session B complete: segments + weekly trends on feature/pipeline"
