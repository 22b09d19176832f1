"""The tokenize tool as a user runs it: ids equal to HF's goldens, stdin lines, decoding, errors."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BINARY = os.environ.get("TOKENIZE", os.path.join(ROOT, "build", "demo", "tokenize"))
DATA = os.environ.get("INFER_TEST_DATA") or os.environ.get("INFER_DEFAULT_TEST_DATA",
                                                           os.path.join(ROOT, "..", "shared"))
GOLDENS = os.path.join(ROOT, "test", "data")

pytestmark = pytest.mark.skipif(not os.path.isfile(BINARY), reason=f"{BINARY} not built")


def load(name: str) -> tuple[str, list[str], list[dict]]:
    with open(os.path.join(GOLDENS, "tokenizer_corpus.json"), encoding="utf-8") as f:
        texts = json.load(f)["texts"]
    with open(os.path.join(GOLDENS, "tokenizer_goldens", f"{name}.json"), encoding="utf-8") as f:
        golden = json.load(f)
    path = os.path.join(DATA, golden["file"])
    if golden["file"].startswith("exported:"):
        path = os.path.join(os.environ.get("INFER_TEST_MODEL_DIR", os.path.join(ROOT, "build", "test_models")),
                            golden["file"].removeprefix("exported:"))
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found (set INFER_TEST_DATA)")
    return path, texts, golden["cases"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=60)


@pytest.mark.parametrize("name", ["llama3", "qwen", "llama2", "mistral-spm-model", "llama2-metaspace"])
def test_text_flag_matches_hf(name):
    path, texts, cases = load(name)
    for i in (0, 40, 120, 300):
        result = run(path, "--text", texts[i])
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == cases[i]["ids"], texts[i]


def test_stdin_lines_and_decode_round_trip():
    path, texts, cases = load("qwen")
    # Lines that HF decodes back exactly (Qwen normalises to NFC), split on "\n" only.
    lines = [t for t, c in zip(texts, cases) if "\n" not in t and "\r" not in t and c["round_trips"]][:80]
    result = run(path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    id_lines = result.stdout.split("\n")[:-1]
    assert len(id_lines) == len(lines)
    decoded = run(path, "--decode", stdin="\n".join(id_lines) + "\n")
    assert decoded.returncode == 0, decoded.stderr
    assert [json.loads(line) for line in decoded.stdout.split("\n")[:-1]] == lines


def test_special_tokens_are_text_unless_asked():
    path, _, _ = load("llama3")
    plain = json.loads(run(path, "--text", "<|eot_id|>").stdout)
    parsed = json.loads(run(path, "--text", "<|eot_id|>", "--parse_special").stdout)
    assert parsed == [128009] and 128009 not in plain
    assert json.loads(run(path, "--decode", "--text", "[128009, 9906]", "--noskip_special_tokens").stdout) == "<|eot_id|>Hello"


def test_errors_are_one_line():
    path, _, _ = load("llama2")
    for args, stdin, needle in [
        # 4294967297 used to wrap to id 1.
        ((path, "--decode", "--text", "[1, 4294967297]"), None,
         "line 1: element 1 (4294967297) is not a token id in [0, 2147483647]"),
        ((path, "--decode", "--text", "[3.7]"), None, "element 0 (3.7) is not a token id"),
        ((path, "--decode", "--text", "[-1]"), None, "element 0 (-1) is not a token id"),
        ((path, "--decode"), "[1, 2]\nnot json\n", "line 2: expected a JSON array"),
        (("/nonexistent/tokenizer.json", "--text", "x"), None, "cannot open"),
        (("/tmp", "--text", "x"), None, "/tmp: the tokenizer must be a regular file, and this is a directory"),
    ]:
        result = run(*args, stdin=stdin)
        assert result.returncode == 1
        assert result.stderr.startswith("tokenize: error: ") and needle in result.stderr, result.stderr
    assert run().returncode == 2
