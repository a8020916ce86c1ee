#!/bin/sh
# Simulated agent: pulls one extract from a (pretend) source system into data/raw/.
# Usage: sh agents/fetch.sh customers|orders|budget
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kind=$1
mkdir -p data/raw

# Shared awk: day of 2025 (1..365) -> YYYY-MM-DD.
DATES='function date(doy,   m, md) {
    split("31 28 31 30 31 30 31 31 30 31 30 31", md, " ")
    for (m = 1; doy > md[m]; m++) doy -= md[m]
    return sprintf("2025-%02d-%02d", m, doy)
}'

case $kind in
customers)
    banner "fetch-customers" "CRM export → data/raw/customers.csv"
    say "Connecting to the CRM read replica."
    tool Bash "psql crm -c 'select count(*) from customers'" "count: 500"
    tool Read "docs/crm_schema.md" "customer_id, name, email, country, signup_date"
    out=data/raw/customers.csv
    progress "exporting customers" 4
    awk -v seed=7 'BEGIN {
        srand(seed)
        split("Ada Ben Chloe Dan Eva Finn Gita Hugo Iris Jon Kira Leo Mia Noah Olga Pia", fn, " ")
        split("Smith Jones Muller Martin Rossi Garcia Brown Weber Dubois Costa", ln, " ")
        split("UK UK UK DE DE FR FR ES IT", cc, " ")
        print "customer_id,name,email,country,signup_date"
        for (i = 1; i <= 500; i++) {
            f = fn[int(rand() * 16) + 1]; l = ln[int(rand() * 10) + 1]
            email = tolower(f "." l) i "@example.com"
            # The source system has three customers registered twice.
            if (i == 101 || i == 202 || i == 303) email = prev
            prev = email
            printf "C%04d,%s %s,%s,%s,%04d-%02d-%02d\n", i, f, l, email, cc[int(rand() * 9) + 1],
                2023 + int(rand() * 2), int(rand() * 12) + 1, int(rand() * 28) + 1
        }
    }' > "$out.tmp"
    mv "$out.tmp" "$out"
    wrote "$out"
    warn "3 customers share an e-mail address with another customer (left as they are)"
    finish "customers extracted"
    ;;
orders)
    banner "fetch-orders" "order service API → data/raw/orders.csv"
    say "Paging through the order service, 300 orders a page."
    tool WebFetch "https://orders.internal/api/v2/orders?year=2025&page=1" "200 OK · 300 orders · next page 2"
    out=data/raw/orders.csv
    echo "order_id,customer_id,order_date,amount,currency,channel" > "$out"
    page=1
    while [ "$page" -le 10 ]; do
        awk -v seed=$((100 + page)) -v page="$page" "$DATES"'
        BEGIN {
            srand(seed)
            split("search social video display email tv", ch, " ")
            for (k = 1; k <= 300; k++) {
                i = (page - 1) * 300 + k
                # Orders grow through the year; amounts are log-normal around 60.
                doy = int(365 * sqrt(rand())) + 1; if (doy > 365) doy = 365
                u1 = rand(); if (u1 < 1e-9) u1 = 1e-9
                z = sqrt(-2 * log(u1)) * cos(6.283185307 * rand())
                amount = exp(log(60) + 0.6 * z)
                printf "O%05d,C%04d,%s,%.2f,%s,%s\n", i, int(rand() * 500) + 1, date(doy),
                    amount, (rand() < 0.7 ? "GBP" : "EUR"), ch[int(rand() * 6) + 1]
            }
        }' >> "$out"
        printf '\r  %spage %2d/10%s  %s%d orders%s' "$C_DIM" "$page" "$C_RESET" "$C_GREEN" $((page * 300)) "$C_RESET"
        pause 0.8
        page=$((page + 1))
    done
    printf '\n'
    wrote "$out"
    finish "orders extracted"
    ;;
budget)
    banner "fetch-budget" "finance sheet → data/raw/budget.csv"
    say "Reading the 2025 media plan from finance."
    tool Read "finance/media_plan_2025.xlsx" "6 channels × 12 months, total £250,000"
    progress "normalising the plan" 3
    out=data/raw/budget.csv
    awk -v seed=11 'BEGIN {
        srand(seed)
        split("search social video display email tv", ch, " ")
        split("0.30 0.30 0.40 0.35 0.40 0.50 0.70 0.90 2.50 1.80 1.20 0.80", season, " ")
        split("0.22 0.20 0.16 0.12 0.05 0.25", share, " ")
        for (c = 1; c <= 6; c++) for (m = 1; m <= 12; m++) {
            w[c, m] = share[c] * season[m] * (0.85 + 0.3 * rand()); total += w[c, m]
        }
        print "channel,month,spend"
        for (c = 1; c <= 6; c++) for (m = 1; m <= 12; m++)
            printf "%s,2025-%02d-01,%.2f\n", ch[c], m, 250000 * w[c, m] / total
    }' > "$out.tmp"
    mv "$out.tmp" "$out"
    wrote "$out"
    finish "budget loaded"
    ;;
*)
    err "unknown extract: $kind"
    exit 2
    ;;
esac
