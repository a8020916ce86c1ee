#!/usr/bin/env python3
"""Generate benchmark data (not committed): an ad-spend CSV and leads/test-drives
for the foreign-key benchmark.

    python3 tests/data/gen/gen_ads.py OUT_DIR [ROWS] [LEADS]

ads.csv: ROWS rows (default 6,000,000, ~1 GB), 20 columns, some quoted fields.
leads.csv: LEADS rows (default 1,000,000); test_drives.csv: 3 x LEADS rows whose
lead_id mostly exists in leads (every 100,000th is an orphan).
"""
import os
import random
import sys

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 6_000_000
leads = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
os.makedirs(out, exist_ok=True)
rnd = random.Random(42)
markets = ["UK"] * 7 + ["DE"] * 2 + ["FR"]
objectives = ["awareness", "traffic", "lead_gen", "conversions"]
platforms = ["Facebook", "Instagram"]
models = ["S07", "S05", "AVATR_12", "AVATR_11"]
dates = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]

with open(os.path.join(out, "ads.csv"), "w", newline="") as f:
    f.write("date,campaign_name,campaign_id,platform,objective,market,model,impressions,"
            "clicks,ctr,cpm,cpc,spend,reach,frequency,video_views,video_view_rate,leads,"
            "landing_page_views,notes\n")
    buf = []
    for i in range(rows):
        m = markets[i % 10]
        o = objectives[i % 4]
        mo = models[i % 4]
        imp = rnd.randint(1000, 200000)
        clicks = imp // rnd.randint(50, 200)
        spend = rnd.randint(100, 500000) / 100
        note = '"said ""hi"", twice"' if i % 1000 == 0 else "ok"
        buf.append(f"{dates[i % len(dates)]},{m}_{mo}_Meta_{o}_Q{i % 4 + 1},C{i % 5000:05d},"
                   f"{platforms[i % 2]},{o},{m},{mo},{imp},{clicks},{clicks / imp:.4f},"
                   f"{spend / imp * 1000:.2f},{spend / max(clicks, 1):.2f},{spend:.2f},"
                   f"{imp * 7 // 10},{1.43:.2f},{imp // 3},0.3333,{clicks // 20},{clicks // 2},{note}\n")
        if len(buf) >= 100_000:
            f.write("".join(buf))
            buf = []
    f.write("".join(buf))

with open(os.path.join(out, "leads.csv"), "w") as f:
    f.write("lead_id,created_date,market,lead_score\n")
    f.write("".join(f"L{i:08d},{dates[i % len(dates)]},{markets[i % 10]},{i % 100}\n"
                    for i in range(leads)))

with open(os.path.join(out, "test_drives.csv"), "w") as f:
    f.write("booking_id,lead_id,dealer_id,status\n")
    buf = []
    for i in range(3 * leads):
        lid = f"L{(i * 7919) % leads:08d}" if i % 100_000 else f"X{i:08d}"
        buf.append(f"B{i:09d},{lid},DLR{i % 50 + 1:03d},COMPLETED\n")
        if len(buf) >= 100_000:
            f.write("".join(buf))
            buf = []
    f.write("".join(buf))
