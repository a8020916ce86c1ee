#!/bin/sh
# Probes on the cbbd-etl repository (run in root).
#   probes.sh commits   -> commits=N (setup + one per agent)
#   probes.sh clean     -> dirty=N (uncommitted paths; 0 when every session committed)
set -eu
case $1 in
commits) git log --oneline; echo "commits=$(git rev-list --count HEAD)" ;;
clean) git status --porcelain; echo "dirty=$(git status --porcelain | wc -l | tr -d ' ')" ;;
*) echo "usage: probes.sh commits|clean" >&2; exit 2 ;;
esac
