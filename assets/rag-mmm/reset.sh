#!/bin/sh
# reset.sh: start the rag-mmm workspace over (runs before config-engineer, in root).
# A fresh run regenerates everything; `--resume latest` skips what succeeded and so
# never resets. Run records under .flightdeck/ are kept.
set -eu
rm -rf data .flightdeck/done
mkdir -p .flightdeck
# Keep the flightdeck repository clean: everything under workspace/ is scratch.
[ -f ../.gitignore ] || printf '*\n' > ../.gitignore
