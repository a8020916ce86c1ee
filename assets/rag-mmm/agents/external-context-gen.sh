#!/bin/sh
# Simulated external-context-gen: Task 5 (competitor spend, economic indicators, events,
# SLA tracking) and Task 7 (seven vendor contracts in markdown).
set -eu
A=$(cd "$(dirname "$0")/.." && pwd)
. "$A/../lib/sim.sh"
P="$(cat "$A/lib.awk" "$A/media.awk")"
gen() { # gen FILE SEED PROGRAM
    awk "$P
BEGIN { init_lib(); srand($2) }
$3" > "$1.tmp"
    mv "$1.tmp" "$1"
}

banner "external-context-gen · synthetic-data-gen" "Tasks #5 external context, #7 vendor contracts"
tool TaskUpdate "#5 → in_progress" "blocked by #1: completed"
tool Read "data/generators/config.py" "MARKET_SPLIT, CHANNEL_BUDGETS['events'] = 600,000"
printf '"""External context: competitor spend, economic indicators."""\n' > data/generators/external_data.py
printf '"""Event calendar."""\n' > data/generators/events.py
mkdir -p data/raw/contracts

progress "competitor_spend.csv 360" 1.0
gen data/raw/competitor_spend.csv 501 '
BEGIN {
    split("BYD:30 Tesla:5 MG:15 Hyundai_Ioniq:20 Xpeng:8", C, " ")
    print "year_month,competitor,channel,estimated_spend_gbp,share_of_voice_pct,source"
    for (m = 1; m <= 12; m++) for (k = 1; k <= 5; k++) {
        split(C[k], cv, ":"); monthly = cv[2] * 1e6 * SEASON[m] / 10.15
        tvs = cv[1] == "BYD" ? 0.5 : (cv[1] == "Tesla" ? 0.05 : 0.35)
        split("tv digital ooh print radio", CH, " "); split(tvs " 0.35 0.15 0.08 0.07", SH, " ")
        tot = 0
        for (c = 1; c <= 5; c++) { v = monthly * SH[c] * unif(0.8, 1.2); tot += v
            printf "2025-%02d,%s,%s,%.0f,%.1f,Nielsen Ad Intel Estimate\n", m, cv[1], CH[c], v, 100 * SH[c] * unif(0.1, 0.3) }
        printf "2025-%02d,%s,total,%.0f,%.1f,Nielsen Ad Intel Estimate\n", m, cv[1], tot, cv[2] / 0.78
    }
}'
wrote data/raw/competitor_spend.csv

progress "economic_indicators.csv 36" 0.6
gen data/raw/economic_indicators.csv 502 '
BEGIN {
    print "year_month,country,smmt_total_registrations,smmt_bev_registrations,bev_market_share_pct,consumer_confidence_index,bank_rate_pct,avg_petrol_price_ppl,avg_electricity_price_pkwh,unemployment_rate_pct,cpi_index,new_car_avg_transaction_price_gbp"
    split("1.00 0.60 2.20 1.00 1.00 1.10 0.80 0.40 2.30 1.00 0.90 0.70", REG, " ")
    split("UK:1.0 DE:1.6 FR:1.0", CO, " ")
    for (m = 1; m <= 12; m++) for (k = 1; k <= 3; k++) {
        split(CO[k], cv, ":"); tot = int(150000 * REG[m] / 1.083 * cv[2] * unif(0.95, 1.05))
        share = 22 + 6 * (m - 1) / 11 + unif(-0.5, 0.5)
        printf "2025-%02d,%s,%d,%d,%.1f,%.1f,%.2f,%.1f,%.1f,%.1f,%.1f,%d\n", m, cv[1], tot, int(tot * share / 100), share,
            -15 + 7 * (m - 1) / 11 + unif(-1, 1), 4.50 - 0.75 * int((m - 1) / 3) / 3, unif(140, 155), unif(24, 28),
            unif(4.2, 4.6), 134 + m * 0.3, rint(36000, 41000)
    }
}'
wrote data/raw/economic_indicators.csv

