#!/bin/sh
# reset.sh: a fresh trading-phase2 workspace (runs before Phase 2A's first service).
# Reports of a previous run go; run records under .flightdeck/ stay.
set -eu
[ -f ../.gitignore ] || printf '*\n' > ../.gitignore
rm -rf services reports .flightdeck/done
mkdir -p services reports/2a reports/2b reports/final
