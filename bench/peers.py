"""Data-check peers for bench/run: each computes the same answers as flightdeck's check.

Usage: python peers.py TOOL CASE ARGS...
  TOOL: pandas | polars | duckdb | pyarrow
  CASE: ads CSV            row count, sum(spend), UK rows, min/max date
        fk KEYS.csv REFS.csv   orphans: REFS.lead_id values not in KEYS.lead_id
        parquet FILE.parquet   row count from the footer
        ads-parquet FILE.parquet   the ads answers from the Parquet file of the ads CSV
Prints one JSON object: {"seconds": <in-process compute time, imports excluded>, ...answers}.
"""

import json
import sys
import time


def ads(tool, path):
    if tool == "pandas":
        import pandas as pd

        t = time.perf_counter()
        df = pd.read_csv(path, usecols=["date", "market", "spend"], dtype={"date": str, "market": str})
        out = {
            "rows": int(len(df)),
            "spend": float(df["spend"].sum()),
            "uk_rows": int((df["market"] == "UK").sum()),
            "min_date": str(df["date"].min()),
            "max_date": str(df["date"].max()),
        }
    elif tool == "polars":
        import polars as pl

        t = time.perf_counter()
        r = (
            pl.scan_csv(path)
            .select(
                pl.len().alias("rows"),
                pl.col("spend").sum().alias("spend"),
                (pl.col("market") == "UK").sum().alias("uk_rows"),
                pl.col("date").min().alias("min_date"),
                pl.col("date").max().alias("max_date"),
            )
            .collect()
            .row(0, named=True)
        )
        out = {
            "rows": int(r["rows"]),
            "spend": float(r["spend"]),
            "uk_rows": int(r["uk_rows"]),
            "min_date": str(r["min_date"]),
            "max_date": str(r["max_date"]),
        }
    elif tool == "duckdb":
        import duckdb

        t = time.perf_counter()
        r = duckdb.connect().execute(
            "select count(*), sum(spend), count(*) filter (where market = 'UK'), "
            f"min(date), max(date) from read_csv('{path}')"
        ).fetchall()[0]
        out = {
            "rows": int(r[0]),
            "spend": float(r[1]),
            "uk_rows": int(r[2]),
            "min_date": str(r[3]),
            "max_date": str(r[4]),
        }
    else:
        raise SystemExit(f"no ads case for {tool}")
    out["seconds"] = time.perf_counter() - t
    return out


def fk(tool, keys, refs):
    if tool == "pandas":
        import pandas as pd

        t = time.perf_counter()
        k = pd.read_csv(keys, usecols=["lead_id"], dtype=str)["lead_id"]
        r = pd.read_csv(refs, usecols=["lead_id"], dtype=str)["lead_id"].dropna()
        orphans = int((~r.isin(k)).sum())
    elif tool == "polars":
        import polars as pl

        t = time.perf_counter()
        k = pl.scan_csv(keys).select("lead_id")
        r = pl.scan_csv(refs).select("lead_id").drop_nulls()
        orphans = int(r.join(k, on="lead_id", how="anti").select(pl.len()).collect().item())
    elif tool == "duckdb":
        import duckdb

        t = time.perf_counter()
        orphans = int(
            duckdb.connect().execute(
                f"select count(*) from read_csv('{refs}') r anti join read_csv('{keys}') k "
                "on r.lead_id = k.lead_id where r.lead_id is not null"
            ).fetchall()[0][0]
        )
    else:
        raise SystemExit(f"no fk case for {tool}")
    return {"orphans": orphans, "seconds": time.perf_counter() - t}


def ads_parquet(tool, path):
    if tool == "polars":
        import polars as pl

        t = time.perf_counter()
        r = (
            pl.scan_parquet(path)
            .select(
                pl.len().alias("rows"),
                pl.col("spend").sum().alias("spend"),
                (pl.col("market") == "UK").sum().alias("uk_rows"),
                pl.col("date").min().alias("min_date"),
                pl.col("date").max().alias("max_date"),
            )
            .collect()
            .row(0, named=True)
        )
        out = {k: r[k] for k in ("rows", "spend", "uk_rows", "min_date", "max_date")}
    elif tool == "duckdb":
        import duckdb

        t = time.perf_counter()
        r = duckdb.connect().execute(
            "select count(*), sum(spend), count(*) filter (where market = 'UK'), "
            f"min(date), max(date) from read_parquet('{path}')"
        ).fetchall()[0]
        out = dict(zip(("rows", "spend", "uk_rows", "min_date", "max_date"), r))
    elif tool == "pyarrow":
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        t = time.perf_counter()
        tb = pq.read_table(path, columns=["date", "market", "spend"])
        mm = pc.min_max(tb["date"])
        out = {
            "rows": tb.num_rows,
            "spend": pc.sum(tb["spend"]).as_py(),
            "uk_rows": pc.sum(pc.equal(tb["market"], "UK")).as_py(),
            "min_date": mm["min"].as_py(),
            "max_date": mm["max"].as_py(),
        }
    else:
        raise SystemExit(f"no ads-parquet case for {tool}")
    out = {
        "rows": int(out["rows"]),
        "spend": float(out["spend"]),
        "uk_rows": int(out["uk_rows"]),
        "min_date": str(out["min_date"]),
        "max_date": str(out["max_date"]),
    }
    out["seconds"] = time.perf_counter() - t
    return out


def parquet(tool, path):
    if tool != "pyarrow":
        raise SystemExit(f"no parquet case for {tool}")
    import pyarrow.parquet as pq

    t = time.perf_counter()
    rows = pq.ParquetFile(path).metadata.num_rows
    return {"rows": int(rows), "seconds": time.perf_counter() - t}


def write_parquet(csv_path, out_path):
    """Stream the CSV into a Parquet file (bounded memory)."""
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    reader = pc.open_csv(csv_path, read_options=pc.ReadOptions(block_size=64 << 20))
    writer = None
    for batch in reader:
        if writer is None:
            writer = pq.ParquetWriter(out_path, batch.schema, compression="zstd")
        writer.write_batch(batch)
    if writer is not None:
        writer.close()
    return {"ok": True}


def main(argv):
    tool, case, *rest = argv
    if case == "ads":
        out = ads(tool, rest[0])
    elif case == "fk":
        out = fk(tool, rest[0], rest[1])
    elif case == "parquet":
        out = parquet(tool, rest[0])
    elif case == "ads-parquet":
        out = ads_parquet(tool, rest[0])
    elif case == "write-parquet":
        out = write_parquet(rest[0], rest[1])
    else:
        raise SystemExit(f"unknown case {case}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
