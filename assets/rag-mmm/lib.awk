# lib.awk: shared functions for the rag-mmm simulated generators (mawk/gawk/busybox).

# Day of 2025 (1..365) -> YYYY-MM-DD.
function date(doy,   m) {
    for (m = 1; doy > MD[m]; m++) doy -= MD[m]
    return sprintf("2025-%02d-%02d", m, doy)
}
# Day of 2025 -> month 1..12.
function mon(doy,   m) {
    for (m = 1; doy > MD[m]; m++) doy -= MD[m]
    return m
}
# Month -> first day of 2025 (1-based day of year).
function month_start(m,   d, k) {
    d = 1
    for (k = 1; k < m; k++) d += MD[k]
    return d
}
function quarter(doy) { return "Q" int((mon(doy) - 1) / 3 + 1) }
# Uniform in [a, b).
function unif(a, b) { return a + (b - a) * rand() }
# Standard normal (Box-Muller).
function gauss(   u) {
    u = rand(); if (u < 1e-12) u = 1e-12
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * rand())
}
function rint(a, b) { return a + int((b - a + 1) * rand()) }
# A random element of a space-separated list.
function pick(list,   arr, n) { n = split(list, arr, " "); return arr[int(rand() * n) + 1] }
# Market by the config's budget split: UK 72%, DE 20%, FR 8%.
function market(   u) { u = rand(); return u < 0.72 ? "UK" : (u < 0.92 ? "DE" : "FR") }
# Vehicle models on sale (or in preview) on a day of 2025.
function model(doy,   u) {
    if (doy < 244) return "S07"                 # pre-launch: teasers for the launch car
    u = rand()
    if (doy >= 335 && u < 0.08) return "S05"    # preview from December
    if (doy >= 274 && u < 0.18) return "AVATR11"
    if (u < 0.38) return "AVATR12"
    return "S07"
}
function bool(p) { return rand() < p ? "True" : "False" }
function init_lib() {
    split("31 28 31 30 31 30 31 31 30 31 30 31", MD, " ")
    # Seasonal index of the config (Jan..Dec), 1.0 = an average month.
    split("0.30 0.30 0.40 0.35 0.40 0.50 0.70 0.90 2.50 1.80 1.20 0.80", SEASON, " ")
}
# A random element of a "|"-separated list.
function pickp(list,   arr, n) { n = split(list, arr, "|"); return arr[int(rand() * n) + 1] }
