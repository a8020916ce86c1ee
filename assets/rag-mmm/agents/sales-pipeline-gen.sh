#!/bin/sh
# Simulated sales-pipeline-gen: Task 6. Reads the media CSVs (spend drives traffic with a
# lag) and the dealer list, then writes website analytics, configurator sessions, leads,
# test drives and vehicle sales, in funnel order.
set -eu
A=$(cd "$(dirname "$0")/.." && pwd)
. "$A/../lib/sim.sh"
P="$(cat "$A/lib.awk" "$A/media.awk")"
R=data/raw
mkdir -p data/tmp

banner "sales-pipeline-gen · synthetic-data-gen" "Task #6: website → configurator → leads → test drives → sales"
tool TaskUpdate "#6 → in_progress" "blocked by #1 #3 #4: completed"
tool Read "data/generators/dealers.csv" "$(rows data/generators/dealers.csv) dealers"
for f in meta_ads google_ads dv360 tiktok_ads youtube_ads linkedin_ads tv_performance; do
    tool Read "$R/$f.csv" "$(rows "$R/$f.csv") rows"
done
printf '"""Sales pipeline generators (reads media spend for the spend -> traffic lag)."""\n' \
    > data/generators/sales_pipeline.py

say "Building daily paid-media spend, then lagging it: 7-14 days for digital, 1-3 for TV."
# Daily spend (digital: by date; TV: a week's spend spread over its seven days), and the
# campaign names per platform, market and quarter (for UTM tags that map back to media).
awk -F, '
    FNR == 1 { delete H; for (k = 1; k <= NF; k++) H[$k] = k; src = FILENAME; sub(/.*\//, "", src); sub(/\.csv$/, "", src); next }
    src == "tv_performance" { for (k = 0; k < 7; k++) tv[$H["date_week_start"] "+" k] += $H["spend"] / 7; next }
    { dig[$H["date"]] += $H["spend"]
      if ("campaign_name" in H) { key = src "|" $H["market"] "|" substr($H["date"], 6, 2); if (!seen[key "|" $H["campaign_name"]]++) camp[key] = camp[key] " " $H["campaign_name"] } }
    END {
        for (d in dig) printf "D,%s,%.2f\n", d, dig[d]
        for (d in tv) { split(d, p, "+"); printf "T,%s,%s,%.2f\n", p[1], p[2], tv[d] }
        for (k in camp) printf "C,%s,%s\n", k, substr(camp[k], 2)
    }' $R/meta_ads.csv $R/google_ads.csv $R/dv360.csv $R/tiktok_ads.csv $R/youtube_ads.csv $R/linkedin_ads.csv $R/tv_performance.csv \
    > data/tmp/spend.txt

# Daily sessions = baseline + lagged spend response, with 20-30% noise.
awk -F, "$P"'
    function doy(s,   m, d, k, n) { m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0; n = d; for (k = 1; k < m; k++) n += MD[k]; return n }
    BEGIN { init_lib(); srand(601) }
    $1 == "D" { dig[doy($2)] = $3 }
    $1 == "T" { tv[doy($2) + $3] += $4 }
    END {
        for (d = 1; d <= 365; d++) {
            lagged = 0; for (l = 7; l <= 14; l++) if (d - l >= 1) lagged += dig[d - l] / 8
            for (l = 1; l <= 3; l++) if (d - l >= 1) lagged += tv[d - l] / 3
            s = (500 + 0.024 * lagged) * unif(0.75, 1.25)
            printf "%d,%d\n", d, s
        }
    }' data/tmp/spend.txt > data/tmp/daily_sessions.txt
ok "daily sessions: $(awk -F, '{ s += $2 } END { printf "%d", s }' data/tmp/daily_sessions.txt) for 2025"

progress "website_analytics.csv ~5,000" 1.5
awk -F, "$P"'
    BEGIN { init_lib(); srand(602) }
    { S[$1] = $2 }
    END {
        split("organic_search paid_search social_paid social_organic direct display email referral video", CH, " ")
        split("0.22 0.18 0.16 0.06 0.14 0.07 0.04 0.05 0.08", CS, " ")
        split("desktop mobile tablet", DV, " "); split("0.35 0.55 0.10", DS, " ")
        print "date,channel,device,market,sessions,users,new_users,bounce_rate,pages_per_session,avg_session_duration_seconds,goal_completions,events_count"
        for (i = 1; i <= 5000; i++) {
            d = int((i - 1) * 365 / 5000) + 1; slot = (i - 1) % 14
            c = slot % 9 + 1; v = slot < 9 ? 2 : (slot < 13 ? 1 : 3)
            rows_today = 14
            s = int(S[d] * CS[c] * 9 / rows_today * DS[v] * 3 * unif(0.8, 1.2)) + 1
            br = c == 2 ? unif(0.35, 0.50) : (c == 3 || c == 4 ? unif(0.55, 0.70) : (c == 5 ? unif(0.25, 0.40) : unif(0.35, 0.60)))
            u = int(s * unif(0.8, 0.95))
            printf "%s,%s,%s,%s,%d,%d,%d,%s,%s,%d,%d,%d\n", date(d), CH[c], DV[v], market(), s, u, int(u * unif(0.5, 0.8)),
                r4(br), r2(unif(2, 6)), rint(120, 300), int(s * unif(0.02, 0.05)), int(s * unif(3, 8))
        }
    }' data/tmp/daily_sessions.txt > $R/website_analytics.csv.tmp
mv $R/website_analytics.csv.tmp $R/website_analytics.csv
wrote $R/website_analytics.csv

progress "configurator_sessions.csv ~12,000" 1.5
awk -F, "$P"'
    BEGIN { init_lib(); srand(603) }
    FILENAME ~ /daily_sessions/ { S[$1] = $2; tot += $2; next }
    $1 == "C" { split($2, k, "|"); CAMP[k[1] "|" k[2] "|" k[3]] = $3 }
    END {
        # Spread 12,000 configurator starts over the year in proportion to sessions.
        n = 0; acc = 0
        for (d = 1; d <= 365; d++) { acc += S[d] * 12000 / tot; while (n < int(acc + 0.5)) DAY[++n] = d }
        while (n < 12000) DAY[++n] = 365
        split("facebook:meta_ads instagram:meta_ads google:google_ads tiktok:tiktok_ads youtube:youtube_ads linkedin:linkedin_ads", SRC, " ")
        print "session_id,start_timestamp,market,device,referral_source,model_selected,trim_selected,colour_selected,wheels_selected,interior_selected,accessories_added,finance_option_viewed,monthly_payment_viewed,completed,completion_time_seconds,lead_submitted,utm_source,utm_medium,utm_campaign"
        for (i = 1; i <= 12000; i++) {
            d = DAY[i]; mk = market(); md = model(d); paid = rand() < 0.55
            us = ""; um = ""; uc = ""; ref = pick("organic_search direct referral email")
            if (paid) {
                split(SRC[rint(1, 6)], sv, ":"); key = sv[2] "|" mk "|" sprintf("%02d", mon(d))
                if (key in CAMP) { us = sv[1]; um = (sv[1] == "google" ? "cpc" : "paid_social"); uc = pick(CAMP[key]); ref = "paid_" sv[1] }
            }
            comp = rand() < 0.35; fin = comp && rand() < 0.60
            trim = md == "S07" ? pickp("Pure|Design|Design|Design|Intelligence") : "Standard"
            printf "CFG%06d,%sT%02d:%02d:%02d,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s,%s\n", i, date(d), rint(7, 22), rint(0, 59), rint(0, 59),
                mk, pickp("mobile|mobile|desktop|tablet"), ref, md, trim,
                pickp("Aurora Green|Aurora Green|Pearl White|Nebula Grey|Midnight Black|Cosmos Blue|Sunset Orange"),
                pickp("19in|19in|20in|21in"), pickp("Black Vegan Leather|Grey Fabric|Tan Nappa"), rint(0, 4),
                (fin ? "True" : "False"), (fin && rand() < 0.8 ? "True" : "False"), (comp ? "True" : "False"),
                (comp ? rint(240, 480) : ""), (comp && rand() < 0.25 ? "True" : "False"), us, um, uc
        }
    }' data/tmp/daily_sessions.txt data/tmp/spend.txt > $R/configurator_sessions.csv.tmp
mv $R/configurator_sessions.csv.tmp $R/configurator_sessions.csv
wrote $R/configurator_sessions.csv

progress "leads.csv ~10,000" 1.5
awk -F, "$P"'
    BEGIN { init_lib(); srand(604) }
    NR > 1 { DLR[++nd] = $1 }
    END {
        # Leads from June (register interest) to December, weighted to the launch.
        split("0 0 0 0 0 0.04 0.06 0.08 0.24 0.22 0.20 0.16", LM, " ")
        n = 0
        for (m = 6; m <= 12; m++) { k = int(10000 * LM[m] + 0.5); for (j = 0; j < k && n < 10000; j++) DAY[++n] = month_start(m) + int(MD[m] * j / k) }
        while (n < 10000) DAY[++n] = 365
        split("NEW CONTACTED QUALIFIED TD_BOOKED TD_COMPLETED NEGOTIATION WON LOST", ST, " ")
        print "lead_id,created_date,market,source,model_interest,dealer_id,lead_status,status_date,days_in_pipeline,assigned_dealer,lead_score,contact_attempts,first_response_hours"
        for (i = 1; i <= 10000; i++) {
            d = DAY[i]; u = rand()
            src = u < 0.40 ? pickp("website_configurator|website_test_drive") : (u < 0.65 ? pickp("meta_lead_form|google_lead|linkedin_lead") : (u < 0.75 ? "event_signup" : (u < 0.90 ? pickp("dealer_walk_in|phone_enquiry") : "fleet_enquiry")))
            v = rand()
            st = v < 0.15 ? "NEW" : (v < 0.25 ? "CONTACTED" : (v < 0.40 ? "QUALIFIED" : (v < 0.50 ? "TD_BOOKED" : (v < 0.65 ? "TD_COMPLETED" : (v < 0.73 ? "NEGOTIATION" : (v < 0.85 ? "WON" : "LOST"))))))
            if (d < 244 && st == "WON") st = "LOST"
            age = rint(0, 60); sd = d + age > 365 ? 365 : d + age; dl = DLR[rint(1, nd)]
            fr = -log(1 - rand() * 0.999) * 2.9
            printf "L%05d,%s,%s,%s,%s,%s,%s,%s,%d,%s,%d,%d,%.1f\n", i, date(d), market(), src, model(d > 243 ? d : 244), dl, st, date(sd),
                sd - d, dl, (st == "WON" ? rint(60, 100) : rint(1, 90)), rint(1, 6), fr
        }
    }' data/generators/dealers.csv > $R/leads.csv.tmp
mv $R/leads.csv.tmp $R/leads.csv
wrote $R/leads.csv

progress "test_drives.csv ~8,000" 1.5
awk -F, "$P"'
    function doy(s,   m, d, k, n) { m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0; n = d; for (k = 1; k < m; k++) n += MD[k]; return n }
    BEGIN { init_lib(); srand(605) }
    FILENAME ~ /dealers/ { if (FNR > 1) { DLR[++nd] = $1; DN[nd] = $2 } next }
    FNR > 1 { LD[++nl] = doy($2) }
    END {
        print "booking_id,booking_date,test_drive_date,market,dealer_id,dealer_name,model,source,status,lead_id,feedback_score,feedback_text,duration_minutes,sale_within_90_days,days_to_sale"
        for (i = 1; i <= 8000; i++) {
            # Bookings from launch week on; each one points at a lead created before it.
            bd = 240 + int(125 * sqrt(rand())); if (bd > 358) bd = 358
            do { li = rint(1, nl) } while (LD[li] > bd)
            td = bd + rint(1, 7); if (td < 244) td = 244
            if (td > 365) td = 365
            wk = (td + 2) % 7; if (rand() < 0.45 && wk < 5) td = td + (5 - wk) > 365 ? td : td + (5 - wk)
            u = rand(); st = u < 0.68 ? "COMPLETED" : (u < 0.90 ? "NO_SHOW" : "CANCELLED")
            k = rint(1, nd); fb = ""; ft = ""; dur = ""; sale = "False"; dts = ""
            if (st == "COMPLETED") {
                fb = int(4.2 + 0.6 * gauss() + 0.5); if (fb > 5) fb = 5
                if (fb < 1) fb = 1
                ft = fb >= 4 ? pickp("Loved the ride|Great range|Impressive tech|Very quiet cabin") : pickp("Infotainment lag|Firm suspension|Wanted a longer drive")
                dur = rint(30, 60)
                if (rand() < 0.20) { sale = "True"; dts = rint(1, 90) }
            }
            printf "TD%06d,%s,%s,%s,%s,%s,%s,%s,%s,L%05d,%s,%s,%s,%s,%s\n", i, date(bd), date(td), market(), DLR[k], DN[k], model(td),
                pickp("website|website|dealer|event|fleet_day"), st, li, fb, ft, dur, sale, dts
        }
    }' data/generators/dealers.csv $R/leads.csv > $R/test_drives.csv.tmp
mv $R/test_drives.csv.tmp $R/test_drives.csv
wrote $R/test_drives.csv

progress "vehicle_sales.csv ~4,600" 1.5
awk -F, "$P"'
    BEGIN { init_lib(); srand(606) }
    NR > 1 { DLR[++nd] = $1; DN[nd] = $2; DR[nd] = $3; if ($5 == "True") LAUNCH[++nl] = nd }
    END {
        print "sale_id,sale_date,market,dealer_id,dealer_name,dealer_region,model,trim,colour,sale_type,list_price_gbp,transaction_price_gbp,discount_pct,finance_type,finance_term_months,lead_source,days_from_lead,days_from_test_drive,customer_postcode_area"
        split("UK:2800 DE:1200 FR:600", MK, " "); split("0.15 0.17 0.35 0.33", SM, " ")
        id = 0
        for (q = 1; q <= 3; q++) {
            split(MK[q], mv, ":")
            for (j = 0; j < mv[2]; j++) {
                # Sep-Oct ~30% of the year, nothing before launch.
                u = j / mv[2]; m = u < SM[1] ? 9 : (u < SM[1] + SM[2] ? 10 : (u < SM[1] + SM[2] + SM[3] ? 11 : 12))
                d = month_start(m) + rint(0, MD[m] - 1)
                x = rand(); md = (m == 12 && x < 0.06) ? "S05" : (x < 0.72 ? "S07" : (x < 0.92 || m < 10 ? "AVATR12" : "AVATR11"))
                trim = md == "S07" ? pickp("Pure|Design|Design|Intelligence") : "Standard"
                price = md == "S07" ? (trim == "Pure" ? 27990 : (trim == "Design" ? 31990 : 35990)) : (md == "S05" ? 29990 : (md == "AVATR12" ? 52990 : 58990))
                k = (m == 9 && rand() < 0.6) ? LAUNCH[rint(1, nl)] : rint(1, nd)
                disc = m <= 10 ? unif(0, 3) : unif(3, 7)
                y = rand(); st = y < 0.55 ? "retail" : (y < 0.85 ? "fleet" : "salary_sacrifice")
                y = rand(); fin = y < 0.45 ? "pcp" : (y < 0.70 ? "lease" : (y < 0.85 ? "hp" : "cash"))
                printf "S%05d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%.2f,%.2f,%s,%s,%s,%d,%d,%s\n", ++id, date(d), mv[1], DLR[k], DN[k], DR[k], md, trim,
                    pickp("Aurora Green|Aurora Green|Aurora Green|Aurora Green|Aurora Green|Pearl White|Pearl White|Pearl White|Pearl White|Nebula Grey|Nebula Grey|Nebula Grey|Nebula Grey|Midnight Black|Midnight Black|Midnight Black|Cosmos Blue|Cosmos Blue|Sunset Orange|Sunset Orange"),
                    st, price, price * (1 - disc / 100), disc, fin, (fin == "cash" ? "" : pickp("24|36|48")),
                    pickp("website|test_drive|test_drive|walk_in|fleet_enquiry|referral"), rint(5, 120), rint(1, 90),
                    pickp("SW|N|M|B|LS|G|EH|CF|BS|NE")
            }
        }
    }' data/generators/dealers.csv > $R/vehicle_sales.csv.tmp
mv $R/vehicle_sales.csv.tmp $R/vehicle_sales.csv
wrote $R/vehicle_sales.csv
rm -rf data/tmp

say "Funnel: $(rows $R/configurator_sessions.csv) configurator sessions > $(rows $R/leads.csv) leads > $(rows $R/test_drives.csv) test drives > $(rows $R/vehicle_sales.csv) sales."
tool TaskUpdate "#6 → completed" "5 files"
finish "sales-pipeline-gen: task #6 complete"
