"""What the tools' tests share: the tools on sys.path, where the shared data and the story model
are, and the SmolLM2 GGUF when its PyPI package is installed."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, TOOLS)

DATA = os.environ.get("INFER_TEST_DATA") or os.environ.get(
    "INFER_DEFAULT_TEST_DATA", os.path.join(TOOLS, "..", "..", "shared"))
STORY = os.path.join(DATA, "models", "story")
needs_story = pytest.mark.skipif(not os.path.isfile(os.path.join(STORY, "config.json")),
                                 reason=f"story model not found under {DATA} (set INFER_TEST_DATA)")
SMOLLM2 = subprocess.run([sys.executable, os.path.join(TOOLS, "smollm2_gguf.py")], capture_output=True,
                         text=True).stdout.strip()
