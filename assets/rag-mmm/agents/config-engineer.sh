#!/bin/sh
# Simulated config-engineer: Task 1 (config module + dealer list), Task 2 (orchestrator).
set -eu
A=$(cd "$(dirname "$0")/.." && pwd)
. "$A/../lib/sim.sh"
AWKLIB=$(cat "$A/lib.awk")

banner "config-engineer · synthetic-data-gen" "Tasks #1 master config, #2 generate_all.py"
say "Team synthetic-data-gen is up. Taking task #1: the master config everyone imports."
tool TaskUpdate "#1 → in_progress" "owner: config-engineer"
tool Bash "mkdir -p data/generators data/raw/contracts data/mmm" ""
mkdir -p data/generators data/raw/contracts data/mmm

say "50 UK dealers first: the sales and test-drive generators key on dealer_id."
progress "dealer list (50 dealers)" 2
awk "$AWKLIB"'
BEGIN {
    init_lib(); srand(42)
    split("Lookers Stoneacre Parks_Motor_Group Ancaster Hendy JCT600 Vertu_Motors Marshall Inchcape Arnold_Clark Sytner Pendragon", G, " ")
    split("London|London|London|London|London|South East|South East|South East|South West|South West|East|East|West Midlands|West Midlands|West Midlands|East Midlands|East Midlands|Yorkshire|Yorkshire|Yorkshire|North West|North West|North West|North East|North East|Scotland|Scotland|Scotland|Wales|Wales", R, "|")
    city["London"] = "Croydon Wimbledon Enfield Ealing Stratford"; city["South East"] = "Brighton Reading Guildford Maidstone"
    city["South West"] = "Bristol Exeter Plymouth"; city["East"] = "Cambridge Norwich Chelmsford"
    city["West Midlands"] = "Birmingham Coventry Wolverhampton"; city["East Midlands"] = "Nottingham Leicester Derby"
    city["Yorkshire"] = "Leeds Sheffield York"; city["North West"] = "Manchester Liverpool Preston"
    city["North East"] = "Newcastle Sunderland"; city["Scotland"] = "Glasgow Edinburgh Aberdeen"; city["Wales"] = "Cardiff Swansea"
    major = " London Manchester Birmingham Leeds Glasgow Bristol Edinburgh "
    print "dealer_id,dealer_name,region,city,is_launch_dealer,opening_date"
    launch = 0
    for (i = 1; i <= 50; i++) {
        r = R[(i - 1) % 30 + 1]; c = pick(city[r])
        g = G[(i * 7) % 12 + 1]; gsub("_", " ", g)
        isl = (launch < 15 && (r == "London" || index(major, " " c " "))) ? "True" : "False"
        if (isl == "True") { launch++; od = "2025-09-01" } else od = date(244 + rint(7, 88))
        printf "DLR%03d,%s %s,%s,%s,%s,%s\n", i, g, c, r, c, isl, od
    }
}' > data/generators/dealers.csv.tmp
mv data/generators/dealers.csv.tmp data/generators/dealers.csv
wrote data/generators/dealers.csv

tool Write "data/generators/config.py" ""
{
    cat <<'PY'
"""Shared constants for every synthetic-data generator (written by config-engineer)."""
import csv
import os

import numpy as np

np.random.seed(42)

START_DATE, END_DATE = "2025-01-01", "2025-12-31"
UK_LAUNCH_DATE, S05_PREVIEW_DATE = "2025-09-01", "2025-12-01"
MARKET_SPLIT = {"UK": 0.72, "DE": 0.20, "FR": 0.08}
TOTAL_BUDGET_GBP = 20_000_000
CHANNEL_BUDGETS = {
    "tv": 6_000_000, "ooh": 3_000_000, "youtube": 2_400_000, "meta": 2_000_000,
    "google": 1_600_000, "dv360": 1_400_000, "tiktok": 1_000_000, "linkedin": 400_000,
    "print": 600_000, "radio": 400_000, "events": 600_000,
}
SEASONAL_INDEX = [0.30, 0.30, 0.40, 0.35, 0.40, 0.50, 0.70, 0.90, 2.50, 1.80, 1.20, 0.80]
MODELS = {
    "S07": {"from": "2025-09-01", "trims": {"Pure": 27990, "Design": 31990, "Intelligence": 35990}},
    "S05": {"from": "2025-12-01"},
    "AVATR12": {"from": "2025-09-01"},
    "AVATR11": {"from": "2025-10-01"},
}
CAMPAIGN_TEMPLATES = {
    "meta": "{market}_{model}_Meta_{objective}_{quarter}",
    "google": "{market}_{model}_Google_{campaign_type}_{quarter}",
    "dv360": "{market}_{model}_DV360_{tactic}_{quarter}",
    "tiktok": "{market}_{model}_TikTok_{format}_{quarter}",
    "youtube": "{market}_{model}_YT_{format}_{quarter}",
    "linkedin": "{market}_{model}_LI_{objective}_{quarter}",
    "tv": "{broadcaster}_{daypart}_{spot_length}s_{week}",
}

with open(os.path.join(os.path.dirname(__file__), "dealers.csv")) as f:
    DEALERS = list(csv.DictReader(f))
PY
} > data/generators/config.py
: > data/generators/__init__.py
ok "config.py: budgets (£20.0M), seasonality (Sep 2.50 peak), 4 models, 7 campaign templates"
tool TaskUpdate "#1 → completed" "unblocks #2 #3 #4 #5 #7"
say "Task #1 done. Messaging the team: config is ready, import from data.generators.config."

tool TaskUpdate "#2 → in_progress" ""
progress "generate_all.py orchestrator" 3
cat > data/generators/generate_all.py <<'PY'
"""Run every generator in dependency order, then the validators (written by config-engineer)."""
from data.generators import (contracts, digital_media, events, external_data, sales_pipeline,
                             traditional_media, validators)

STEPS = [external_data, events, digital_media, traditional_media, sales_pipeline, contracts]

if __name__ == "__main__":
    for step in STEPS:
        print(f"-> {step.__name__}")
        step.generate()
    validators.aggregate_mmm_data()
    validators.validate_all()
PY
wrote data/generators/generate_all.py
tool TaskUpdate "#2 → completed" ""
finish "config-engineer: tasks #1 and #2 complete"
