"""What tokenizer format 3 costs: the same vocabulary with and without its two steps, in one run.

    python scripts/bench_tokenizer.py --models-dir models [--copies 34] [--rounds 3] [--chunk 10000]

Loads the shipped tokenizer (format 3: stop words dropped from long texts, unknown words backed off by
prefix) and, from the same file, a format-2 document (neither step, the same vocabulary), read through
`SmsTokenizer.load` as any format-2 file is. Then transforms the dev file's texts --copies times over,
in chunks as batch scoring does, alternating the two, and prints texts per CPU second of each, their
ratio, and whether any text's ids differ (they must, or the steps do nothing).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import DEV_CSV, PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script from anywhere

from training.feature_sets import TOKEN_IDS
from training.raw_data import read_raw_csv
from training.tokenizer import TOKENIZER_FILE, SmsTokenizer


def format_2_twin(directory: Path, into: Path) -> SmsTokenizer:
    """The tokenizer in `directory` written as format 2 (no stop words, no back-off) and read back."""
    document = json.loads((directory / TOKENIZER_FILE).read_text(encoding="utf-8"))
    for key in ("drop_stop_words", "oov_prefix"):
        document["params"].pop(key)
    document.pop("stop_words")
    document["format_version"] = 2
    (into / TOKENIZER_FILE).write_text(json.dumps(document), encoding="utf-8")
    return SmsTokenizer.load(into)


def texts_per_cpu_second(tokenizer: SmsTokenizer, texts: list[str], chunk: int) -> float:
    start = time.process_time()
    for at in range(0, len(texts), chunk):
        tokenizer.transform(texts[at : at + chunk])
    return len(texts) / (time.process_time() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "models")
    parser.add_argument("--copies", type=int, default=34, help="the dev file's texts this many times over")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=10_000, help="texts per transform call")
    args = parser.parse_args(argv)
    directory = TOKEN_IDS.state_dir(args.models_dir)
    shipped = SmsTokenizer.load(directory)
    dev_texts = read_raw_csv(DEV_CSV)["text"].tolist()
    with tempfile.TemporaryDirectory() as scratch:
        twin = format_2_twin(directory, Path(scratch))
    changed = int((shipped.transform(dev_texts) != twin.transform(dev_texts)).any(axis=1).sum())
    texts = dev_texts * args.copies
    print(f"{len(texts):,} texts, chunks of {args.chunk:,}; ids differ on {changed:,} of {len(dev_texts):,} dev texts")
    print("| round | format 3 texts/CPU s | format 2 twin texts/CPU s | ratio |\n|---|---|---|---|")
    ratios = []
    for round_ in range(1, args.rounds + 1):
        three = texts_per_cpu_second(shipped, texts, args.chunk)
        two = texts_per_cpu_second(twin, texts, args.chunk)
        ratios.append(three / two)
        print(f"| {round_} | {three:,.0f} | {two:,.0f} | {three / two:.3f} |")
    print(f"median ratio {np.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
