#!/bin/sh
# Simulated Session E (integration), on master in root, after A-D.
set -eu
V=$(cd "$(dirname "$0")/.." && pwd)
. "$V/../lib/sim.sh"
banner "Session E · integration (${MODEL:-opus})" "branch $(git branch --show-current) · $(pwd)"
tool Read "PLAN_E_INTEGRATION.md" "merge, CLI, run-all, README"
tool Read "COORDINATION.md" "A-D: complete (flightdeck gate 'branches' passed)"
for b in data-generator pipeline analytics visualization; do
    tool Bash "git merge --no-ff feature/$b" ""
    git merge -q --no-ff --no-edit "feature/$b"
    pause 0.3
done
ok "4 branches merged into master"
mkdir -p src
cat > src/main.py <<'PY'
"""VoltMarket CLI: python -m src.main run-all (generate -> pipeline -> analyze -> visualize)."""
import click


@click.group()
def cli():
    pass


@cli.command("run-all")
def run_all():
    for step in ("generate", "pipeline", "analyze", "visualize"):
        click.echo(f"-> {step}")


if __name__ == "__main__":
    cli()
PY
tool Write "src/main.py" "Click CLI: run-all"
tool Bash "python -m src.main run-all" ""
for step in generate pipeline analyze visualize; do progress "run-all: $step" 0.8; done
{
    echo "# VoltMarket Transaction Intelligence Engine"
    echo
    echo "Why did card approvals fall from 82% to 64% in six weeks? Synthetic transactions,"
    echo "a Polars segmentation pipeline, anomaly detection and a Streamlit dashboard answer it."
    echo
    echo "## Setup"
    echo
    echo '    pip install -r requirements.txt && python -m src.main run-all'
    echo
    echo "## Key findings"
    echo
    sed -n 's/.*"title": "\([^"]*\)".*/- \1/p' data/analytics/insights.json
    echo
    echo "## Architecture"
    echo
    echo "data_generator -> pipeline (ingest, segment, transform) -> analytics (anomalies, insights) -> visualization"
} > README.md
wrote README.md
sed -i 's/| pending |/| complete |/' COORDINATION.md
git add -A
git commit -qm "docs: integration, CLI and README"
tool Bash "git log --oneline --graph | head -8" ""
git log --oneline --graph | head -8
finish "Session E complete: master has everything"
