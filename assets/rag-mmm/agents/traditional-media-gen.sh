#!/bin/sh
# Simulated traditional-media-gen: Task 4, TV, OOH, print and radio CSVs (£10.0M).
set -eu
A=$(cd "$(dirname "$0")/.." && pwd)
. "$A/../lib/sim.sh"
P="$(cat "$A/lib.awk" "$A/media.awk")"
# Weighted rows: a program fills D[i] (day) and W[i] (weight) for i = 1..N in BEGIN,
# then norm() turns weights into spend SP[i] summing exactly to BUDGET.
NORM='function norm(   i, t) { for (i = 1; i <= N; i++) t += W[i]; for (i = 1; i <= N; i++) SP[i] = BUDGET * W[i] / t }'
gen() { # gen FILE SEED BUDGET PROGRAM
    awk -v BUDGET="$3" "$P
$NORM
BEGIN { init_lib(); srand($2) }
$4" > "$1.tmp"
    mv "$1.tmp" "$1"
}

banner "traditional-media-gen · synthetic-data-gen" "Task #4: TV, OOH, print, radio"
tool TaskUpdate "#4 → in_progress" "blocked by #1: completed"
tool Read "data/generators/config.py" "tv £6.0M · ooh £3.0M · print £0.6M · radio £0.4M"
tool Read "data/generators/dealers.csv" "50 dealers, 15 launch dealers open 2025-09-01"
tool Write "data/generators/traditional_media.py" ""
printf '"""Traditional media generators (TV, OOH, print, radio)."""\n' > data/generators/traditional_media.py
mkdir -p data/raw
say "TV runs in flights: two weeks on, one off, except the launch (Sep-Oct: always on)."

progress "tv_performance.csv   ~300" 1.5
gen data/raw/tv_performance.csv 401 6000000 '
BEGIN {
    split("ITV Channel4 Sky ITV_BVOD Channel4_BVOD Sky_BVOD", B, " ")
    prog["ITV"] = "Coronation_Street This_Morning Britains_Got_Talent"; prog["Channel4"] = "Gogglebox Grand_Designs"
    prog["Sky"] = "Sky_Sports Sky_News"
    for (w = 1; w <= 52; w++) for (b = 1; b <= 6; b++) {
        N++; D[N] = 1 + 7 * (w - 1); BR[N] = B[b]
        on = (w % 3 != 0) || (mon(D[N]) == 9 || mon(D[N]) == 10)
        W[N] = on ? SEASON[mon(D[N])] * (b <= 3 ? 0.70 : 0.30) * unif(0.85, 1.15) : 0
    }
    norm()
    print "date_week_start,broadcaster,daypart,market,spot_length_seconds,spots_aired,grps,reach_000,reach_pct,avg_frequency,cpp,spend,programme_name"
    for (i = 1; i <= N; i++) {
        s = SP[i]; dp = pick("peak peak off-peak daytime late_night")
        cpp = dp == "peak" ? unif(25000, 40000) : unif(8000, 15000)
        grps = s > 0 ? s / cpp : 0; base = BR[i]; sub("_BVOD", "", base)
        len = mon(D[i]) == 9 ? 60 : pick("30 30 10")
        rp = s > 0 ? unif(20, 40) : 0
        printf "%s,%s,%s,UK,%d,%d,%s,%d,%s,%s,%s,%s,%s\n", date(D[i]), BR[i], dp, len, int(grps * 2.5), r2(grps),
            int(rp * 530), r2(rp), r2(s > 0 ? unif(3, 6) : 0), r2(s > 0 ? cpp : 0), r2(s), pick(prog[base])
    }
}'
wrote data/raw/tv_performance.csv

