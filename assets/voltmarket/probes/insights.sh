#!/bin/sh
# Probe: the number of insights in Session C's insights.json (expects 3 to 5).
set -eu
f=.flightdeck/worktrees/analytics/data/analytics/insights.json
[ -f "$f" ] || f=data/analytics/insights.json
echo "insights=$(grep -c '"rank"' "$f")"
