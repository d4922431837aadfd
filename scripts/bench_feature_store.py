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
   `POST /get-online-features` from this process over loopback with a keep-alive connection;
4. starts a second `feast serve` on a copy with Feast's own provider and SQLite store (the reference) and
   alternates online pushes of 1, 4 and 16 rows between the two, reporting each server's CPU per push
   (its process group's user + system time).
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
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.dataset as ds
import yaml
from benchlib import group_cpu_seconds, latency_ms
from feast import FeatureStore

from contract.feature_store import ENTITY_KEY, PUSH_SOURCE, TIMESTAMP_FIELD, V2_FIELD, V2_LENGTH
from contract.paths import FEATURE_REPO_DIR
from ops.processes import start, stop_group, wait_healthy
from ops.topology import feature_server

MATERIALIZE_START = datetime(2009, 1, 1, tzinfo=UTC)
MATERIALIZE_2019_END = datetime(2019, 12, 31, tzinfo=UTC)
SERVICES = ("sms_features_1", "sms_features_2")
PUSH_ROWS = (1, 4, 16)
SKIPPED = {"online_store.db", "registry.db", "registry.cassandra.db", "registry.astra.db", "offline_ledger.db"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR, help="feature repository to copy")
    parser.add_argument("--reads", type=int, default=3000, help="measured reads per feature service")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured reads first")
    parser.add_argument("--port", type=int, default=6599, help="port for the benchmark's own feast serve")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout, seconds")
    parser.add_argument("--materialize-runs", type=int, default=3, help="measured runs per store, after a warm-up")
    parser.add_argument("--pushes", type=int, default=800, help="measured online pushes per server and batch size")
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
    config["provider"] = "local"
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


def push_body(rows: int) -> dict[str, Any]:
    """A push as the inbox sends it: new ids, ISO timestamps with an offset, 30 token ids each."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    df = {ENTITY_KEY: [str(uuid.uuid4()) for _ in range(rows)], TIMESTAMP_FIELD: [now] * rows,
          V2_FIELD: [list(range(2, 2 + V2_LENGTH))] * rows}
    return {"push_source_name": PUSH_SOURCE, "df": df, "to": "online"}


def bench_pushes(servers: dict[str, tuple[str, Path]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Online pushes into each server ("ours", "feast": URL and run directory), alternated in four rounds."""
    clients = {name: httpx.Client(base_url=url, timeout=args.timeout) for name, (url, _) in servers.items()}
    results = []
    try:
        for rows in PUSH_ROWS:
            cpu, errors = dict.fromkeys(servers, 0.0), 0
            for name in servers:  # warm-up
                for _ in range(args.warmup // 4):
                    clients[name].post("/push", json=push_body(rows))
            for round_ in range(4):
                for name in sorted(servers, reverse=bool(round_ % 2)):
                    before = group_cpu_seconds(servers[name][1])["feature_server"]
                    for _ in range(args.pushes // 4):
                        errors += clients[name].post("/push", json=push_body(rows)).status_code != 200
                    cpu[name] += group_cpu_seconds(servers[name][1])["feature_server"] - before
            ours, feast = (cpu[name] * 1000 / (args.pushes // 4 * 4) for name in ("ours", "feast"))
            results.append({"figure": f"feast serve online push, {rows} row(s)", "pushes": args.pushes,
                            "errors": errors, "server_cpu_ms_per_push": round(ours, 2),
                            "reference_cpu_ms_per_push": round(feast, 2), "ratio_to_reference": round(feast / ours, 2),
                            "reference": "Feast's provider and sqlite store in its own feast serve, alternated"})
    finally:
        for client in clients.values():
            client.close()
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
    if "server_cpu_ms_per_push" in result:
        return f"| {result['figure']} | {result['server_cpu_ms_per_push']} ms CPU per push | " \
               f"Feast's own {result['reference_cpu_ms_per_push']} ms ({result['ratio_to_reference']}×) | `{command}` |"
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
        reference = Path(tmp) / "feast-push"
        shutil.copytree(repo, reference)
        with_feast_stores(reference)
        servers = {"ours": (feature_server(port=args.port, repo=repo), Path(tmp) / "run"),
                   "feast": (feature_server(port=args.port + 1, repo=reference), Path(tmp) / "run-feast")}
        processes = [start(server, run_dir) for server, run_dir in servers.values()]
        try:
            for (server, _), process in zip(servers.values(), processes, strict=True):
                wait_healthy(server, process=process)
            results += bench_server_reads(servers["ours"][0].url, ids, args)
            print("online pushes, our feast serve and Feast's own in turn ...", file=sys.stderr)
            results += bench_pushes({name: (server.url, run_dir) for name, (server, run_dir) in servers.items()}, args)
        finally:
            for process in processes:
                stop_group(process.pid)
    for result in results:
        print(json.dumps({**result, "command": command}))
    print("| figure | result | | command |\n|---|---|---|---|")
    for result in results:
        print(markdown(result, command))
    return 1 if any(result.get("errors") for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
