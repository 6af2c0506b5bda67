#!/usr/bin/env python
"""make bench: load a synthetic bank into PostgreSQL and measure LoanFlow against its floors.

    python bench/run.py [--scale 1.0] [--smoke] [--keep]

Each figure is printed beside its floor (the same work as plain SQL through psycopg, a bare DRF
endpoint, or WeasyPrint alone) with the ratio, as a Markdown table and as JSON under
bench/results/. `--smoke` (what CI runs, at --scale 0.001) proves the harness works and asserts
no timing.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: import the project, not bench/ modules, by their package names.
sys.path[0] = str(ROOT)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1.0 = 1M applications, 5M audit rows, 100k open tasks, ...",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="short runs: prove the harness works (CI)"
    )
    parser.add_argument(
        "--database",
        default="loanflow_bench",
        help="PostgreSQL database to (re)create on 127.0.0.1:5432",
    )
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database kept by an earlier run (--keep) instead of loading one: "
        "migrated to this code first; the figures' own writes are rolled back or small",
    )
    parser.add_argument("--only", default="", help="comma-separated figure names to run")
    return parser.parse_args()


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(fn, *, runs: int, warmup: int = 1) -> dict:
    """Median and p95 in milliseconds of `runs` calls of fn (after `warmup` calls)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(p95, 3),
        "runs": runs,
    }


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["LOANFLOW_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loanflow.settings")
    # The staff tokens count as having given a second factor when the bank is loaded
    # (bench.load._past_second_factor): a step-up stays fresh for the whole run.
    os.environ.setdefault("LOANFLOW_STEP_UP_MINUTES", str(24 * 60))
    print(f"LoanFlow benchmark: scale {args.scale}, database {args.database}", flush=True)
    if not args.reuse:
        recreate_database(args.database)
    import django

    django.setup()
    from django.core.management import call_command

    from bench import measures
    from bench.load import Bank, bank_from_database, load_core

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if args.reuse:
        bank = bank_from_database(scale=args.scale)
    else:
        bank = Bank(scale=args.scale)
        load_core(bank)
        for loader in measures.STAGE_LOADERS:
            loader(bank)
    # A bank's database is kept vacuumed by autovacuum as it goes; a freshly bulk-loaded one is
    # not yet, so its index-only scans (the list counts) would still visit every heap page.
    # Bring it to that steady state before measuring.
    from django.db import connection

    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    bank.timings["vacuum_seconds"] = round(time.perf_counter() - vacuum_started, 1)
    load_seconds = round(time.perf_counter() - started, 1)
    print(f"Loaded in {load_seconds} s: {json.dumps(bank.timings)}", flush=True)

    only = {name for name in args.only.split(",") if name}
    rows = []
    for measure in measures.MEASURES:
        if only and measure.__name__ not in only:
            continue
        print(f"-- {measure.__name__}", flush=True)
        try:
            rows.extend(measure(bank, smoke=args.smoke, timed=timed))
        except measures.Unavailable as exc:
            rows.append({"figure": measure.__name__, "note": f"not measured: {exc}"})
        except Exception as exc:  # report it, measure the rest, fail at the end
            import traceback

            traceback.print_exc()
            rows.append(
                {
                    "figure": measure.__name__,
                    "error": True,
                    "note": f"FAILED: {type(exc).__name__}: {exc}",
                }
            )
    report(rows, bank, args, load_seconds)
    if not (args.keep or args.reuse):
        from django.db import connections

        connections.close_all()
        drop_database(args.database)
    failed = [row for row in rows if row.get("error")]
    return 1 if failed else 0


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def report(rows, bank, args, load_seconds) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    header = (
        "| figure | unit | median | p95 | rate/s | floor | floor median | floor p95 | "
        "ratio | target | note |"
    )
    lines = [
        f"# LoanFlow benchmark {stamp}",
        "",
        f"scale {args.scale}{' (smoke)' if args.smoke else ''}; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load {load_seconds} s; volumes: {json.dumps(bank.timings)}",
        "",
        header,
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                _fmt(row.get(key))
                for key in (
                    "figure",
                    "unit",
                    "median_ms",
                    "p95_ms",
                    "rps",
                    "floor",
                    "floor_median_ms",
                    "floor_p95_ms",
                    "ratio",
                    "target",
                    "note",
                )
            )
            + " |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "stamp": stamp,
        "scale": args.scale,
        "smoke": args.smoke,
        "load_seconds": load_seconds,
        "volumes": bank.timings,
        "figures": rows,
    }
    (out / f"bench-{stamp}.json").write_text(json.dumps(payload, indent=2, default=str))
    (out / f"bench-{stamp}.md").write_text(text)
    print(f"Results: bench/results/bench-{stamp}.json and .md")


if __name__ == "__main__":
    sys.exit(main())
