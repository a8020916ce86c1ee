#!/bin/sh
# Simulated Session C (analytics), in its worktree on feature/analytics.
set -eu
V=$(cd "$(dirname "$0")/.." && pwd)
. "$V/../lib/sim.sh"
banner "Session C · analytics (${MODEL:-sonnet})" "branch $(git branch --show-current) · $(pwd)"
tool Read "PLAN_C_ANALYTICS.md" "weeks 1-3 vs 4-6, z-scores, top 3-5 insights"
tool Read "src/contracts/schemas.py" "ANOMALY_COLUMNS, INSIGHT_FIELDS"
mkdir -p src/analytics data/analytics data/tmp
upstream=${FLIGHTDECK_ROOT:-..}/.flightdeck/worktrees/data-generator/data/raw/transactions.csv
if [ -f "$upstream" ]; then
    say "Reading Session A's transactions."
    cp "$upstream" data/tmp/tx.csv
else
    say "No upstream data yet: using a contract-shaped dataset from the shared generator."
    awk -f "$V/transactions.awk" < /dev/null > data/tmp/tx.csv
fi
for f in anomaly_detection insights; do
    printf '"""Analytics: %s (see PLAN_C_ANALYTICS.md)."""\n' "$f" > "src/analytics/$f.py"
    tool Write "src/analytics/$f.py" ""
done
progress "two-proportion z-tests per segment" 3
awk -F, '
    function bucket_amt(a) { return a < 50 ? "<50" : (a < 200 ? "50-200" : (a < 500 ? "200-500" : ">=500")) }
    function bucket_hr(h) { return h < 12 ? "morning" : (h < 18 ? "afternoon" : "evening") }
    function add(dim, seg) { K = dim "|" seg; if (!(K in SEEN)) { SEEN[K]; ORDER[++no] = K }
        if (late) { N2[K]++; A2[K] += $11; V2[K] += $10 } else { N1[K]++; A1[K] += $11 } }
    # Two-sided p-value of a z-score (Abramowitz-Stegun 26.2.17).
    function pval(z,   t, p) { if (z < 0) z = -z; t = 1 / (1 + 0.2316419 * z)
        p = 0.3989423 * exp(-z * z / 2) * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))))
        return 2 * p }
    NR == 1 { next }
    { late = $4 >= 4; add("country", $6); add("issuer", $7); add("card_brand", $8); add("amount_bucket", bucket_amt($10))
      add("hour_bucket", bucket_hr($5)); add("merchant_category", $9)
      if (late) { LN++; LA += $11 } else { EN++; EA += $11 } }
    END {
        print "dimension,segment,rate_before,rate_after,delta,z_score,p_value,is_anomaly,revenue_impact_usd" > "data/analytics/anomalies.csv"
        for (k = 1; k <= no; k++) {
            K = ORDER[k]; split(K, p, "|"); if (!N1[K] || !N2[K]) continue
            r1 = A1[K] / N1[K]; r2 = A2[K] / N2[K]; pp = (A1[K] + A2[K]) / (N1[K] + N2[K])
            se = sqrt(pp * (1 - pp) * (1 / N1[K] + 1 / N2[K])); z = se > 0 ? (r2 - r1) / se : 0; pv = pval(z)
            an = (pv < 0.01 && r2 - r1 < -0.10) ? 1 : 0; imp = (r2 - r1) * V2[K]
            printf "%s,%s,%.4f,%.4f,%.4f,%.3f,%.6f,%d,%.2f\n", p[1], p[2], r1, r2, r2 - r1, z, pv, an, imp > "data/analytics/anomalies.csv"
            if (an) { S[++ns] = K; SC[ns] = -imp; D1[ns] = r1; D2[ns] = r2; IM[ns] = imp }
        }
        # Rank anomalies by revenue impact (the heaviest weight) and keep the top five.
        for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (SC[j] > SC[i]) {
            t = S[i]; S[i] = S[j]; S[j] = t; t = SC[i]; SC[i] = SC[j]; SC[j] = t
            t = D1[i]; D1[i] = D1[j]; D1[j] = t; t = D2[i]; D2[i] = D2[j]; D2[j] = t; t = IM[i]; IM[i] = IM[j]; IM[j] = t }
        top = ns < 5 ? ns : 5
        print "[" > "data/analytics/insights.json"
        for (i = 1; i <= top; i++) { split(S[i], p, "|")
            printf "  {\"rank\": %d, \"title\": \"%s %s approval fell %.0f points\", \"description\": \"Approval for %s = %s went from %.1f%% in weeks 1-3 to %.1f%% in weeks 4-6.\", \"score\": %.3f, \"impact_usd\": %.2f, \"segment\": \"%s=%s\"}%s\n",
                i, p[1], p[2], 100 * (D1[i] - D2[i]), p[1], p[2], 100 * D1[i], 100 * D2[i], 1 - (i - 1) * 0.15, IM[i], p[1], p[2], (i < top ? "," : "") > "data/analytics/insights.json" }
        print "]" > "data/analytics/insights.json"
        printf "{\"transactions\": %d, \"approval_weeks_1_3\": %.4f, \"approval_weeks_4_6\": %.4f, \"anomalies\": %d, \"insights\": %d}\n",
            EN + LN, EA / EN, LA / LN, ns, top > "data/analytics/summary.json"
    }' data/tmp/tx.csv
parquet data/analytics/anomalies.csv data/analytics/anomalies.parquet
rm -rf data/analytics/anomalies.csv data/tmp
wrote data/analytics/anomalies.parquet
wrote data/analytics/insights.json
wrote data/analytics/summary.json
say "Top insight: $(sed -n 2p data/analytics/insights.json | sed 's/.*"title": "\([^"]*\)".*/\1/')"
git add -A
git commit -qm "feat: anomaly detection and ranked insights"
tool Bash "git log --oneline -1" "$(git log --oneline -1)"
finish "Session C complete: insights, anomalies, summary on feature/analytics"
