"""bench/infer_bench as a user runs it: one JSON object with every figure the README promises,
and a clear error for a bad model file or bad flags."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_llama_infer import ROOT, STORY_BIN

BENCH = os.environ.get("INFER_BENCH") or os.path.join(ROOT, "build", "bench", "infer_bench")

pytestmark = pytest.mark.skipif(not (os.path.isfile(BENCH) and os.path.isfile(STORY_BIN)),
                                reason=f"needs {BENCH} and {STORY_BIN}")


def test_reports_speed_memory_and_bandwidth():
    result = subprocess.run([BENCH, STORY_BIN, "--prompt_tokens", "16", "--gen_tokens", "8", "--repeats", "1",
                             "--bandwidth_mib", "64", "--threads", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    for key in ("load_s", "prefill_tokens_per_s", "decode_tokens_per_s", "time_to_first_token_ms", "peak_rss_mib",
                "decode_bytes_per_token", "read_gb_per_s", "decode_fraction_of_read_bandwidth"):
        assert out[key] > 0, key
    assert out["threads"] == 1 and out["prompt_tokens"] == 16


def test_bad_input(tmp_path):
    broken = tmp_path / "broken.bin"
    broken.write_bytes(b"not a model")
    result = subprocess.run([BENCH, str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.startswith(f"infer_bench: error: {broken}")
    result = subprocess.run([BENCH, STORY_BIN, "--gen_tokens", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "usage" in result.stderr.lower()
    result = subprocess.run([BENCH, STORY_BIN, "--device", "tpu"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "unknown device 'tpu'" in result.stderr


def test_cuda_runs_or_says_why():
    result = subprocess.run([BENCH, STORY_BIN, "--device", "cuda", "--prompt_tokens", "8", "--gen_tokens", "4",
                             "--repeats", "1"], capture_output=True, text=True, timeout=120)
    if result.returncode == 0:  # a machine with a GPU: the host bandwidth figures are left out
        out = json.loads(result.stdout)
        assert out["device"] == "cuda" and out["decode_tokens_per_s"] > 0 and "read_gb_per_s" not in out
    else:
        assert result.returncode == 1 and "device cuda is not usable" in result.stderr, result.stderr
