# media.awk: the shared skeleton of the media generators. Each program sets N (rows),
# BUDGET (annual spend) and calls spread(); then SP[i] is row i's spend and D[i] its
# day of 2025: rows are spread evenly over the year, spend follows the seasonal index
# with +-15% daily noise, and the total is exactly BUDGET.
function spread(   i, tot) {
    for (i = 1; i <= N; i++) {
        D[i] = int((i - 1) * 365 / N) + 1
        W[i] = SEASON[mon(D[i])] * unif(0.85, 1.15)
        tot += W[i]
    }
    for (i = 1; i <= N; i++) SP[i] = BUDGET * W[i] / tot
}
# Stable ids per campaign name.
function cid(prefix, name) {
    if (!(name in CID)) CID[name] = sprintf("%s%05d", prefix, ++NCID)
    return CID[name]
}
# "awareness" -> "Awareness", "lead_gen" -> "LeadGen"
function camel(s,   parts, n, k, out) {
    n = split(s, parts, "_")
    for (k = 1; k <= n; k++) out = out toupper(substr(parts[k], 1, 1)) substr(parts[k], 2)
    return out
}
function r2(x) { return sprintf("%.2f", x) }
function r4(x) { return sprintf("%.4f", x) }
function ctr(clicks, impr) { return impr > 0 ? sprintf("%.6f", clicks / impr) : "0" }
