"""Shared helpers for the HF-side scripts: load a checkpoint in fp32 with the reference
attention implementation, and write golden files with the command that made them."""
from __future__ import annotations

import json
import os
import shlex
import sys

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")


def data_dir() -> str:
    """The shared data folder: $INFER_TEST_DATA, default ../shared beside the checkout."""
    return os.path.abspath(os.environ.get("INFER_TEST_DATA", DEFAULT_DATA))


def load_hf_model(model_dir: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    return model, AutoTokenizer.from_pretrained(model_dir)


def command_line() -> str:
    return "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:])


def write_golden(path: str, payload: dict) -> None:
    import tokenizers
    import torch
    import transformers

    payload = {
        "generated_by": command_line(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        **payload,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path}", file=sys.stderr)
