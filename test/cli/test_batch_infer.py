"""batch_infer as a user runs it: a file of prompts in, the replies out in input order (each the
text HF transformers' greedy decoding gives for that prompt alone), throughput on stderr, and
one clear error line for each kind of bad input."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BINARY = os.environ.get("BATCH_INFER", os.path.join(ROOT, "build", "demo", "batch_infer"))
MODEL_DIR = os.environ.get("INFER_TEST_MODEL_DIR", os.path.join(ROOT, "build", "test_models"))
DATA = os.environ.get("INFER_TEST_DATA") or os.environ.get("INFER_DEFAULT_TEST_DATA",
                                                           os.path.join(ROOT, "..", "shared"))
STORY_BIN = os.path.join(MODEL_DIR, "story.bin")
STORY_TOKENIZER = os.path.join(DATA, "models", "story", "tokenizer.json")

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(BINARY) and os.path.isfile(STORY_BIN) and os.path.isfile(STORY_TOKENIZER)),
    reason=f"needs {BINARY}, {STORY_BIN} (ctest export fixture) and {STORY_TOKENIZER} (INFER_TEST_DATA)")


def goldens() -> list[dict]:
    with open(os.path.join(ROOT, "test", "data", "story_goldens.json"), encoding="utf-8") as f:
        return json.load(f)["cases"]


def run(prompts_file: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, STORY_BIN, STORY_TOKENIZER, prompts_file, *args],
                          capture_output=True, text=True, encoding="utf-8", errors="strict",
                          timeout=120)


def expect_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("batch_infer: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_replies_come_in_input_order_and_match_hf(tmp_path):
    cases = goldens()
    # Every prompt twice, in an order unlike the goldens', so that order mistakes show.
    order = list(reversed(range(len(cases)))) + list(range(len(cases)))
    path = tmp_path / "prompts.txt"
    path.write_text("".join(cases[i]["prompt"] + "\n" for i in order), encoding="utf-8")
    result = run(str(path), "--max_new_tokens", "30", "--output_format", "jsonl", "--threads", "2")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["index"] for line in lines] == list(range(1, len(order) + 1))
    for line, i in zip(lines, order):
        # Greedy and batch-invariant: each reply is what HF gives for its prompt alone, up to
        # HF's end-of-story token or the 30-token budget.
        golden = cases[i]["greedy_ids"]
        ends = 2 in golden[:30]
        expected = golden[:golden.index(2) + 1] if ends else golden[:30]
        assert line["ids"] == expected, (cases[i]["prompt"], line)
        assert line["stop"] == ("eos" if ends else "length"), line
        assert line["generated_tokens"] == len(expected)
    assert f"requests: {len(order)}" in result.stderr
    assert "generated tok/s" in result.stderr and "from the prefix cache" in result.stderr


def test_jsonl_input_and_text_output(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps({"prompt": "Once upon a time", "max_new_tokens": 5}) + "\n\n" +
                    json.dumps({"prompt": "The dog", "max_new_tokens": 3}) + "\n", encoding="utf-8")
    result = run(str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[1]\n, a little girl")
    assert "\n[2]\n" in result.stdout
    assert "generated tokens: 8" in result.stderr


def test_bad_input_is_one_clear_error(tmp_path):
    expect_error(run(str(tmp_path / "missing.txt")), "missing.txt", "cannot open")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    expect_error(run(str(empty)), "no prompts")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n[1, 2]\n', encoding="utf-8")
    expect_error(run(str(bad)), "bad.jsonl:2", "not a JSON object")
    fieldless = tmp_path / "fieldless.jsonl"
    fieldless.write_text('{"text": "ok"}\n', encoding="utf-8")
    expect_error(run(str(fieldless)), "fieldless.jsonl:1", '"prompt" or "messages"')
    long = tmp_path / "long.txt"
    long.write_text("Once upon a time\n" + "Once upon a time " * 20 + "\n", encoding="utf-8")
    expect_error(run(str(long), "--max_seq_len", "32"), "prompt 2", "max_seq_len 32")
    ok = tmp_path / "ok.txt"
    ok.write_text("Once upon a time\n", encoding="utf-8")
    expect_error(run(str(ok), "--kv_cache_mib", "0"), "--kv_cache_mib must be >= 1")
    expect_error(run(str(ok), "--parallel", "0"), "--parallel must be in [1, 4096]")
    expect_error(run(str(ok), "--output_format", "xml"), "--output_format")
    expect_error(run(str(ok), "--max_new_tokens", "0"), "--max_new_tokens must be >= 1")
    expect_error(run(str(ok), "--temperature", "-1"), "temperature")
