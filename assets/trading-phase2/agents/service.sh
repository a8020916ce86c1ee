#!/bin/sh
# Simulated Claude Code migrating one service with the seed's 10-step pattern:
# survey, config, code, Dockerfile, build, compose, start, component tests, integration
# tests, validation. Writes services/<svc>/, reports/<phase>/<svc>_tests.csv,
# reports/<phase>/<svc>_latency.csv (1,000 latency samples) and <svc>_health.jsonl.
# Usage: service.sh SERVICE
set -eu
T=$(cd "$(dirname "$0")/.." && pwd)
. "$T/../lib/sim.sh"
svc=$1
line=$(grep "^$svc|" "$T/services.txt") || { err "unknown service $svc"; exit 2; }
IFS='|' read -r _ phase port p50 optional desc <<EOF2
$line
EOF2
PH=$(echo "$phase" | tr 'a-z' 'A-Z')
banner "Phase $PH · $svc" "$desc (port $port)"
tool Read "instructions/PHASE${PH}_PROMPT_COMPLETE.md" "10-step migration pattern"

if [ "$svc" = feast-pipeline ]; then
    # Optional service: its dependency is not there, and the prompt allows deferring it.
    say "Step 1/10 Survey: feast-pipeline needs a Feast registry and an offline store."
    tool Bash "curl -s http://feast-registry:6570/health" "curl: (6) Could not resolve host: feast-registry"
    warn "feast-pipeline is optional in Phase 2B and its registry is not provisioned."
    say "Deferring feast-pipeline to Phase 3 (recorded in COMPLETION_TRACKER.md); nothing deployed."
    mkdir -p reports
    echo "- feast-pipeline: DEFERRED (optional; Feast registry not provisioned)" >> reports/COMPLETION_TRACKER.md
    finish "feast-pipeline: deferred (optional)"
    exit 0
fi

dir=services/$svc out=reports/$phase
mkdir -p "$dir" "$out"
step() { printf '%s[%2d/10]%s %s\n' "$C_BOLD" "$1" "$C_RESET" "$2"; pause 0.25; }
step 1 "Survey: reading the legacy service and its dependencies"
tool Glob "legacy/$svc/**/*.py" "$(awk -v s="$port" 'BEGIN { srand(s); print 20 + int(rand() * 40) }') files"
step 2 "Create configuration"
printf 'service: %s\nport: %s\nlog_level: info\nmetrics: /metrics\n' "$svc" "$port" > "$dir/config.yaml"
tool Write "$dir/config.yaml" ""
step 3 "Verify / update code"
tool Edit "src/$svc/main.py" "pydantic settings, health endpoint"
step 4 "Verify Dockerfile"
printf 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "-m", "%s"]\n' "$svc" > "$dir/Dockerfile"
step 5 "Build image"
progress "docker build -t trading/$svc" 1
step 6 "Verify docker-compose entry"
tool Bash "docker compose config --services | grep -x $svc" "$svc"
step 7 "Start service"
tool Bash "docker compose up -d $svc" "Container $svc  Started"
printf '{"service": "%s", "phase": "%s", "port": %s, "status": "healthy", "optional": %s}\n' "$svc" "$PH" "$port" \
    "$([ "$optional" = yes ] && echo true || echo false)" > "$out/${svc}_health.jsonl"
step 8 "Component tests"
step 9 "Integration tests"
awk -v svc="$svc" -v seed="$port" 'BEGIN {
    srand(seed); print "service,kind,test,status,duration_ms"
    n = 12 + int(rand() * 10)
    for (i = 1; i <= n; i++) printf "%s,component,test_%s_%02d,pass,%d\n", svc, svc, i, 5 + int(rand() * 80)
    for (i = 1; i <= 6; i++) printf "%s,integration,test_%s_flow_%02d,pass,%d\n", svc, svc, i, 40 + int(rand() * 300)
}' < /dev/null > "$out/${svc}_tests.csv.tmp"
mv "$out/${svc}_tests.csv.tmp" "$out/${svc}_tests.csv"
ok "$(awk -F, 'NR > 1 && $4 == "pass"' "$out/${svc}_tests.csv" | wc -l | tr -d ' ') tests passed"
progress "performance benchmark (1,000 requests)" 1
awk -v svc="$svc" -v p50="$p50" -v seed="$port" 'BEGIN {
    srand(seed + 1); print "service,request,latency_ms"
    for (i = 1; i <= 1000; i++) {
        u = rand(); if (u < 1e-12) u = 1e-12
        z = sqrt(-2 * log(u)) * cos(6.283185307 * rand())
        printf "%s,%d,%.3f\n", svc, i, p50 * exp(0.35 * z)
    }
}' < /dev/null > "$out/${svc}_latency.csv.tmp"
mv "$out/${svc}_latency.csv.tmp" "$out/${svc}_latency.csv"
step 10 "Validation gate"
sh "$T/probes/latency.sh" "$out/${svc}_latency.csv"
echo "- $svc: COMPLETE (port $port)" >> reports/COMPLETION_TRACKER.md
finish "$svc migrated · awaiting the phase gate"
