#!/bin/sh
# Simulated agent: converts every order to GBP. Its first attempt loses the
# connection to the FX service half-way and exits 1; flightdeck restarts it
# (restart = "on-failure") and the second attempt succeeds.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
banner "clean-orders" "data/raw/orders.csv → data/clean/orders_clean.csv"
mkdir -p data/clean
out=data/clean/orders_clean.csv
tool Read "data/raw/orders.csv" "$(rows data/raw/orders.csv) orders, currencies GBP and EUR"
say "Fetching 2025 EUR→GBP rates from the FX service."
if [ "${FLIGHTDECK_ATTEMPT:-1}" = 1 ]; then
    progress "downloading FX rates" 2
    err "fx.internal: connection reset by peer (after 212 of 365 days)"
    err "giving up on this attempt"
    exit 1
fi
tool WebFetch "https://fx.internal/v1/rates?pair=EURGBP&year=2025" "365 daily rates"
progress "converting amounts" 4
awk -F, 'NR == 1 { print $0 ",amount_gbp"; next }
    { rate = 0.84 + 0.02 * sin(substr($3, 6, 2) / 2)
      printf "%s,%.2f\n", $0, ($5 == "EUR" ? $4 * rate : $4) }' data/raw/orders.csv > "$out.tmp"
mv "$out.tmp" "$out"
wrote "$out"
finish "orders cleaned (attempt ${FLIGHTDECK_ATTEMPT:-1})"
