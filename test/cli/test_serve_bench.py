"""bench/serve_bench as a user runs it: both transports on one request mix, with their ratios,
and clear errors for flags that cannot work."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_llama_infer import ROOT, STORY_BIN, STORY_TOKENIZER

BENCH_DIR = os.path.dirname(os.environ.get("INFER_BENCH") or os.path.join(ROOT, "build", "bench", "infer_bench"))
SERVE_BENCH = os.path.join(BENCH_DIR, "serve_bench")

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(SERVE_BENCH) and os.path.isfile(STORY_BIN) and os.path.isfile(STORY_TOKENIZER)),
    reason=f"needs {SERVE_BENCH}, {STORY_BIN} and {STORY_TOKENIZER}")


def test_in_process_and_over_http_on_the_same_requests():
    result = subprocess.run([SERVE_BENCH, STORY_BIN, "--tokenizer", STORY_TOKENIZER, "--transport", "both",
                             "--requests", "6", "--clients", "3", "--prompt_min", "4", "--prompt_max", "16",
                             "--output_min", "4", "--output_max", "8", "--threads", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # ignore_eos: every request produces its whole budget over both transports.
    assert out["http"]["output_tokens"] == out["in_process"]["output_tokens"] >= 6 * 4
    assert out["http"]["prompt_tokens"] == out["in_process"]["prompt_tokens"]
    assert out["http_over_in_process"]["output_tokens_per_s"] > 0
    assert out["http"]["ttft_ms"]["p50"] > 0 and out["clients"] == 3


def test_flags_that_cannot_work_are_refused():
    result = subprocess.run([SERVE_BENCH, STORY_BIN, "--transport", "http"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "--transport http needs --tokenizer" in result.stderr
    result = subprocess.run([SERVE_BENCH, STORY_BIN, "--transport", "pigeon"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "--transport must be inprocess, http or both" in result.stderr


def test_cuda_runs_or_says_why():
    result = subprocess.run([SERVE_BENCH, STORY_BIN, "--device", "cuda", "--requests", "4", "--clients", "2",
                             "--prompt_min", "4", "--prompt_max", "8", "--output_min", "2", "--output_max", "4"],
                            capture_output=True, text=True, timeout=120)
    if result.returncode == 0:
        out = json.loads(result.stdout)
        assert out["device"] == "cuda" and out["in_process"]["output_tokens"] >= 4 * 2
    else:
        assert result.returncode == 1 and "device cuda is not usable" in result.stderr, result.stderr
