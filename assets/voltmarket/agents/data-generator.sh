#!/bin/sh
# Simulated Session A (data generator), in its worktree on feature/data-generator.
set -eu
V=$(cd "$(dirname "$0")/.." && pwd)
. "$V/../lib/sim.sh"
banner "Session A · data generator (${MODEL:-sonnet})" "branch $(git branch --show-current) · $(pwd)"
tool Read "PLAN_A_DATA_GENERATOR.md" "~8,000 transactions, 6 weeks, approval 82% → 64%"
tool Read "src/contracts/schemas.py" "TRANSACTION_COLUMNS: 12 columns"
tool Read "CLAUDE.md" "Polars, conventional commits"
say "Three degradation patterns: BBVA Mexico collapse (week 4+), high-value degradation, evening underperformance."
mkdir -p src/data_generator data/raw
tool Write "src/data_generator/generate.py" "148 lines"
cat > src/data_generator/generate.py <<'PY'
"""Synthetic VoltMarket transactions (see PLAN_A_DATA_GENERATOR.md)."""
# Weekly approval targets 0.82 -> 0.64; patterns: BBVA Mexico collapse (week >= 4),
# high-value degradation (amount_usd >= 500, week >= 4), evening underperformance (hour >= 18).
PY
progress "generating 8,000 transactions" 3
awk -f "$V/transactions.awk" < /dev/null > data/raw/transactions.csv.tmp
mv data/raw/transactions.csv.tmp data/raw/transactions.csv
wrote data/raw/transactions.csv
tool Bash "python -m src.data_generator.generate --to-parquet" "data/raw/transactions.parquet"
parquet data/raw/transactions.csv data/raw/transactions.parquet
wrote data/raw/transactions.parquet
awk -F, 'NR > 1 { n[$4]++; a[$4] += $11 } END { for (w = 1; w <= 6; w++) printf "  week %d  %4d tx  approval %.1f%%\n", w, n[w], 100 * a[w] / n[w] }' \
    data/raw/transactions.csv
progress "git commit + push" 1
git add -A
git commit -qm "feat: synthetic transaction generator with three degradation patterns"
tool Bash "git log --oneline -1" "$(git log --oneline -1)"
finish "Session A complete: data/raw/transactions.parquet on feature/data-generator"