progress "events.csv ~15" 0.6
gen data/raw/events.csv 503 '
BEGIN {
    n = split("Goodwood Festival of Speed|motor_show|2025-07-10|2025-07-13|Chichester|0.18;" \
        "Fully Charged Live|motor_show|2025-06-13|2025-06-15|Farnborough|0.08;" \
        "Press launch drive|press_event|2025-08-19|2025-08-21|Cotswolds|0.05;" \
        "Press launch evening|press_event|2025-09-02|2025-09-02|London|0.04;" \
        "Launch weekend London|dealer_launch|2025-09-06|2025-09-07|London|0.09;" \
        "Launch weekend Manchester|dealer_launch|2025-09-13|2025-09-14|Manchester|0.06;" \
        "Launch weekend Birmingham|dealer_launch|2025-09-20|2025-09-21|Birmingham|0.06;" \
        "Launch weekend Leeds|dealer_launch|2025-10-04|2025-10-05|Leeds|0.05;" \
        "Launch weekend Glasgow|dealer_launch|2025-10-11|2025-10-12|Glasgow|0.05;" \
        "Fleet showcase Silverstone|fleet_event|2025-10-22|2025-10-22|Silverstone|0.06;" \
        "Fleet showcase Leeds|fleet_event|2025-11-12|2025-11-12|Leeds|0.05;" \
        "Premiership Rugby sponsorship|sponsorship|2025-09-01|2025-11-30|UK|0.10;" \
        "Test drive tour South|test_drive_event|2025-10-18|2025-10-26|Brighton|0.04;" \
        "Test drive tour North|test_drive_event|2025-11-01|2025-11-09|Newcastle|0.04;" \
        "Christmas showcase Westfield|dealer_launch|2025-12-05|2025-12-21|London|0.05", E, ";")
    print "event_name,event_type,start_date,end_date,location,market,estimated_attendance,media_impressions,spend,leads_generated,test_drives_completed,description"
    for (i = 1; i <= n; i++) {
        split(E[i], f, "|"); sp = 600000 * f[6]; att = int(sp / unif(8, 20))
        printf "%s,%s,%s,%s,%s,UK,%d,%d,%.2f,%d,%d,%s\n", f[1], f[2], f[3], f[4], f[5], att, att * rint(40, 120), sp,
            int(att * unif(0.03, 0.08)), int(att * unif(0.005, 0.02)), f[2] " at " f[5] " for the DEEPAL S07"
    }
}'
wrote data/raw/events.csv

progress "sla_tracking.csv ~50" 0.6
gen data/raw/sla_tracking.csv 504 '
BEGIN {
    split("ITV:tv:grp_delivery_pct:100 JCDecaux:ooh:site_availability_pct:98 DV360:digital:viewability_pct:70 MediaAgency:agency:reporting_on_time_pct:100", K, " ")
    print "year_month,vendor,contract_type,metric_name,contracted_value,actual_value,variance_pct,in_compliance,notes"
    for (m = 1; m <= 12; m++) for (k = 1; k <= 4; k++) {
        split(K[k], kv, ":"); target = kv[4]; actual = target * unif(1.0, 1.04); note = "on target"
        if (kv[1] == "JCDecaux" && m == 9) { actual = 93.5; note = "3 D6 sites unavailable (planning)" }
        if (kv[1] == "ITV" && m == 10) { actual = 91.2; note = "under-delivery in the October flight; make-good agreed" }
        if (kv[1] == "DV360" && m >= 11) { actual = 66 + m - 11; note = "viewability dip in Q4" }
        if (actual > 100 && kv[1] != "DV360") actual = 100
        printf "2025-%02d,%s,%s,%s,%.1f,%.1f,%.1f,%s,%s\n", m, kv[1], kv[2], kv[3], target, actual,
            100 * (actual - target) / target, (actual >= target ? "True" : "False"), note
    }
    # Two quarterly brand-safety audits.
    printf "2025-06,DV360,digital,brand_safety_incidents,0,0,0.0,True,Q2 audit clean\n"
    printf "2025-12,DV360,digital,brand_safety_incidents,0,1,100.0,False,one adjacency incident in Q4\n"
}'
wrote data/raw/sla_tracking.csv
tool TaskUpdate "#5 → completed" ""

