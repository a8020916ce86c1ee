# transactions.awk: the VoltMarket transactions (deterministic; BEGIN only).
# Six weeks from 2025-09-01, N rows. Approval falls from 82% (week 1) to 64% (week 6),
# shaped by three embedded patterns:
#   - BBVA Mexico collapses from week 4,
#   - high-value payments (>= 500 USD) degrade from week 4,
#   - evenings (18:00 and later) underperform throughout.
# Within each week the patterns set relative odds; the week's mean hits its target.
function pickw(list, weights,   a, w, n, k, u, acc) {
    n = split(list, a, "|"); split(weights, w, " "); u = rand(); acc = 0
    for (k = 1; k <= n; k++) { acc += w[k]; if (u < acc) return a[k] }
    return a[n]
}
BEGIN {
    if (N == "") N = 8000
    srand(2025)
    split("0.82 0.784 0.748 0.712 0.676 0.64", TARGET, " ")
    split("30 31 30 31 31 30 31 31 30 31 30 31", MD, " ")
    ISS["MX"] = "BBVA Mexico|Banorte|Santander Mexico|Citibanamex"; IW["MX"] = "0.40 0.25 0.20 0.15"
    ISS["BR"] = "Itau|Bradesco|Nubank|Banco do Brasil"; IW["BR"] = "0.30 0.25 0.25 0.20"
    ISS["CO"] = "Bancolombia|Davivienda"; IW["CO"] = "0.6 0.4"
    ISS["AR"] = "Galicia|Santander Rio"; IW["AR"] = "0.55 0.45"
    ISS["CL"] = "Banco de Chile|BCI"; IW["CL"] = "0.5 0.5"
    ISS["PE"] = "BCP|Interbank"; IW["PE"] = "0.6 0.4"
    for (i = 1; i <= N; i++) {
        wk = int((i - 1) * 6 / N) + 1; day = (wk - 1) * 7 + int(rand() * 7)      # 0..41 from Sep 1
        # Hours: busier in the afternoon and evening.
        h = int(8 + 15 * sqrt(rand())); if (h > 23) h = 23
        c = pickw("MX|BR|CO|AR|CL|PE", "0.38 0.30 0.12 0.08 0.07 0.05")
        iss = pickw(ISS[c], IW[c])
        amt = exp(log(80) + 1.1 * sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185307 * rand()))
        if (amt < 1) amt = 1 + rand()
        f = 1
        if (iss == "BBVA Mexico" && wk >= 4) f *= 0.35
        if (amt >= 500) f *= (wk >= 4 ? 0.70 : 0.95)
        if (h >= 18) f *= 0.85
        W[i] = wk; DAY[i] = day; H[i] = h; C[i] = c; I[i] = iss; A[i] = amt; F[i] = f
        SF[wk] += f; NW[wk]++
    }
    print "transaction_id,timestamp,date,week,hour,country,issuer,card_brand,merchant_category,amount_usd,approved,decline_reason"
    for (i = 1; i <= N; i++) {
        wk = W[i]; p = TARGET[wk] * F[i] / (SF[wk] / NW[wk]); if (p > 0.99) p = 0.99
        ok = rand() < p
        m = 9; d = DAY[i] + 1; if (d > 30) { m = 10; d -= 30 }
        reason = ok ? "" : pickw("insufficient_funds|do_not_honor|suspected_fraud|issuer_unavailable|invalid_cvv", "0.35 0.30 0.15 0.12 0.08")
        if (!ok && I[i] == "BBVA Mexico" && wk >= 4) reason = "issuer_unavailable"
        printf "TX%06d,2025-%02d-%02d %02d:%02d:%02d,2025-%02d-%02d,%d,%d,%s,%s,%s,%s,%.2f,%d,%s\n", i, m, d, H[i], int(rand() * 60),
            int(rand() * 60), m, d, wk, H[i], C[i], I[i], pickw("Visa|Mastercard|Amex", "0.55 0.38 0.07"),
            pickw("electronics|travel|grocery|fashion|gaming|utilities", "0.2 0.15 0.25 0.15 0.15 0.1"), A[i], ok, reason
    }
}
