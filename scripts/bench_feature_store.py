"""Benchmark the feature store itself (DESIGN §9): materialization, SDK online reads, `feast serve` reads.

    python scripts/bench_feature_store.py                     # needs the offline sources (make sources)
    python scripts/bench_feature_store.py --reads 5000

It copies feature_repo/ (definitions and Parquet sources, not the online store or registry) to a
temporary directory, so the running platform is untouched, then:
1. `feast apply` (not timed), then materializes every view into a fresh SQLite online store and reports
   entity rows written per second (the 2019 load, then the incremental 2020 one, as `make up` does),
   alternating with the same materialization on Feast's own stores (`sqlite` and `file`, the reference)
   in a fresh copy each time; it reports the median, the range and the ratio to the reference;
2. times single-entity `get_online_features` through the SDK, one feature service per version;
3. starts `feast serve` on that copy as its own process and times single-entity
   `POST /get-online-features` from this process over loopback with a keep-alive connection.
Prints one JSON object per figure and a markdown table for docs/benchmarks.md.
"""

import argparse
import json
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.dataset as ds
import yaml
from benchlib import latency_ms
from feast import FeatureStore

from contract.feature_store import ENTITY_KEY
from contract.paths import FEATURE_REPO_DIR
from ops.processes import start, stop_group, wait_healthy
from ops.topology import feature_server

MATERIALIZE_START = datetime(2009, 1, 1, tzinfo=UTC)
MATERIALIZE_2019_END = datetime(2019, 12, 31, tzinfo=UTC)
SERVICES = ("sms_features_1", "sms_features_2")
SKIPPED = {"online_store.db", "registry.db", "registry.cassandra.db", "registry.astra.db", "offline_ledger.db"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR, help="feature repository to copy")
    parser.add_argument("--reads", type=int, default=3000, help="measured reads per feature service")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured reads first")
    parser.add_argument("--port", type=int, default=6599, help="port for the benchmark's own feast serve")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout, seconds")
    parser.add_argument("--materialize-runs", type=int, default=3, help="measured runs per store, after a warm-up")
    return parser.parse_args(argv)


def copy_repo(source: Path, target: Path) -> Path:
    if not (source / "data" / "sms_features1.parquet").exists():
        raise SystemExit(f"no offline sources in {source}/data; run `make sources` first")
    shutil.copytree(source, target, ignore=lambda _dir, names: [n for n in names if n.split("-")[0] in SKIPPED])
    return target


def feast_apply(repo: Path) -> None:
    feast = Path(sys.executable).parent / "feast"
    subprocess.run([str(feast), "-c", str(repo), "apply"], check=True, capture_output=True, timeout=300)


def source_rows(repo: Path) -> int:
    """Entity rows the two materialize runs write: every row of every batch source."""
    data = repo / "data"
    paths = [data / "sms_features1.parquet", data / "sms_labels.parquet", data / "sms_features2"]
    return sum(ds.dataset(str(path), format="parquet").count_rows() for path in paths)


def with_feast_stores(repo: Path) -> None:
    """Point the copy at Feast's own SQLite online store, file offline store and local engine (the reference)."""
    config_path = repo / "feature_store.yaml"
    config = yaml.safe_load(config_path.read_text())
    config.pop("batch_engine", None)
    config["online_store"] = {"type": "sqlite", "path": config["online_store"]["path"]}
    config["offline_store"] = {"type": "file"}
    config_path.write_text(yaml.safe_dump(config))


def time_materialize(store: FeatureStore) -> float:
    started = time.perf_counter()
    store.materialize(MATERIALIZE_START, MATERIALIZE_2019_END)
    store.materialize_incremental(datetime.now(UTC))
    return time.perf_counter() - started


