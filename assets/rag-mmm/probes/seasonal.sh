#!/bin/sh
# Probe: the Sep-Oct launch peak. Sums spend per month over every channel CSV and
# requires September and October to be the two biggest months.
# Prints the months and `sep_oct_share=S` (their share of the year); exits 1 otherwise.
set -eu
cd "${1:-.}"
awk -F, '
    FNR == 1 { delete H; for (k = 1; k <= NF; k++) H[$k] = k
               dc = ("date" in H) ? H["date"] : (("date_week_start" in H) ? H["date_week_start"] : H["start_date"]); next }
    { m = substr($dc, 6, 2) + 0; S[m] += $H["spend"]; T += $H["spend"] }
    END {
        for (m = 1; m <= 12; m++) {
            printf "month=%02d spend=%.0f\n", m, S[m]
            if (m != 9 && m != 10 && (S[m] >= S[9] || S[m] >= S[10])) { printf "month %02d outspends the launch\n", m; bad = 1 }
        }
        printf "sep_oct_share=%.3f\n", (S[9] + S[10]) / T
        exit bad
    }
' data/raw/meta_ads.csv data/raw/google_ads.csv data/raw/dv360.csv data/raw/tiktok_ads.csv \
  data/raw/youtube_ads.csv data/raw/linkedin_ads.csv data/raw/tv_performance.csv \
  data/raw/ooh_performance.csv data/raw/print_performance.csv data/raw/radio_performance.csv data/raw/events.csv
