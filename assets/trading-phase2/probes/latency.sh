#!/bin/sh
# Probe: latency percentiles of a service's benchmark samples (CSV with latency_ms).
# Usage: latency.sh FILE   Prints `p50=1.234ms p95=... p99=... n=1000`.
set -eu
f=$1
[ -f "$f" ] || { echo "no samples: $f" >&2; exit 1; }
awk -F, 'NR > 1 { v[++n] = $3 + 0 }
    END {
        if (n == 0) { print "no samples" > "/dev/stderr"; exit 1 }
        # Insertion sort is fine for 1,000 samples and needs nothing but awk.
        for (i = 2; i <= n; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
        printf "p50=%.3fms p95=%.3fms p99=%.3fms n=%d\n", v[int(n * 0.50)], v[int(n * 0.95)], v[int(n * 0.99)], n
    }' "$f"
