#!/bin/sh
# Simulated Session 5: Final Integration (the lead reviews everything).
set -eu
C=$(cd "$(dirname "$0")/.." && pwd)
. "$C/../lib/sim.sh"
banner "Session 5 · Final Integration" "review, Makefile, README, tests, buildout summary"
tool Bash "git log --oneline" "$(git log --oneline | wc -l | tr -d ' ') commits"
tool Bash "git diff --stat HEAD~4" "$(git diff --shortstat HEAD~4 2>/dev/null || echo 'n/a')"
say "Consistent: gold wired into the orchestrator, tests cover it, the image runs it."
printf 'install:\n\tpip install -e .\n\nrun:\n\tpython -m cbbd_etl.orchestrator\n\ntest:\n\tpytest -q\n\naudit:\n\tpython -m cbbd_etl.gap_fill\n\nbuild:\n\tdocker build -t cbbd-etl .\n\ndeploy:\n\tterraform -chdir=infra/terraform apply\n' > Makefile
tool Edit "Makefile" "targets: install run test audit build deploy"
progress "make test" 2
ok "48 passed"
{
    echo "# cbbd-etl"
    echo
    echo "College basketball data, 2010-2026: bronze -> silver -> gold on S3 and Athena."
    echo
    echo "## Make targets"
    echo
    echo "install, run, test, audit, build, deploy"
    echo
    echo "## Layers"
    echo
    echo "- silver: audited complete (reports/completeness_audit.csv)"
    echo "- gold: docs/gold_layer_design.md, views in sql/athena_views/"
    echo
    echo "## Operations"
    echo
    echo "ECS Fargate task, EventBridge daily + weekly runs, CloudWatch alarms (infra/terraform)."
} > README.md
{
    echo "# Buildout summary"
    echo
    echo "1. Data Engineer: completeness audit, gap-fill framework, plays backfill fixes"
    echo "2. Analytics Engineer: gold layer (4 tables, 4 Athena views)"
    echo "3. Test Engineer: 48 tests, data-quality checks"
    echo "4. Infrastructure Engineer: Docker, ECS, EventBridge, CloudWatch, CI/CD, IAM"
    echo "5. Integration: Makefile, README, this summary"
} > docs/BUILDOUT_SUMMARY.md
wrote README.md
wrote docs/BUILDOUT_SUMMARY.md
finish "Session 5 done: ready to commit"
