"""Grouped, stratified K-fold cross-validation of the model versions, plus single-row latency.

    python scripts/cross_validate.py --data ../shared/data/sms_spam_dev.csv [--versions v1,v2,v3] [--folds 5]

Duplicate texts stay in one fold; the v2 tokenizer is fitted inside each fold on its training part.
Prints a markdown table and, with --json, the full figures as JSON.
"""

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from training.cross_validation import METRIC_KEYS, cross_validate_versions, summarize, version_latency
from training.raw_data import read_raw_csv
from training.versions import VERSIONS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV with columns sms_id,text,label")
    parser.add_argument("--versions", default="v1,v2,v3", help="comma-separated versions (default: v1,v2,v3)")
    parser.add_argument("--folds", type=int, default=5, help="number of grouped folds (default: 5)")
    parser.add_argument("--seed", type=int, default=42, help="random state of folds and models (default: 42)")
    parser.add_argument("--latency-calls", type=int, default=1000, help="single-row calls timed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    args = parser.parse_args(argv)
    args.versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    unknown = sorted(set(args.versions) - set(VERSIONS))
    if unknown:
        parser.error(f"unknown versions {unknown}; known: {sorted(VERSIONS)}")
    return args


def markdown(results: dict[str, dict]) -> str:
    header = ["version", *METRIC_KEYS, "p50 µs", "p99 µs", "cpu p99 µs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for version, result in results.items():
        cells = [f"{result['cv'][key]['mean']:.4f} ± {result['cv'][key]['std']:.4f}" for key in METRIC_KEYS]
        latency = result["latency"]
        cells += [f"{latency['p50_us']:.0f}", f"{latency['p99_us']:.0f}", f"{latency['cpu_p99_us']:.0f}"]
        lines.append(f"| {version} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = read_raw_csv(args.data)
    texts, labels = raw["text"].tolist(), (raw["label"] == "spam").astype(int).tolist()
    with tqdm(total=args.folds * len(args.versions), desc="folds × versions", file=sys.stderr) as bar:
        scores = cross_validate_versions(
            texts, labels, versions=args.versions, n_splits=args.folds, random_state=args.seed,
            on_step=lambda version: bar.update(1),
        )  # fmt: skip
    results = {}
    for version in tqdm(args.versions, desc="latency", file=sys.stderr):
        latency = version_latency(version, texts, labels, n_calls=args.latency_calls, random_state=args.seed)
        results[version] = {"cv": summarize(scores[version]), "folds": scores[version], "latency": latency}
    print(json.dumps(results, indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
