#!/bin/sh
# setup.sh: a fresh voltmarket workspace (runs first, in root).
# The seed's sessions each work on a branch of one repository; flightdeck gives each
# its own git worktree (`worktree = "feature/..."`), so root must be a git repository.
# This makes it one, from scratch: previous worktrees, branches and outputs go; the run
# records under .flightdeck/runs stay.
set -eu
A=$(cd "$(dirname "$0")" && pwd)
. "$A/../lib/sim.sh"
banner "setup · voltmarket-transaction-intelligence" "a fresh repository with the challenge scaffold"

# Keep the flightdeck repository clean: everything under workspace/ is scratch.
[ -f ../.gitignore ] || printf '*\n' > ../.gitignore
# Everything but the run records.
find . -mindepth 1 -maxdepth 1 ! -name .flightdeck -exec rm -rf {} +
rm -rf .flightdeck/worktrees .flightdeck/done

git init -q .
git symbolic-ref HEAD refs/heads/master
git config user.name "flightdeck sim"
git config user.email "sim@flightdeck.invalid"
git config commit.gpgsign false

mkdir -p src/contracts data/raw data/processed data/analytics output
printf '.flightdeck/\nvenv/\n__pycache__/\n' > .gitignore
cp "$A/scaffold/CLAUDE.md" "$A/scaffold/COORDINATION.md" .
cp "$A/scaffold/schemas.py" src/contracts/schemas.py
for p in A_DATA_GENERATOR B_PIPELINE C_ANALYTICS D_VISUALIZATION E_INTEGRATION; do
    cp "$A/scaffold/PLAN_$p.md" .
done
touch data/raw/.gitkeep data/processed/.gitkeep data/analytics/.gitkeep output/.gitkeep
git add -A
git commit -qm "chore: challenge scaffold (contracts, plans, coordination)"
tool Bash "git log --oneline" "$(git log --oneline | head -1)"
finish "workspace ready: $(pwd)"
