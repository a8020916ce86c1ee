#!/bin/sh
# Probe: how many feature branches are merged into master (expects 4).
set -eu
n=$(git branch --merged master --list 'feature/*' | wc -l | tr -d ' ')
git branch --merged master --list 'feature/*'
echo "merged=$n"
