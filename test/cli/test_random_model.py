"""bench/random_model as a GPU run uses it: a weights file of a named shape with random weights that
libinfer loads and runs, in each dtype, and clear errors for a shape or dtype it does not know."""
from __future__ import annotations

import json
import os
import struct
import subprocess

import pytest

from test_llama_infer import ROOT

BENCH_DIR = os.path.dirname(os.environ.get("INFER_BENCH") or os.path.join(ROOT, "build", "bench", "infer_bench"))
RANDOM_MODEL = os.path.join(BENCH_DIR, "random_model")
INFER_BENCH = os.path.join(BENCH_DIR, "infer_bench")

pytestmark = pytest.mark.skipif(not (os.path.isfile(RANDOM_MODEL) and os.path.isfile(INFER_BENCH)),
                                reason=f"needs {RANDOM_MODEL} and {INFER_BENCH}")


def header(path) -> dict:
    with open(path, "rb") as f:
        magic, version, _, length = struct.unpack("<8sIIQ", f.read(24))
        assert magic == b"LIBINFER" and version == 1
        return json.loads(f.read(length))


@pytest.mark.parametrize("dtype", ["bf16", "f16", "f32"])
def test_the_file_loads_and_runs(tmp_path, dtype):
    out = tmp_path / f"tiny-{dtype}.bin"
    result = subprocess.run([RANDOM_MODEL, "tiny-llama3", str(out), "--dtype", dtype], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    tensors = {t["name"]: t for t in header(out)["tensors"]}
    assert tensors["layers.1.mlp.down.weight"]["dtype"] == dtype
    assert tensors["layers.1.mlp.down.weight"]["shape"] == [64, 160]
    assert tensors["norm.weight"]["dtype"] == "f32" and "head.weight" in tensors
    bench = subprocess.run([INFER_BENCH, str(out), "--prompt_tokens", "4", "--gen_tokens", "4", "--threads", "1",
                            "--repeats", "1"], capture_output=True, text=True, timeout=120)
    assert bench.returncode == 0, bench.stderr
    assert json.loads(bench.stdout)["decode_tokens_per_s"] > 0


@pytest.mark.parametrize("args, message", [
    (["llama-9"], "unknown shape 'llama-9'"),
    (["tiny-llama3", "--dtype", "i8"], "--dtype must be bf16, f16 or f32"),
])
def test_what_it_cannot_make_is_refused(tmp_path, args, message):
    result = subprocess.run([RANDOM_MODEL, args[0], str(tmp_path / "x.bin"), *args[1:]], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "x.bin").exists()
