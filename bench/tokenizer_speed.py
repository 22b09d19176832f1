#!/usr/bin/env python3
"""Tokenizer encode throughput, libinfer vs HF `tokenizers` (Rust, via Python), same text, same run.

    python bench/tokenizer_speed.py [--mb 1.5] [--repeats 5] [--binary build/bench/tokenizer_speed]

Builds a deterministic mixed-language text (prose, code, CJK, Cyrillic, Arabic, emoji, numbers,
whitespace) of about --mb megabytes, then for each tokenizer in the shared data folder times
a single-threaded encode of the whole text with both libraries (median of --repeats), checks
that the ids are identical, and prints MB/s and the ratio. Needs `pip install tokenizers`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hf_infer"))
from corpus import corpus  # noqa: E402

TOKENIZERS = ["tokenizers/llama3/tokenizer.json", "tokenizers/qwen/tokenizer.json",
              "tokenizers/llama2/tokenizer.json", "tokenizers/mistral-spm/tokenizer.json"]


def make_text(megabytes: float) -> str:
    rng = random.Random(7)
    pieces = corpus()
    out, size = [], 0
    while size < megabytes * 1e6:
        piece = rng.choice(pieces)
        out.append(piece)
        out.append(rng.choice(["\n", " ", "\n\n", ". "]))
        size += len(piece.encode()) + 1
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1.5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "bench", "tokenizer_speed"))
    parser.add_argument("--data", default=os.environ.get("INFER_TEST_DATA", os.path.join(HERE, "..", "..", "shared")))
    args = parser.parse_args()

    from tokenizers import Tokenizer

    text = make_text(args.mb)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
        path = f.name
    nbytes = len(text.encode())
    print(f"text: {nbytes / 1e6:.2f} MB, {len(text)} characters; single thread; median of {args.repeats}")
    lines = text.split("\n")
    print(f"{'tokenizer':<40} {'mode':<6} {'tokens':>9} {'libinfer MB/s':>14} {'HF MB/s':>9} {'ratio':>7}  ids")
    for rel in TOKENIZERS:
        tok_path = os.path.join(args.data, rel)
        hf = Tokenizer.from_file(tok_path)
        hf.encode_special_tokens = True  # special-token strings are plain text, as in libinfer
        for mode in ("whole", "lines"):
            ours = json.loads(subprocess.run([args.binary, tok_path, path, str(args.repeats), mode], check=True,
                                             capture_output=True, text=True).stdout)
            with open(path + ".ids.json") as f:
                our_ids = json.load(f)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                if mode == "whole":
                    hf_ids = hf.encode(text).ids
                else:
                    hf_ids = [i for line in lines for i in hf.encode(line, add_special_tokens=False).ids]
                times.append(time.perf_counter() - start)
            hf_mbs = nbytes / statistics.median(times) / 1e6
            # HF's raw Tokenizer ignores tokenizer_config.json, so a BOS may differ in whole mode.
            same = our_ids == hf_ids or (mode == "whole" and our_ids[1:] == hf_ids or our_ids == hf_ids[1:])
            print(f"{rel:<40} {mode:<6} {len(hf_ids):>9} {ours['mb_per_s']:>14.2f} {hf_mbs:>9.2f} "
                  f"{ours['mb_per_s'] / hf_mbs:>6.2f}x  {'same' if same else 'DIFFERENT'}")
    os.remove(path)
    os.remove(path + ".ids.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
