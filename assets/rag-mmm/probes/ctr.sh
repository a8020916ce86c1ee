#!/bin/sh
# Probe: CTR consistency in the digital media CSVs, which the check language cannot say:
# on every row with impressions, |ctr - clicks / impressions| <= 0.0001.
# Prints `rows=N mismatches=M max_error=E`; exits 1 when any row disagrees.
set -eu
cd "${1:-.}"
awk -F, '
    FNR == 1 { delete H; for (k = 1; k <= NF; k++) H[$k] = k; files++; next }
    $H["impressions"] > 0 {
        rows++; e = $H["ctr"] - $H["clicks"] / $H["impressions"]; if (e < 0) e = -e
        if (e > max) max = e
        if (e > 0.0001) { bad++; if (bad <= 3) printf "mismatch %s:%d ctr=%s clicks=%s impressions=%s\n", FILENAME, FNR, $H["ctr"], $H["clicks"], $H["impressions"] }
    }
    END { printf "files=%d rows=%d mismatches=%d max_error=%.6f\n", files, rows, bad, max; exit bad > 0 }
' data/raw/meta_ads.csv data/raw/google_ads.csv data/raw/dv360.csv data/raw/tiktok_ads.csv \
  data/raw/youtube_ads.csv data/raw/linkedin_ads.csv