def bench_materialize(applied: Path, work: Path, rows: int, runs: int) -> tuple[dict[str, Any], Path]:
    """Alternate Feast's stores and ours, each on a fresh copy of the applied repository; run 0 is a warm-up."""
    seconds: dict[str, list[float]] = {"feast": [], "ours": []}
    for run in range(runs + 1):
        for name in ("feast", "ours"):
            copy = work / f"{name}{run}"
            shutil.copytree(applied, copy)
            if name == "feast":
                with_feast_stores(copy)
            elapsed = time_materialize(FeatureStore(repo_path=str(copy)))
            if run:
                seconds[name].append(elapsed)
    ours, feast = statistics.median(seconds["ours"]), statistics.median(seconds["feast"])
    result = {"figure": "materialize (SDK, SQLite)", "rows": rows, "seconds": round(ours, 2),
              "rows_per_s": round(rows / ours),
              "rows_per_s_range": [round(rows / max(seconds["ours"])), round(rows / min(seconds["ours"]))],
              "reference_rows_per_s": round(rows / feast), "ratio_to_reference": round(feast / ours, 2),
              "reference": "Feast's sqlite + file stores, same run, alternated"}
    return result, copy


def bench_sdk_reads(store: FeatureStore, ids: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for name in SERVICES:
        service = store.get_feature_service(name)
        for sms_id in ids[: args.warmup]:
            store.get_online_features(features=service, entity_rows=[{ENTITY_KEY: sms_id}])
        latencies = []
        for sms_id in ids[: args.reads]:
            started = time.perf_counter()
            store.get_online_features(features=service, entity_rows=[{ENTITY_KEY: sms_id}]).to_dict()
            latencies.append(time.perf_counter() - started)
        results.append({"figure": f"SDK online read, 1 entity, {name}", "count": len(latencies),
                        **latency_ms(latencies)})
    return results


def bench_server_reads(url: str, ids: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with httpx.Client(base_url=url, timeout=args.timeout) as client:
        for name in SERVICES:
            errors, latencies = 0, []
            for index, sms_id in enumerate(ids[: args.warmup + args.reads]):
                body = {"feature_service": name, "entities": {ENTITY_KEY: [sms_id]}}
                started = time.perf_counter()
                ok = client.post("/get-online-features", json=body).status_code == 200
                elapsed = time.perf_counter() - started
                errors += not ok
                if index >= args.warmup and ok:
                    latencies.append(elapsed)
            results.append({"figure": f"feast serve read, 1 entity, {name}", "count": len(latencies),
                            "errors": errors, **latency_ms(latencies)})
    return results


def entity_ids(repo: Path, count: int) -> list[str]:
    table = ds.dataset(str(repo / "data" / "sms_features1.parquet"), format="parquet").to_table(columns=[ENTITY_KEY])
    ids = table.column(ENTITY_KEY).to_pylist()
    random.Random(0).shuffle(ids)
    return (ids * (count // len(ids) + 1))[:count]


def markdown(result: dict[str, Any], command: str) -> str:
    if "rows_per_s" in result:
        return f"| {result['figure']} | {result['rows']} rows in {result['seconds']} s | " \
               f"{result['rows_per_s']} rows/s ({result['ratio_to_reference']}× Feast's stores) | `{command}` |"
    return f"| {result['figure']} | p50 {result['p50_ms']} ms | p99 {result['p99_ms']} ms | `{command}` |"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python scripts/bench_feature_store.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="spamops-bench-") as tmp:
        applied = copy_repo(args.repo, Path(tmp) / "feature_repo")
        print("feast apply on a copy of the repository ...", file=sys.stderr)
        feast_apply(applied)
        print("materializing, Feast's stores and ours in turn ...", file=sys.stderr)
        materialized, repo = bench_materialize(applied, Path(tmp) / "runs", source_rows(applied), args.materialize_runs)
        results = [materialized]
        store = FeatureStore(repo_path=str(repo))
        ids = entity_ids(repo, args.warmup + args.reads)
        results += bench_sdk_reads(store, ids, args)
        server = feature_server(port=args.port, repo=repo)
        process = start(server, Path(tmp) / "run")
        try:
            wait_healthy(server, process=process)
            results += bench_server_reads(server.url, ids, args)
        finally:
            stop_group(process.pid)
    for result in results:
        print(json.dumps({**result, "command": command}))
    print("| figure | result | | command |\n|---|---|---|---|")
    for result in results:
        print(markdown(result, command))
    return 1 if any(result.get("errors") for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
