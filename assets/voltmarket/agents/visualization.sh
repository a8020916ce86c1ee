#!/bin/sh
# Simulated Session D (visualization), in its worktree on feature/visualization.
set -eu
V=$(cd "$(dirname "$0")/.." && pwd)
. "$V/../lib/sim.sh"
banner "Session D · visualization (${MODEL:-opus})" "branch $(git branch --show-current) · $(pwd)"
tool Read "PLAN_D_VISUALIZATION.md" "6 charts + Streamlit dashboard + static exports"
tool Read "src/contracts/schemas.py" "all contracts"
say "Designing for payment ops managers: green ≥ 80%, yellow 70-80%, red < 70% approval."
mkdir -p src/visualization output/charts
printf '"""Six Plotly charts (see PLAN_D_VISUALIZATION.md)."""\n' > src/visualization/charts.py
printf '"""Streamlit dashboard assembling the charts and insight cards."""\n' > src/visualization/dashboard.py
tool Write "src/visualization/charts.py" "6 chart functions"
tool Write "src/visualization/dashboard.py" ""
for chart in headline_trend country_breakdown issuer_heatmap waterfall amount_distribution hour_of_day; do
    progress "export $chart.png" 0.6
    # A real (1x1) PNG: the exports are files a browser can open.
    printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\rIDATx\234c\370\017\004\000\011\373\003\375\343U\362\234\000\000\000\000IEND\256B`\202' \
        > "output/charts/$chart.png"
done
ok "6 charts in output/charts/"
{
    echo '<!doctype html><html><head><meta charset="utf-8"><title>VoltMarket approval intelligence</title></head><body>'
    echo '<h1>Approval rate: 82% → 64% in six weeks</h1>'
    echo '<p>Three causes: BBVA Mexico collapse from week 4, high-value degradation, evening underperformance.</p>'
    for chart in headline_trend country_breakdown issuer_heatmap waterfall amount_distribution hour_of_day; do
        echo "<figure><img src=\"charts/$chart.png\" alt=\"$chart\"><figcaption>$chart</figcaption></figure>"
    done
    echo '</body></html>'
} > output/dashboard.html
wrote output/dashboard.html
git add -A
git commit -qm "feat: Plotly charts, Streamlit dashboard, static exports"
tool Bash "git log --oneline -1" "$(git log --oneline -1)"
finish "Session D complete: dashboard on feature/visualization"
