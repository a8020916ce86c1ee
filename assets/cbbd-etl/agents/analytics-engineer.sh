#!/bin/sh
# Simulated Session 2: Analytics Engineer.
set -eu
C=$(cd "$(dirname "$0")/.." && pwd)
. "$C/../lib/sim.sh"
banner "Session 2 · Analytics Engineer" "gold layer: schema, transforms, orchestrator wiring, Athena views"
tool Read "reports/completeness_audit.csv" "$(rows reports/completeness_audit.csv) partitions, all >= 95%"
tool Task "analytics-engineer: design and build the gold layer" "subagent started"
mkdir -p docs src/cbbd_etl/gold sql/athena_views
tool Write "docs/gold_layer_design.md" ""
{
    echo "# Gold layer design"
    echo
    echo "| table | grain | source (silver) |"
    echo "|---|---|---|"
    echo "| team_season_stats | team × season | games, box_scores |"
    echo "| player_season_stats | player × season | box_scores, players |"
    echo "| game_four_factors | game × team | box_scores |"
    echo "| ranking_history | team × week | rankings |"
} > docs/gold_layer_design.md
for t in team_season_stats player_season_stats game_four_factors ranking_history; do
    progress "gold transform: $t" 0.8
    printf '"""Gold transform: %s."""\n' "$t" > "src/cbbd_etl/gold/$t.py"
    printf 'CREATE OR REPLACE VIEW gold.v_%s AS\nSELECT * FROM gold.%s;\n' "$t" "$t" > "sql/athena_views/v_$t.sql"
done
printf '"""cbbd_etl.gold: analytics-ready tables."""\n' > src/cbbd_etl/gold/__init__.py
tool Edit "src/cbbd_etl/orchestrator.py" "STEPS += ['gold']"
printf '"""Runs extract -> bronze -> silver -> gold for a season range."""\nSTEPS = ["extract", "bronze", "silver", "gold"]\n' > src/cbbd_etl/orchestrator.py
finish "Session 2 done: 4 gold tables, 4 Athena views"
