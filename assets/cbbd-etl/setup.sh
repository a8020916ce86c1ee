#!/bin/sh
# setup.sh: a fresh cbbd-etl repository (runs first, in root): the existing bronze/silver
# pipeline the five agents build on, committed once. Run records under .flightdeck/ stay.
set -eu
C=$(cd "$(dirname "$0")" && pwd)
. "$C/../lib/sim.sh"
banner "setup · cbbd-etl" "a college-basketball ETL repository (bronze + silver, 2010-2026)"
[ -f ../.gitignore ] || printf '*\n' > ../.gitignore
find . -mindepth 1 -maxdepth 1 ! -name .flightdeck -exec rm -rf {} +
rm -rf .flightdeck/done
git init -q .
git symbolic-ref HEAD refs/heads/main
git config user.name "flightdeck sim"
git config user.email "sim@flightdeck.invalid"
git config commit.gpgsign false
mkdir -p src/cbbd_etl scripts docs
printf '.flightdeck/\n__pycache__/\n.venv/\n' > .gitignore
printf '"""cbbd_etl: College Basketball Data ETL (bronze -> silver on S3 + Athena)."""\n' > src/cbbd_etl/__init__.py
cat > src/cbbd_etl/orchestrator.py <<'PY'
"""Runs extract -> bronze -> silver for a season range."""
STEPS = ["extract", "bronze", "silver"]
PY
printf '"""Extract from the CBBD API into bronze (S3, JSON)."""\n' > src/cbbd_etl/extract.py
printf '"""Backfill plays for past seasons (known edge cases: overtime periods, missing game ids)."""\n' > scripts/backfill_plays.py
printf 'install:\n\tpip install -e .\n\nrun:\n\tpython -m cbbd_etl.orchestrator\n' > Makefile
printf '# cbbd-etl\n\nCollege basketball data: bronze and silver layers, seasons 2010-2026.\n' > README.md
git add -A
git commit -qm "chore: existing bronze/silver pipeline"
finish "repository ready: $(git log --oneline -1)"
