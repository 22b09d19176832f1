"""bench/batched_bench as a user runs it: a table or JSON row per batch size, and clear errors for
flags that cannot work (a bad batch list, an unknown or unusable device)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_llama_infer import ROOT, STORY_BIN

BENCH_DIR = os.path.dirname(os.environ.get("INFER_BENCH") or os.path.join(ROOT, "build", "bench", "infer_bench"))
BATCHED_BENCH = os.path.join(BENCH_DIR, "batched_bench")

pytestmark = pytest.mark.skipif(not (os.path.isfile(BATCHED_BENCH) and os.path.isfile(STORY_BIN)),
                                reason=f"needs {BATCHED_BENCH} and {STORY_BIN}")


def run(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([BATCHED_BENCH, STORY_BIN, "--pp", "8", "--tg", "4", "--threads", "1", *flags],
                          capture_output=True, text=True, timeout=120)


def test_a_row_per_batch_size():
    result = run("--batches", "1,3", "--output_format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["device"] == "cpu" and [row["b"] for row in out["rows"]] == [1, 3]
    for row in out["rows"]:
        assert row["n_kv"] == row["b"] * (8 + 4)
        assert row["s_pp_tok_per_s"] > 0 and row["s_tg_tok_per_s"] > 0


def test_the_table_looks_like_llama_batched_bench():
    result = run("--batches", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("|")[1].strip() == "PP" and len(lines) == 3
    assert [cell.strip() for cell in lines[2].split("|")[1:5]] == ["8", "4", "2", "24"]


@pytest.mark.parametrize("flags, message", [
    (("--batches", "1,x"), "--batches"),
    (("--batches", "0"), "--batches"),
    (("--pp", "0"), "--pp and --tg must be >= 1"),
    (("--output_format", "xml"), "--output_format must be table or json"),
    (("--device", "tpu"), "unknown device 'tpu'"),
])
def test_flags_that_cannot_work_are_refused(flags, message):
    result = run(*flags)
    assert result.returncode == 1 and result.stderr.startswith("batched_bench: error:"), result.stderr
    assert message in result.stderr, result.stderr


def test_cuda_runs_or_says_why():
    result = run("--batches", "1,2", "--output_format", "json", "--device", "cuda")
    if result.returncode == 0:
        out = json.loads(result.stdout)
        assert out["device"] == "cuda" and all(row["s_tg_tok_per_s"] > 0 for row in out["rows"])
    else:
        assert result.returncode == 1 and "device cuda is not usable" in result.stderr, result.stderr
