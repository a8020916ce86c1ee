#!/bin/sh
# Simulated agent: monthly orders, revenue and media spend.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
banner "monthly-rollup" "orders + budget → data/clean/monthly.csv"
mkdir -p data/clean
out=data/clean/monthly.csv
tool Read "data/raw/orders.csv" "$(rows data/raw/orders.csv) orders"
tool Read "data/raw/budget.csv" "$(rows data/raw/budget.csv) channel-months"
say "Grouping by month; revenue in the order's currency (clean-orders converts later)."
progress "aggregating" 5
awk -F, '
    FNR == 1 { next }
    FILENAME ~ /orders/ { m = substr($3, 1, 7); n[m]++; rev[m] += $4 }
    FILENAME ~ /budget/ { m = substr($2, 1, 7); sp[m] += $3 }
    END {
        print "month,orders,revenue,spend,roas"
        for (k = 1; k <= 12; k++) {
            m = sprintf("2025-%02d", k)
            printf "%s-01,%d,%.2f,%.2f,%.2f\n", m, n[m], rev[m], sp[m], (sp[m] > 0 ? rev[m] / sp[m] : 0)
        }
    }' data/raw/orders.csv data/raw/budget.csv > "$out.tmp"
mv "$out.tmp" "$out"
wrote "$out"
finish "monthly rollup ready"
