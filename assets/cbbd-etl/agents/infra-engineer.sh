#!/bin/sh
# Simulated Session 4: Infrastructure Engineer.
set -eu
C=$(cd "$(dirname "$0")/.." && pwd)
. "$C/../lib/sim.sh"
banner "Session 4 · Infrastructure Engineer" "Docker, ECS Fargate, EventBridge, CloudWatch, CI/CD, IAM"
tool Task "infra-engineer: production hardening" "subagent started"
mkdir -p infra/terraform .github/workflows
printf 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -e .\nCMD ["python", "-m", "cbbd_etl.orchestrator"]\n' > Dockerfile
printf 'services:\n  etl:\n    build: .\n    environment:\n      - AWS_DEFAULT_REGION=us-east-1\n' > docker-compose.yml
for t in ecs ecr eventbridge cloudwatch iam; do
    progress "terraform: $t.tf" 0.6
    printf '# %s resources for cbbd-etl\n' "$t" > "infra/terraform/$t.tf"
done
printf 'name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make test\n' > .github/workflows/ci.yml
printf 'name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make deploy\n' > .github/workflows/deploy.yml
tool Bash "terraform validate" "Success! The configuration is valid."
finish "Session 4 done: daily + weekly schedules, alarms, least-privilege IAM"