progress "ooh_performance.csv  ~150" 1.0
gen data/raw/ooh_performance.csv 402 3000000 '
BEGIN {
    split("classic_48sheet classic_96sheet bus_shelter transport_rail", CL, " ")
    split("digital_d6 digital_large transport_underground", DG, " ")
    split("London:London Manchester:North_West Birmingham:West_Midlands Leeds:Yorkshire Glasgow:Scotland Bristol:South_West", LOC, " ")
    for (c = 1; c <= 26; c++) for (k = 1; k <= 6; k++) {
        N++; D[N] = 1 + 14 * (c - 1); m = mon(D[N])
        W[N] = SEASON[m] * ((m == 9 || m == 10) && k <= 2 ? 1.6 : 1) * unif(0.85, 1.15)
        split(LOC[k], lc, ":"); CITY[N] = lc[1]; REG[N] = lc[2]; gsub("_", " ", REG[N])
    }
    norm()
    print "campaign_name,campaign_id,start_date,end_date,market,format,vendor,sites_booked,impressions,reach_000,frequency,spend,region,city"
    for (i = 1; i <= N; i++) {
        dig = rand() < 0.55; f = dig ? DG[rint(1, 3)] : CL[rint(1, 4)]
        name = "UK_S07_OOH_" CITY[i] "_C" sprintf("%02d", int((D[i] - 1) / 14) + 1)
        imp = int(SP[i] / unif(3, 7) * 1000)
        printf "%s,%s,%s,%s,UK,%s,%s,%d,%d,%d,%s,%s,%s,%s\n", name, cid("OOH", name f), date(D[i]), date(D[i] + 13 > 365 ? 365 : D[i] + 13),
            f, (dig ? "JCDecaux" : pick("JCDecaux ClearChannel")), rint(10, 120), imp, int(imp / 4000), r2(unif(3, 6)),
            r2(SP[i]), REG[i], CITY[i]
    }
}'
wrote data/raw/ooh_performance.csv

progress "print_performance.csv ~100" 0.8
gen data/raw/print_performance.csv 403 600000 '
BEGIN {
    split("Autocar|What Car?|Top Gear Magazine|Auto Express|Sunday Times Driving|The Telegraph Motoring|CAR Magazine", PUB, "|")
    for (N = 1; N <= 100; N++) {
        u = rand()
        D[N] = u < 0.6 ? rint(244, 304) : (u < 0.8 ? rint(182, 243) : rint(305, 365))
        W[N] = (mon(D[N]) >= 9 && mon(D[N]) <= 10 ? 2 : 1) * unif(0.7, 1.3)
    }
    N = 100; norm()
    print "date,publication,edition,format,market,model,rate_card_cost,negotiated_cost,spend,circulation,readership_000,page_number,creative_id"
    for (i = 1; i <= N; i++) {
        neg = SP[i]; rc = neg / unif(0.5, 0.7)
        printf "%s,%s,%s,%s,UK,%s,%s,%s,%s,%d,%d,%d,CR%03d\n", date(D[i]), PUB[rint(1, 7)], substr(date(D[i]), 1, 7),
            pick("full_page half_page dps cover_wrap advertorial"), model(D[i]), r2(rc), r2(neg), r2(neg),
            rint(40000, 250000), rint(150, 900), rint(2, 120), i
    }
}'
wrote data/raw/print_performance.csv

progress "radio_performance.csv ~60" 0.8
gen data/raw/radio_performance.csv 404 400000 '
BEGIN {
    split("Capital FM:Global Heart:Global Classic FM:Global LBC:Global talkSPORT:Wireless Greatest Hits Radio:Bauer Hits Radio:Bauer", ST, " ")
    for (N = 1; N <= 60; N++) { D[N] = N <= 8 ? rint(182, 243) : rint(244, 334); W[N] = unif(0.7, 1.3) }
    N = 60; norm()
    print "campaign_name,start_date,end_date,station,station_group,market,daypart,spots_per_day,total_spots,reach_000,frequency,cpm,spend,region"
    for (i = 1; i <= N; i++) {
        k = split(pick("Capital_FM:Global Heart:Global Classic_FM:Global LBC:Global talkSPORT:Wireless Greatest_Hits_Radio:Bauer Hits_Radio:Bauer"), sg, ":")
        st = sg[1]; gsub("_", " ", st); len = rint(7, 14); spd = rint(4, 12); u = rand()
        dp = u < 0.60 ? "breakfast_drive" : (u < 0.85 ? "daytime" : "evening_drive")
        cpm = unif(4, 9); reach = SP[i] / cpm
        printf "UK_S07_Radio_%s_F%02d,%s,%s,%s,%s,UK,%s,%d,%d,%d,%s,%s,%s,%s\n", sg[2], i, date(D[i]), date(D[i] + len > 365 ? 365 : D[i] + len),
            st, sg[2], dp, spd, spd * len, int(reach), r2(unif(3, 7)), r2(cpm), r2(SP[i]),
            pick("London North_West West_Midlands Yorkshire Scotland South_East")
    }
}'
wrote data/raw/radio_performance.csv

tool TaskUpdate "#4 → completed" "4 files"
finish "traditional-media-gen: task #4 complete"
