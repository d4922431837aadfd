"""Repeated grouped cross-validation of the model versions, plus single-row latency.

    python scripts/cross_validate.py --data ../shared/data/sms_spam_dev.csv [--versions v1,v2,v3]
        [--folds 5] [--repeats 5] [--vocab-size N --min-count N --truncation pre|post --padding pre|post]
        [--keep-stop-words] [--oov-prefix N]

Near-duplicates and spam template families stay in one fold (training.splits); the v2 tokenizer is
fitted inside each fold on its training part. Reports mean, sample sd, the lower bound mean - sd used
to choose candidates, and the 10th percentile of the fold scores (training.cross_validation).
Prints a markdown table and, with --json, the full figures as JSON. Runs on one core (n_jobs=1).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training.cross_validation import (
    METRIC_KEYS,
    OOF_KEY,
    cross_validate_versions,
    reliability,
    summarize,
    version_latency,
)
from training.raw_data import read_raw_csv
from training.versions import VERSIONS

TOKENIZER_OPTIONS = ("vocab_size", "min_count", "truncation", "padding", "drop_stop_words", "oov_prefix")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV with columns sms_id,text,label")
    parser.add_argument("--versions", default="v1,v2,v3", help="comma-separated versions (default: v1,v2,v3)")
    parser.add_argument("--folds", type=int, default=5, help="grouped folds per repeat (default: 5)")
    parser.add_argument("--repeats", type=int, default=5, help="partitions with seeds seed, seed+1, ... (default: 5)")
    parser.add_argument("--seed", type=int, default=42, help="first random state of folds; models use it too")
    parser.add_argument("--vocab-size", type=int, help="tokenizer override (default: the shipped default)")
    parser.add_argument("--min-count", type=int, help="tokenizer override")
    parser.add_argument("--truncation", choices=("pre", "post"), help="tokenizer override")
    parser.add_argument("--padding", choices=("pre", "post"), help="tokenizer override")
    parser.add_argument("--keep-stop-words", dest="drop_stop_words", action="store_const", const=False,
                        help="tokenizer override: long texts keep their stop words")  # fmt: skip
    parser.add_argument("--oov-prefix", type=int, help="tokenizer override (0: every unknown word is OOV)")
    parser.add_argument("--latency-calls", type=int, default=1000, help="single-row calls timed; 0 skips latency")
    parser.add_argument("--examples", type=int, default=5, help="misclassified texts listed per version")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    args = parser.parse_args(argv)
    args.versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    unknown = sorted(set(args.versions) - set(VERSIONS))
    if unknown:
        parser.error(f"unknown versions {unknown}; known: {sorted(VERSIONS)}")
    args.tokenizer_params = {k: getattr(args, k) for k in TOKENIZER_OPTIONS if getattr(args, k) is not None}
    return args


def markdown(results: dict[str, dict]) -> str:
    header = ["version", "F1 mean ± sd", "F1 lower (mean − sd)", "F1 p10", *METRIC_KEYS[:2], *METRIC_KEYS[3:]]
    header += ["p50 µs", "cpu p99 µs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for version, result in results.items():
        cv = result["cv"]
        f1 = cv["f1_spam"]
        cells = [f"{f1['mean']:.4f} ± {f1['sd']:.4f}", f"{f1['lower']:.4f}", f"{f1['p10']:.4f}"]
        cells += [f"{cv[key]['mean']:.4f} ± {cv[key]['sd']:.4f}" for key in METRIC_KEYS if key != "f1_spam"]
        latency = result.get("latency")
        cells += [f"{latency['p50_us']:.0f}", f"{latency['cpu_p99_us']:.0f}"] if latency else ["-", "-"]
        lines.append(f"| {version} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misclassified(texts: list[str], y: np.ndarray, oof: np.ndarray, n: int) -> list[dict]:
    """The `n` most confident errors at threshold 0.5, alternating false negatives and false positives."""
    wrong = np.flatnonzero((oof >= 0.5) != (y == 1))
    ranked = sorted(wrong, key=lambda i: -abs(oof[i] - 0.5))
    negatives = [i for i in ranked if y[i] == 1]
    positives = [i for i in ranked if y[i] == 0]
    picked = [i for pair in zip(negatives, positives, strict=False) for i in pair][:n]
    return [
        {"text": texts[i], "label": "spam" if y[i] else "ham", "spam_proba": round(float(oof[i]), 3)} for i in picked
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = read_raw_csv(args.data)
    texts, labels = raw["text"].tolist(), (raw["label"] == "spam").astype(int).tolist()
    with tqdm(total=args.folds * args.repeats * len(args.versions), desc="folds × versions", file=sys.stderr) as bar:
        scores = cross_validate_versions(
            texts, labels, versions=args.versions, n_splits=args.folds, n_repeats=args.repeats,
            random_state=args.seed, tokenizer_params=args.tokenizer_params, on_step=lambda version: bar.update(1),
        )  # fmt: skip
    y = np.asarray(labels)
    results: dict[str, dict] = {}
    for version in args.versions:
        oof = np.asarray(scores[version].pop(OOF_KEY))
        results[version] = {
            "cv": summarize(scores[version]),
            "folds": scores[version],
            "reliability_first_repeat": reliability(y, oof),
            "misclassified_first_repeat": misclassified(texts, y, oof, args.examples),
        }
    if args.latency_calls:
        for version in tqdm(args.versions, desc="latency", file=sys.stderr):
            results[version]["latency"] = version_latency(
                version, texts, labels, n_calls=args.latency_calls, random_state=args.seed
            )
    output = {"tokenizer_params": args.tokenizer_params, "results": results}
    print(json.dumps(output, indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
