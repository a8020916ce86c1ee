#!/bin/sh
# Simulated agent: writes the report people read.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
banner "publish" "→ data/out/report.md"
mkdir -p data/out
out=data/out/report.md
tool Read "data/clean/monthly.csv" "12 months"
tool Read "data/clean/orders_clean.csv" "$(rows data/clean/orders_clean.csv) orders in GBP"
# Like a real agent, ask before writing where people read (the pane shows
# needs-input; Enter answers, or it goes ahead after a few seconds).
ask "Publish the 2025 report to data/out/report.md?" 5 >/dev/null
say "Drafting the report."
progress "writing report.md" 4
{
    echo "# 2025 orders and media spend"
    echo
    awk -F, 'NR > 1 { n++; gbp += $7 } END { printf "%d orders, £%.2f revenue (GBP).\n", n, gbp }' \
        data/clean/orders_clean.csv
    echo
    echo "| month | orders | revenue | spend | ROAS |"
    echo "|---|---:|---:|---:|---:|"
    awk -F, 'NR > 1 { printf "| %s | %d | %.0f | %.0f | %.2f |\n", substr($1, 1, 7), $2, $3, $4, $5 }' \
        data/clean/monthly.csv
} > "$out.tmp"
mv "$out.tmp" "$out"
wrote "$out"
finish "report published"
# A real agent would now wait for its next prompt: idle.
tell idle "report published"
pause 2