tool TaskUpdate "#7 → in_progress" "7 contracts for the RAG pipeline"
printf '"""Vendor contract documents."""\n' > data/generators/contracts.py
# contract FILE LINES SEED TITLE COUNTERPARTY TERMS (TERMS: clause titles separated by |)
contract() {
    awk -v lines="$2" -v seed="$3" -v title="$4" -v party="$5" -v terms="$6" "$P"'
    BEGIN {
        init_lib(); srand(seed)
        nt = split(terms, T, "|")
        split("Definitions|Term and Commencement|Commitment and Payment|Delivery and Reporting|Make-Good|Cancellation|Brand Safety|Data and Measurement|Liability|Force Majeure|Confidentiality|Termination|Governing Law", G, "|")
        print "# " title; print ""
        print "**Between** " party " (the \"Supplier\") **and** DEEPAL UK Ltd (the \"Advertiser\")"; print ""
        print "Effective date: 2025-07-01 · Term: 12 months · Reference: " toupper(substr(title, 1, 3)) "-2025-" rint(100, 999); print ""
        print "## Recitals"; print ""
        print "A. The Supplier sells advertising inventory and related services in the United Kingdom."
        print "B. The Advertiser launches the DEEPAL S07 in the United Kingdom on 2025-09-01."
        print "C. The parties agree the terms below, which prevail over any insertion order."; print ""
        n = 16; k = 0
        while (n < lines - 22) {
            k++; head = k <= nt ? T[k] : G[(k - nt - 1) % 13 + 1]
            print "## " k ". " head; print ""; n += 2
            subs = rint(3, 6)
            for (j = 1; j <= subs && n < lines - 22; j++) {
                printf "%d.%d %s %s, subject to clause %d.%d, within %d days of written notice.\n", k, j,
                    pickp("The Supplier shall|The Advertiser may|Each party shall|Neither party shall"),
                    pickp("deliver the booked impacts|provide weekly delivery reports|make good any shortfall|pay undisputed invoices|notify material changes|share campaign measurement data"),
                    rint(1, k), 1, rint(5, 60)
                n++
            }
            print ""; n++
        }
        print "## Appendix A: Rate card"; print ""
        print "| Item | Unit | Rate (GBP) |"; print "|---|---|---:|"
        for (r = 1; r <= 8; r++) printf "| %s | %s | %d |\n", pickp("Peak|Off-peak|Daytime|D6 panel|48-sheet|BVOD CPM|Sponsorship|Production"), pickp("per spot|per week|per 1,000|per item"), rint(500, 40000)
        print ""; print "## Signatures"; print ""
        print "Signed for the Supplier: ____________________  Date: __________"
        print "Signed for the Advertiser: _________________  Date: __________"
    }' > "$1.tmp"
    mv "$1.tmp" "$1"
    wrote "$1"
    pause 0.3
}
contract data/raw/contracts/ITV_Airtime_Agreement.md 200 701 "ITV Airtime Agreement" "ITV plc" \
    "Annual Commitment of 2,500,000 linear and 800,000 ITVX|Rate Card by Daypart (CPP)|Make-Good for Under-Delivery|Cancellation: 8 weeks linear and 2 weeks BVOD|Brand Safety: no gambling or alcohol adjacency"
contract data/raw/contracts/Sky_Airtime_Agreement.md 200 702 "Sky Airtime Agreement" "Sky Media" \
    "Annual Commitment of 1,800,000 linear and 600,000 Sky Go and AdSmart|AdSmart Addressable Targeting|Sports Inventory Premiums"
contract data/raw/contracts/Sky_BVOD_Addendum.md 150 703 "Sky BVOD Addendum" "Sky Media" \
    "AdSmart Targeting Capabilities|CPM-Based Pricing|Frequency Capping|Data Sharing and Measurement"
contract data/raw/contracts/JCDecaux_OOH_Contract.md 200 704 "JCDecaux OOH Contract" "JCDecaux UK Ltd" \
    "Annual Commitment of 1,800,000|Site List by Format (D6, 48-sheet, transport)|Impression Guarantees and Make-Good|Installation and Production|Digital Content Rotation (hourly)|Force Majeure: site damage and planning permission"
contract data/raw/contracts/ClearChannel_DOOH_Agreement.md 180 705 "Clear Channel DOOH Agreement" "Clear Channel UK" \
    "Annual Commitment of 1,200,000|Programmatic DOOH via Hivestack and Vistar|Audience Measurement Methodology|Environmental Commitments"
contract data/raw/contracts/Channel4_Media_Partnership.md 180 706 "Channel 4 Media Partnership" "Channel 4" \
    "Annual Commitment of 800,000 airtime and 200,000 partnership|Branded Content Partnership|All 4 Streaming Inclusion|Sustainability Messaging|Talent Usage Rights"
contract data/raw/contracts/MediaAgency_Terms_of_Business.md 250 707 "Media Agency Terms of Business" "Northlight Media Ltd" \
    "Commission: 3% on media and 15% on production|Scope: planning, buying, trafficking, reporting|Payment Terms: 30 days from invoice|Annual Media Audit|Data Ownership and IP|KPI Framework and Performance Bonus|Termination: 90 days notice and handover"
tool TaskUpdate "#7 → completed" "7 contracts"
finish "external-context-gen: tasks #5 and #7 complete"
