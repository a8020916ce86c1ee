"""Writes the fixtures of tests/parquet.rs's `files_other_tools_wrote`: one table as
table.csv.gz and as Parquet written by pyarrow, polars and duckdb (each with its own
defaults: statistics, dictionaries, page versions, row groups).

Run with a Python that has the three (bench/.venv/bin/python tests/data/parquet/make.py);
the tests only read the files it wrote."""

import datetime as dt
import gzip
import random
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
N = 4500
rng = random.Random(13)
day0 = dt.date(2025, 1, 1)
markets = ["UK", "DE", "FR", "", "US"]
# The first row group (1,500 rows; 2,048 in duckdb's) holds no date: the dates' first row is past it.
date = [None if i < 1600 or rng.random() < 0.08 else day0 + dt.timedelta(rng.randrange(365))
        for i in range(N)]
due = [day0 + dt.timedelta(rng.randrange(900) - 400) for _ in range(N)]
spend = [None if rng.random() < 0.06 else rng.randrange(1000, 501000) / 100 for _ in range(N)]
units = [None if rng.random() < 0.1 else rng.randrange(2000) - 700 for _ in range(N)]
market = [None if rng.random() < 0.09 else rng.choice(markets) for _ in range(N)]
code = [f"c{rng.randrange(3000):04}" for _ in range(N)]
cols = dict(date=date, due=due, spend=spend, units=units, market=market, code=code)


def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


with gzip.open(HERE / "table.csv.gz", "wt") as f:
    f.write(",".join(cols) + "\n")
    for i in range(N):
        f.write(",".join(cell(c[i]) for c in cols.values()) + "\n")

table = pa.table({
    "date": pa.array(date, pa.date32()),
    "due": pa.array(due, pa.date32()),
    "spend": pa.array(spend, pa.float64()),
    "units": pa.array(units, pa.int64()),
    "market": pa.array(market, pa.string()),
    "code": pa.array(code, pa.string()),
})
pq.write_table(table, HERE / "pyarrow.parquet", row_group_size=1500, compression="zstd",
               data_page_version="2.0", data_page_size=8192)
pl.from_arrow(table).write_parquet(HERE / "polars.parquet", row_group_size=1500,
                                   statistics=True, compression="zstd")
con = duckdb.connect()
con.register("t", table)
con.execute(f"COPY t TO '{HERE / 'duckdb.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 2048)")
for name in ["pyarrow", "polars", "duckdb"]:
    meta = pq.ParquetFile(HERE / f"{name}.parquet").metadata
    print(name, meta.created_by, meta.num_row_groups, "row groups", file=sys.stderr)
