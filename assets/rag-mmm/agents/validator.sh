#!/bin/sh
# Simulated validator: Task 8. Aggregates the raw CSVs into three weekly MMM files and
# prints the validation summary (flightdeck's datasets, probes and gates check the same).
set -eu
A=$(cd "$(dirname "$0")/.." && pwd)
. "$A/../lib/sim.sh"
P="$(cat "$A/lib.awk" "$A/media.awk")"
R=data/raw M=data/mmm
mkdir -p $M

banner "validator · synthetic-data-gen" "Task #8: validators + MMM-ready aggregation"
tool TaskUpdate "#8 → in_progress" "blocked by #3 #4 #5 #6 #7: completed"
tool Bash "ls data/raw/*.csv data/raw/contracts/*.md | wc -l" "$(ls $R/*.csv $R/contracts/*.md | wc -l | tr -d ' ') files"
printf '"""validate_all() and aggregate_mmm_data() (written by validator)."""\n' > data/generators/validators.py

say "Weekly buckets: 52 weeks from 2025-01-01 (31 December joins week 52)."
progress "aggregating spend by week" 2
# One pass over every source: weekly spend per channel, units/revenue per market, UK
# funnel counts; monthly external factors.
awk -F, "$P"'
    function doy(s,   m, d, k, n) { m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0; n = d; for (k = 1; k < m; k++) n += MD[k]; return n }
    function wk(s,   w) { w = int((doy(s) - 1) / 7) + 1; return w > 52 ? 52 : w }
    BEGIN { init_lib() }
    FNR == 1 { delete H; for (k = 1; k <= NF; k++) H[$k] = k; src = FILENAME; sub(/.*\//, "", src); sub(/\.csv$/, "", src); next }
    src ~ /_ads$/ || src == "dv360" { ch = src; sub(/_ads$/, "", ch); SP[ch, wk($H["date"])] += $H["spend"]; next }
    src == "tv_performance" { SP["tv", wk($H["date_week_start"])] += $H["spend"]; next }
    src == "ooh_performance" { SP["ooh", wk($H["start_date"])] += $H["spend"]; next }
    src == "print_performance" { SP["print", wk($H["date"])] += $H["spend"]; next }
    src == "radio_performance" { SP["radio", wk($H["start_date"])] += $H["spend"]; next }
    src == "events" { SP["events", wk($H["start_date"])] += $H["spend"]; next }
    src == "vehicle_sales" { w = wk($H["sale_date"]); mk = tolower($H["market"]); U[mk, w]++; REV[mk, w] += $H["transaction_price_gbp"]; next }
    src == "test_drives" { if ($H["market"] == "UK") TD[wk($H["test_drive_date"])]++; next }
    src == "leads" { if ($H["market"] == "UK") LE[wk($H["created_date"])]++; next }
    src == "website_analytics" { if ($H["market"] == "UK") WS[wk($H["date"])] += $H["sessions"]; next }
    src == "economic_indicators" { if ($H["country"] == "UK") { m = substr($H["year_month"], 6, 2) + 0; BEV[m] = $H["bev_market_share_pct"]; CC[m] = $H["consumer_confidence_index"]; BR[m] = $H["bank_rate_pct"] } next }
    src == "competitor_spend" { if ($H["channel"] == "total") COMP[substr($H["year_month"], 6, 2) + 0] += $H["estimated_spend_gbp"]; next }
    END {
        nch = split("tv ooh print radio meta google dv360 tiktok youtube linkedin events", C, " ")
        split("0.85 0.70 0.60 0.50 0.40 0.40 0.40 0.40 0.40 0.40 0.40", DECAY, " ")
        hs = "week_start"; for (c = 1; c <= nch; c++) hs = hs "," C[c] "_spend"
        print hs ",total_spend" > "data/mmm/weekly_channel_spend.csv"
        print "week_start,uk_units,de_units,fr_units,total_units,uk_revenue,de_revenue,fr_revenue,total_revenue,uk_test_drives,uk_leads,uk_web_sessions" > "data/mmm/weekly_sales.csv"
        hm = hs ",total_spend"; for (c = 1; c <= nch; c++) hm = hm "," C[c] "_adstock"
        print hm ",uk_units,total_units,total_revenue,uk_test_drives,uk_leads,uk_web_sessions,bev_share,consumer_confidence,bank_rate,competitor_total_spend" > "data/mmm/model_ready.csv"
        for (w = 1; w <= 52; w++) {
            ws = date(1 + 7 * (w - 1)); m = mon(1 + 7 * (w - 1)); line = ws; tot = 0; ad = ""
            for (c = 1; c <= nch; c++) {
                s = SP[C[c], w] + 0; tot += s; line = line "," sprintf("%.2f", s)
                AD[c] = s + DECAY[c] * AD[c]; ad = ad "," sprintf("%.2f", AD[c])
            }
            printf "%s,%.2f\n", line, tot > "data/mmm/weekly_channel_spend.csv"
            tu = U["uk", w] + U["de", w] + U["fr", w]; tr = REV["uk", w] + REV["de", w] + REV["fr", w]
            printf "%s,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%d,%d,%d\n", ws, U["uk", w], U["de", w], U["fr", w], tu,
                REV["uk", w], REV["de", w], REV["fr", w], tr, TD[w], LE[w], WS[w] > "data/mmm/weekly_sales.csv"
            printf "%s,%.2f%s,%d,%d,%.2f,%d,%d,%d,%s,%s,%s,%.0f\n", line, tot, ad, U["uk", w], tu, tr, TD[w], LE[w], WS[w],
                BEV[m], CC[m], BR[m], COMP[m] / 4.33 > "data/mmm/model_ready.csv"
        }
    }' $R/*.csv
for f in weekly_channel_spend weekly_sales model_ready; do wrote $M/$f.csv; done

say "Validation summary"
progress "cross-checking 19 CSVs + 7 contracts" 2
printf '  %s%-34s %8s%s\n' "$C_BOLD" "file" "rows" "$C_RESET"
for f in $R/*.csv; do printf '  %-34s %8d\n' "${f#data/raw/}" "$(rows "$f")"; done
awk -F, 'NR > 1 { for (k = 2; k <= 12; k++) S[k] += $k; T += $13 }
    END { split("week tv ooh print radio meta google dv360 tiktok youtube linkedin events", C, " ")
          for (k = 2; k <= 12; k++) printf "  spend %-10s £%12.0f\n", C[k], S[k]
          printf "  spend %-10s £%12.0f  (target £20,000,000: %+.1f%%)\n", "TOTAL", T, (T / 20000000 - 1) * 100 }' \
    $M/weekly_channel_spend.csv
awk -F, 'NR > 1 { u += $2; d += $3; f += $4 } END { printf "  sales UK %d (~2,800) · DE %d (~1,200) · FR %d (~600)\n", u, d, f }' $M/weekly_sales.csv
ok "no failures"
tool TaskUpdate "#8 → completed" ""
finish "validator: task #8 complete · team synthetic-data-gen done"
