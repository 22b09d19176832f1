"""demo/chat_template as a user runs it to see what a model will be fed: real templates against
HF's renderings (test/data/jinja_goldens.json) and ids (test/data/chat_goldens.json), and one
clear error line for what cannot be rendered."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BINARY = os.environ.get("CHAT_TEMPLATE", os.path.join(ROOT, "build", "demo", "chat_template"))
DATA = os.environ.get("INFER_TEST_DATA", os.environ.get("INFER_DEFAULT_TEST_DATA", os.path.join(ROOT, "..", "shared")))
TEMPLATES = os.path.join(DATA, "chat_templates")
GOLDENS = json.load(open(os.path.join(ROOT, "test", "data", "jinja_goldens.json"), encoding="utf-8"))

pytestmark = pytest.mark.skipif(not (os.path.isfile(BINARY) and os.path.isdir(TEMPLATES)),
                                reason=f"needs {BINARY} and {TEMPLATES} (INFER_TEST_DATA)")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=60)


def golden(template: str, conversation: str, add_generation_prompt: bool) -> dict:
    return next(c for c in GOLDENS["cases"] if c["template"] == template and c["conversation"] == conversation
                and c["add_generation_prompt"] == add_generation_prompt)


@pytest.mark.parametrize("template,conversation", [
    ("Llama-3.1-Instruct.jinja", "tool_call"),
    ("Mistral-Nemo-Instruct-2407.jinja", "tools"),
    ("Phi-3.5-mini-instruct.jinja", "six_turns"),
    ("DeepSeek-R1-Distill-Qwen-32B.jinja", "unicode"),
])
def test_renders_as_hf(tmp_path, template, conversation):
    conv = GOLDENS["conversations"][conversation]
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps({"messages": conv["messages"], "tools": conv["tools"]}, ensure_ascii=False),
                    encoding="utf-8")
    tokens = GOLDENS["templates"][template]
    result = run(os.path.join(TEMPLATES, template), path, "--add_generation_prompt", "--bos_token",
                 tokens["bos_token"], "--eos_token", tokens["eos_token"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == golden(template, conversation, True)["text"]


def test_a_tokenizer_folder_and_its_ids(tmp_path):
    chat_goldens = json.load(open(os.path.join(ROOT, "test", "data", "chat_goldens.json"), encoding="utf-8"))
    case = chat_goldens["tokenizers"]["qwen"]["cases"][0]
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps(case["messages"]), encoding="utf-8")
    folder = os.path.join(DATA, "tokenizers", "qwen")
    result = run(folder, path, "--add_generation_prompt", "--ids", os.path.join(folder, "tokenizer.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == case["ids"]


def test_refusals_are_one_error_line(tmp_path):
    conversation = tmp_path / "conversation.json"
    conversation.write_text(json.dumps([{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]))
    result = run(os.path.join(TEMPLATES, "gemma-7b-it.jinja"), conversation)
    assert result.returncode == 1
    assert result.stderr == "chat_template: error: System role not supported\n"
    unsupported = tmp_path / "t.jinja"
    unsupported.write_text("line one\n{% for m in messages %}{{ m | wordwrap }}{% endfor %}")
    result = run(unsupported, conversation)
    assert result.returncode == 1 and "line 2: filter 'wordwrap' is not supported" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    result = run(os.path.join(TEMPLATES, "gemma-7b-it.jinja"), broken)
    assert result.returncode == 1 and "broken.json is not valid JSON" in result.stderr
    result = run(tmp_path / "missing.jinja", conversation)
    assert result.returncode == 1 and "missing.jinja" in result.stderr
