#!/bin/sh
# Simulated Session 3: Test Engineer.
set -eu
C=$(cd "$(dirname "$0")/.." && pwd)
. "$C/../lib/sim.sh"
banner "Session 3 · Test Engineer" "fixtures, moto mocks, unit + integration tests, data-quality checks"
tool Task "test-engineer: cover sessions 1-2" "subagent started"
mkdir -p tests/unit tests/integration src/cbbd_etl/quality reports
printf '"""Shared fixtures: moto S3, sample silver partitions."""\n' > tests/conftest.py
for m in extract gap_fill orchestrator gold_team_season_stats gold_player_season_stats gold_game_four_factors; do
    printf 'def test_%s_smoke():\n    assert True\n' "$m" > "tests/unit/test_$m.py"
done
for f in bronze_to_silver silver_to_gold backfill_plays; do
    printf 'def test_%s_flow():\n    assert True\n' "$f" > "tests/integration/test_$f.py"
done
printf '"""Data-quality checks: row counts, null keys, season ranges."""\n' > src/cbbd_etl/quality/checks.py
tool Bash "pytest -q --junitxml=reports/pytest.xml" ""
progress "pytest (48 tests)" 3
awk 'BEGIN { srand(3); print "test,kind,outcome,duration_s"
    for (i = 1; i <= 36; i++) printf "tests/unit/test_%02d,unit,passed,%.3f\n", i, rand() * 0.2
    for (i = 1; i <= 12; i++) printf "tests/integration/test_%02d,integration,passed,%.3f\n", i, 0.5 + rand() }' < /dev/null > reports/test_results.csv
ok "48 passed in 7.42s"
finish "Session 3 done: tests green"
