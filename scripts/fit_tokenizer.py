"""Fit the v2 tokenizer on the training split of raw_data/raw_dataset.csv and save it.

Writes models/model2_2020/tokenizer/ (tokenizer.json and split.json).
"""

import argparse
import sys
from pathlib import Path

from contract.paths import MODELS_DIR, RAW_DATA_PATH
from training.feature_sets import TOKEN_IDS
from training.raw_data import read_raw_csv
from training.train import fit_tokenizer_on_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=RAW_DATA_PATH)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    tokenizer = fit_tokenizer_on_split(read_raw_csv(args.data), args.models_dir)
    print(f"tokenizer with {tokenizer.n_ids_} ids saved to {TOKEN_IDS.state_dir(args.models_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
