"""`make bench`: every performance goal of the ward in one table, each figure beside its goal.

    python -m dev.bench [--quick]

Runs, each on its own scratch database of the configured PostgreSQL server (never the development or test one):
- the write path: ../shared/bench/ward/run.sh (the observation POST beside a bare DRF create), when present, and
  every other clinical POST beside the observation POST (dev.bench.writes, production settings);
- the read paths at 10 and 500 patients (dev.bench.reads, production settings, seeded by dev.bench.seed);
- audit verification and CSV export at 1,000,000 events (wardflow.audit.bench);
- one scheduler cycle over 100,000 pending checks (dev.bench.scheduler).
Exits 1 when a goal is missed or could not be measured. --quick: 10 and 100 patients, 100,000 audit events and a
shorter write-path run, to try the bench out (its figures are not the goals' measurement).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPOSITORY = Path(__file__).resolve().parents[2]
WRITE_PATH_BENCH = REPOSITORY.parent / "shared" / "bench" / "ward" / "run.sh"
READS_DATABASE = "wardflow_bench_reads"
WRITES_DATABASE = "wardflow_bench"
# Production settings, as ../shared/bench/ward/run.sh serves WardFlow and as the worker runs the scheduler (DEBUG
# would keep every query in memory and time that too).
PRODUCTION_LIKE = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-secret-key-long-enough-for-the-production-checks-0123456789",
    "ALLOWED_HOSTS": "testserver,127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "DB_CONN_MAX_AGE": "60",
}


@dataclass
class Row:
    measurement: str
    figure: str
    goal: str
    met: bool | None  # None: not measured


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _database_url(name: str) -> str:
    return urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def _python(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603


def write_path(quick: bool) -> list[Row]:
    goals = [("write path: observation POST p50 / floor p50 at 1 connection", "<= 1.3"),
             ("write path: observation POST req/s / floor req/s at 8 connections", ">= 0.75")]  # fmt: skip
    if not WRITE_PATH_BENCH.exists():
        _say(f"{WRITE_PATH_BENCH} not found: write path skipped")
        return [Row(name, "skipped (no ../shared/bench)", goal, None) for name, goal in goals]
    _say("write path: ../shared/bench/ward/run.sh")
    env = {**os.environ, **({"DUR": "3", "CONNS": "1 8"} if quick else {})}
    done = subprocess.run(["bash", str(WRITE_PATH_BENCH), str(REPOSITORY)], env=env, stdout=subprocess.PIPE,  # noqa: S603, S607
                          text=True)  # fmt: skip
    print(done.stdout, file=sys.stderr)
    last = re.search(r"p50 ratio at c=1 ([\d.]+), throughput ratio at c=8 ([\d.]+)", done.stdout)
    chain = re.search(r"audit events: (\S+); verify_audit: (.*)", done.stdout)
    if last is None:
        return [Row(name, "not measured (run.sh failed)", goal, False) for name, goal in goals]
    r1, r8 = float(last.group(1)), float(last.group(2))
    rows = [
        Row(goals[0][0], f"{r1:.2f}", goals[0][1], r1 <= 1.3),
        Row(goals[1][0], f"{r8:.2f}", goals[1][1], r8 >= 0.75),
    ]
    if chain:
        verdict = "intact" if "intact" in chain.group(2) else chain.group(2).strip()
        rows.append(Row("write path: audit chain after the load", f"{chain.group(1)} events, {verdict}", "intact",
                        verdict == "intact"))  # fmt: skip
    return rows


def clinical_posts(quick: bool) -> list[Row]:
    _say("write path: every clinical POST beside the observation POST")
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, **PRODUCTION_LIKE, "DATABASE_URL": _database_url(WRITES_DATABASE),
               "STATIC_ROOT": str(Path(scratch) / "static"),
               "AUDIT_CHECKPOINT_FILE": str(Path(scratch) / "audit-checkpoints.jsonl"),
               "AUDIT_CHECKPOINT_KEY_FILE": str(Path(scratch) / "checkpoint-key.pem")}  # fmt: skip
        done = _python(["-m", "dev.bench.writes", "--samples", "5" if quick else "31"], env)
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
        acts, chain = result["acts"], result["chain"]
    except (ValueError, IndexError, KeyError):
        return [Row("write path: clinical POSTs / observation POST", "not measured (dev.bench.writes failed)",
                    "<= 1.5x", False)]  # fmt: skip
    observation = acts.pop("observation")["ms"]
    rows = [
        Row(f"write path: {act} POST / observation POST", f"{figures['ms']:.1f} / {observation:.1f} ms = "
            f"{figures['ratio']:.2f}x", "<= 1.5x", figures["ratio"] <= 1.5)
        for act, figures in acts.items()
    ]  # fmt: skip
    rows.append(Row("write path: audit chain after the clinical POSTs, re-hashed in full", f"{chain['events']:,} "
                    "events, " + ("intact" if chain["ok"] else chain["problem"]), "intact", chain["ok"]))  # fmt: skip
    return rows


def read_paths(quick: bool) -> list[Row]:
    small, large = (10, 100) if quick else (10, 500)
    _say(f"read paths: seeding and reading at {small} and {large} patients")
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, **PRODUCTION_LIKE, "DATABASE_URL": _database_url(READS_DATABASE),
               "STATIC_ROOT": str(Path(scratch) / "static"),
               "AUDIT_CHECKPOINT_FILE": str(Path(scratch) / "audit-checkpoints.jsonl"),
               "AUDIT_CHECKPOINT_KEY_FILE": str(Path(scratch) / "checkpoint-key.pem")}  # fmt: skip
        done = _python(["-m", "dev.bench.reads", "--sizes", str(small), str(large)], env)
    if done.returncode or not done.stdout.strip():
        return [Row("read paths", "not measured (dev.bench.reads failed)", "<= 2x, equal queries", False)]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    at_small, at_large = result["sizes"][str(small)], result["sizes"][str(large)]
    seeded = result["seeding"][str(large)]
    _say(f"seeded {large} patients: {seeded}")
    rows = []
    for name, figures in at_small.items():
        other = at_large[name]
        ratio = other["ms"] / figures["ms"]
        rows.append(
            Row(
                f"{name}: time at {small} / {large} patients",
                f"{figures['ms']:.1f} / {other['ms']:.1f} ms = {ratio:.2f}x",
                "<= 2x",
                ratio <= 2,
            )
        )
        queries = (figures["queries"], other["queries"])
        rows.append(Row(f"{name}: queries at {small} / {large} patients", "{} / {}".format(*queries), "equal",
                        queries[0] == queries[1]))  # fmt: skip
    chain = result["chain"][str(large)]
    rows.append(Row(f"read paths: audit chain at {large} patients, re-hashed in full", f"{chain['events']:,} events, "
                    + ("intact" if chain["ok"] else chain["problem"]), "intact", chain["ok"]))  # fmt: skip
    return rows


def audit(quick: bool) -> list[Row]:
    events = 100_000 if quick else 1_000_000
    names = [(f"audit: full verify of {events:,} events / bare SHA-256", "<= 3x"),
             ("audit: verify after a checkpoint (1,000 new events)", "incremental: < 1/10 of full"),
             (f"audit: CSV export of {events:,} events", ">= 50,000 rows/s"),
             ("audit: CSV export peak memory (process)", "< 150 MB")]  # fmt: skip
    _say(f"audit: verify and export at {events:,} events")
    env = {**os.environ, **PRODUCTION_LIKE, "DATABASE_URL": _database_url("wardflow_bench")}
    done = _python(["-m", "wardflow.audit.bench", "--events", str(events)], env)
    try:
        figures = json.loads(done.stdout)
        verify_ratio, full = figures["verify_ratio"], figures["verify_seconds"]
        incremental, rate, peak = (
            figures["incremental_seconds"],
            figures["export_rows_per_second"],
            figures["export_peak_mb"],
        )
    except (ValueError, KeyError, TypeError):
        return [Row(name, "not measured", goal, False) for name, goal in names]
    return [
        Row(names[0][0], f"{full:.1f} s / {figures['sha256_seconds']:.1f} s = {verify_ratio:.2f}x", names[0][1],
            verify_ratio <= 3),
        Row(names[1][0], f"{incremental * 1000:.0f} ms (full {full:.1f} s)", names[1][1], incremental < full / 10),
        Row(names[2][0], f"{rate:,.0f} rows/s", names[2][1], rate >= 50_000),
        Row(names[3][0], f"{peak:.0f} MB", names[3][1], peak < 150),
    ]  # fmt: skip


def scheduler() -> list[Row]:
    names = [("scheduler: cycle over 100,000 pending, 1,000 due (per due row)", "< 1 ms"),
             ("scheduler: cycle with nothing due", "< 5 ms")]  # fmt: skip
    _say("scheduler: one dispatch cycle over 100,000 pending checks")
    done = _python(["-m", "dev.bench.scheduler", "--json"], {**os.environ, **PRODUCTION_LIKE})
    try:
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [Row(name, "not measured", goal, False) for name, goal in names]
    return [
        Row(names[0][0], f"{figures['per_due_ms']:.3f} ms ({figures['cycle_ms']:.0f} ms in all)", names[0][1],
            figures["per_due_ms"] < 1),
        Row(names[1][0], f"{figures['empty_cycle_ms']:.2f} ms", names[1][1], figures["empty_cycle_ms"] < 5),
    ]  # fmt: skip


def table(rows: list[Row]) -> str:
    def verdict(row: Row) -> str:
        return {True: "met", False: "MISSED", None: "skipped"}[row.met]

    header = ("measurement", "figure", "goal", "")
    lines = [header, *((r.measurement, r.figure, r.goal, verdict(r)) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL must name the PostgreSQL server to make the bench databases on")
    started = time.perf_counter()
    rows = (
        write_path(args.quick) + clinical_posts(args.quick) + read_paths(args.quick) + audit(args.quick) + scheduler()
    )
    print(table(rows))
    print(f"\n{sum(r.met is True for r in rows)} met, {sum(r.met is False for r in rows)} missed or not measured, "
          f"{sum(r.met is None for r in rows)} skipped; {time.perf_counter() - started:.0f} s"
          + (" (--quick: not the goals' measurement)" if args.quick else ""))  # fmt: skip
    return 1 if any(r.met is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
