"""infer_server as people use it: the official `openai` Python client against a running server
(SmolLM2-135M-Instruct, its own chat template), plus raw HTTP for what a client library hides."""
from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import subprocess
import threading
import time

import pytest
from server_process import API_KEY, CONTEXT, HAVE_SERVER, LLAMA_INFER, MODEL, ROOT, SERVER, TOKENIZER, WHY_NOT, Server

openai = pytest.importorskip("openai")

# HF transformers' logits for the chat prompts (hf_infer/make_model_goldens.py).
HF_GOLDENS = os.path.join(ROOT, "test", "data", "smollm2_goldens.json")

pytestmark = pytest.mark.skipif(not HAVE_SERVER, reason=WHY_NOT)


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sessions")


@pytest.fixture(scope="module")
def server(session_dir):
    s = Server("--api_key", API_KEY, "--max_seq_len", str(CONTEXT), "--parallel", "8", "--session_dir",
               str(session_dir))
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


def detokenize(server, ids):
    status, data = server.request("POST", "/detokenize", json.dumps({"tokens": ids}),
                                  {"Authorization": f"Bearer {API_KEY}"})
    assert status == 200
    return json.loads(data)["content"]


def test_chat_logprobs_are_hf_s_and_the_same_streamed(client, server):
    golden = json.load(open(HF_GOLDENS))["cases"][0]
    assert golden["prompt"] == QUESTION[0]["content"]
    reply = client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=30, temperature=0,
                                           logprobs=True, top_logprobs=5)
    content = reply.choices[0].logprobs.content
    # HF's greedy reply, ended by EOS: every token has its entry but the EOS.
    assert reply.choices[0].finish_reason == "stop" and len(content) == reply.usage.completion_tokens - 1
    assert [entry.token for entry in content] == [detokenize(server, [i]) for i in golden["greedy_ids"][:-1]]
    assert "".join(entry.token for entry in content) == reply.choices[0].message.content == golden["greedy_text"]
    for entry in content:
        assert bytes(entry.bytes) == entry.token.encode()
        assert len(entry.top_logprobs) == 5
        assert entry.top_logprobs[0].token == entry.token and entry.top_logprobs[0].logprob == entry.logprob
        assert all(a.logprob >= b.logprob for a, b in zip(entry.top_logprobs, entry.top_logprobs[1:]))
        assert sum(math.exp(t.logprob) for t in entry.top_logprobs) <= 1 + 1e-5
    # The first position is the prompt's last: its top 5 are HF's, and differences of
    # logprobs are differences of HF's logits.
    hf_top = golden["last_logits_top"][:5]
    first = content[0].top_logprobs
    assert [t.token for t in first] == [detokenize(server, [i]) for i, _ in hf_top]
    for t, (_, logit) in zip(first, hf_top):
        assert t.logprob - first[0].logprob == pytest.approx(logit - hf_top[0][1], abs=5e-3)

    chunks = list(client.chat.completions.create(model="smollm2", messages=QUESTION, max_tokens=30, temperature=0,
                                                 logprobs=True, top_logprobs=5, stream=True))
    streamed = [entry for c in chunks if c.choices and c.choices[0].logprobs for entry in c.choices[0].logprobs.content]
    assert [(e.token, e.logprob) for e in streamed] == [(e.token, e.logprob) for e in content]


def test_completion_logprobs_in_the_completions_format(client):
    reply = client.completions.create(model="smollm2", prompt="The capital of France is", max_tokens=6,
                                      temperature=0, logprobs=3)
    lp = reply.choices[0].logprobs
    assert "".join(lp.tokens) == reply.choices[0].text
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
    assert lp.text_offset[0] == 0
    assert all(b - a == len(t.encode()) for a, b, t in zip(lp.text_offset, lp.text_offset[1:], lp.tokens))
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert len(top) == 3 and max(top.values()) == logprob and top[token] == logprob
    with pytest.raises(openai.BadRequestError) as error:
        client.completions.create(model="smollm2", prompt="x", logprobs=21)
    assert error.value.body["param"] == "logprobs"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="smollm2", messages=QUESTION, top_logprobs=2)
    assert error.value.body["param"] == "top_logprobs"


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


def test_cuda_serves_or_says_why():
    """--device cuda answers a chat request on a machine with a GPU, and is one error line there
    is no GPU or no CUDA build."""
    process = subprocess.Popen([SERVER, MODEL, TOKENIZER, "--port", "0", "--threads", "2", "--device", "cuda"],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        match = re.search(r"on http://([\d.]+):(\d+)", line)
        assert match, line
        host, port = match.group(1), int(match.group(2))
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:  # no usable GPU: the load failed
                lines = process.stderr.read().splitlines()
                assert process.returncode == 1 and lines[-1].startswith("infer_server: error: "), lines
                assert "device cuda is not usable" in lines[-1], lines[-1]
                return
            try:
                conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", "/health")
                ready = conn.getresponse().status == 200
                conn.close()
            except OSError:
                ready = False
            if ready:
                break
            assert time.monotonic() < deadline, "the model did not load in 120 s"
            time.sleep(0.05)
        client = openai.OpenAI(base_url=f"http://{host}:{port}/v1", api_key="unused", max_retries=0, timeout=120)
        reply = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "Hi!"}],
                                               max_tokens=8, temperature=0)
        assert reply.choices[0].message.content and reply.usage.completion_tokens > 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        process.stderr.close()


def test_a_port_in_use_is_an_error(server):
    result = subprocess.run([SERVER, MODEL, TOKENIZER, "--port", str(server.port)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr


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
    assert error.value.body["param"] == "messages[0].role"
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
                                  b'{"messages": [{"role": "user", "content": "hi"}], "stop": [1]}',
                                  # Found by the fuzzer: nlohmann's out_of_range escaped the JSON 400.
                                  b'{"messages": [], "max_tokens": 1e999}',
                                  b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 18446744073709551615}',
                                  b'[' * 200000 + b']' * 200000])
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
    status, data = server.request("POST", "/tokenize", json.dumps({"content": "x", "add_special": "yes"}), auth)
    assert status == 400 and json.loads(data)["error"]["param"] == "add_special"


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


def api(server, method: str, path: str, body=None, status: int = 200):
    """A JSON request with the key; asserts the status and returns the decoded body."""
    got, data = server.request(method, path, None if body is None else json.dumps(body),
                               {"Content-Type": "application/json"})
    assert got == status, data
    return json.loads(data)


SYSTEM = "You are a helpful assistant."


def test_a_session_keeps_the_conversation_and_computes_only_the_new_turn(server, client):
    session = api(server, "POST", "/v1/sessions", {"system": SYSTEM, "temperature": 0, "max_tokens": 12})
    sid = session["id"]
    assert session["turns"] == 0 and session["settings"] == {"temperature": 0, "max_tokens": 12}
    first = api(server, "POST", f"/v1/sessions/{sid}/messages", {"content": QUESTION[0]["content"]})
    history = [{"role": "system", "content": SYSTEM}, *QUESTION,
               {"role": "assistant", "content": first["choices"][0]["message"]["content"]}]
    # The same reply as a stateless request of the same conversation.
    plain = client.chat.completions.create(model="smollm2", messages=history[:2], max_tokens=12, temperature=0)
    assert first["choices"][0]["message"]["content"] == plain.choices[0].message.content

    follow_up = {"role": "user", "content": "And of Germany?"}
    events = stream_events(server, f"/v1/sessions/{sid}/messages",
                           {"content": follow_up["content"], "stream": True, "stream_options": {"include_usage": True}})
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    usage = events[-1]["usage"]
    # Only the new turn ran: the earlier ones came from the prefix cache (in whole 16-token
    # blocks, so up to 15 tokens of the last one run again).
    earlier = first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]
    computed = usage["prompt_tokens"] - usage["prompt_tokens_details"]["cached_tokens"]
    assert computed <= usage["prompt_tokens"] - earlier + 16, usage
    plain = client.chat.completions.create(model="smollm2", messages=[*history, follow_up], max_tokens=12,
                                           temperature=0)
    assert text == plain.choices[0].message.content

    described = api(server, "GET", f"/v1/sessions/{sid}")
    assert described["turns"] == 2 and described["title"] == QUESTION[0]["content"]
    assert described["messages"] == [*history[1:], follow_up, {"role": "assistant", "content": text}]
    assert sid in [s["id"] for s in api(server, "GET", "/v1/sessions")["data"]]

    rolled = api(server, "POST", f"/v1/sessions/{sid}/rollback", {"turn": 1})
    assert rolled["messages"] == history[1:]
    again = api(server, "POST", f"/v1/sessions/{sid}/messages", {"content": "And of Italy?", "max_tokens": 4})
    assert again["usage"]["completion_tokens"] <= 4  # a message may override the session's settings
    assert api(server, "GET", f"/v1/sessions/{sid}")["turns"] == 2


def stream_events(server, path: str, body: dict) -> list[dict]:
    # Long enough for a request that waits its turn behind many others (sanitizer builds).
    conn = http.client.HTTPConnection(server.host, server.port, timeout=600)
    conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {API_KEY}",
                                                  "Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200, response.read()
    lines = [line for line in response.read().decode().splitlines() if line.startswith("data: ")]
    conn.close()
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[len("data: "):]) for line in lines[:-1]]


def test_sessions_save_load_and_delete(server, session_dir):
    sid = api(server, "POST", "/v1/sessions", {"system": SYSTEM, "temperature": 0, "max_tokens": 6})["id"]
    api(server, "POST", f"/v1/sessions/{sid}/messages", {"content": "Hi!"})
    name = api(server, "POST", f"/v1/sessions/{sid}/save")["name"]
    assert (session_dir / f"{name}.json").is_file()
    loaded = api(server, "POST", "/v1/sessions/load", {"name": name})
    original = api(server, "GET", f"/v1/sessions/{sid}")
    assert loaded["id"] != sid
    assert (loaded["messages"], loaded["system"], loaded["settings"]) == (
        original["messages"], original["system"], original["settings"])
    assert api(server, "DELETE", f"/v1/sessions/{sid}")["deleted"] is True
    assert api(server, "GET", f"/v1/sessions/{sid}", status=404)["error"]["type"] == "not_found_error"
    # The loaded copy goes on by itself.
    assert api(server, "POST", f"/v1/sessions/{loaded['id']}/messages", {"content": "Bye!"})["choices"]

    # Names are the server's own: no path reaches outside the folder, damaged files are refused.
    for bad in ["../etc/passwd", "a/b", "", "x" * 65, 5]:
        assert api(server, "POST", "/v1/sessions/load", {"name": bad}, status=400)["error"]["param"] == "name"
    assert api(server, "POST", "/v1/sessions/load", {"name": "sess_nothing"}, status=404)
    (session_dir / "sess_damaged.json").write_text('{"format": "libinfer-session", "version": 1, "turns": 3}')
    error = api(server, "POST", "/v1/sessions/load", {"name": "sess_damaged"}, status=400)["error"]
    assert "damaged" in error["message"]
    os.mkfifo(session_dir / "sess_fifo.json")
    assert api(server, "POST", "/v1/sessions/load", {"name": "sess_fifo"}, status=400)


def test_session_requests_are_checked(server):
    assert api(server, "POST", "/v1/sessions", {"temperature": 9}, status=400)["error"]["param"] == "temperature"
    assert api(server, "POST", "/v1/sessions", {"system": 3}, status=400)["error"]["param"] == "system"
    sid = api(server, "POST", "/v1/sessions", {"max_tokens": 400})["id"]
    assert api(server, "POST", f"/v1/sessions/{sid}/messages", {"text": "hi"}, status=400)["error"]["param"] == "content"
    assert api(server, "POST", f"/v1/sessions/{sid}/rollback", {"turn": 3}, status=400)["error"]["param"] == "turn"
    assert api(server, "POST", "/v1/sessions/sess_unknown/messages", {"content": "hi"}, status=404)
    # One message at a time: a second one while the first streams is refused with 409.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    conn.request("POST", f"/v1/sessions/{sid}/messages", json.dumps({"content": "Tell me a story.", "stream": True}),
                 {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.readline().startswith(b"data: ")
    assert api(server, "POST", f"/v1/sessions/{sid}/messages", {"content": "hi"}, status=409)
    assert api(server, "POST", f"/v1/sessions/{sid}/rollback", {"turn": 0}, status=409)
    conn.close()  # the client goes: its reply is cancelled and recorded as it stood
    deadline = time.monotonic() + 30
    while api(server, "GET", f"/v1/sessions/{sid}")["busy"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api(server, "GET", f"/v1/sessions/{sid}")["turns"] == 1


def test_idle_sessions_are_dropped():
    s = Server("--session_idle_s", "1")
    try:
        sid = api(s, "POST", "/v1/sessions", {})["id"]
        assert api(s, "GET", f"/v1/sessions/{sid}")["turns"] == 0
        time.sleep(1.5)
        assert api(s, "GET", f"/v1/sessions/{sid}", status=404)
        # Without --session_dir, saving is refused with the reason.
        sid = api(s, "POST", "/v1/sessions", {})["id"]
        assert "--session_dir" in api(s, "POST", f"/v1/sessions/{sid}/save", status=400)["error"]["message"]
    finally:
        assert s.stop() == 0


# The sanitizer pass of .ci/run sets INFER_TEST_SCALE=small: the same load tests with fewer
# clients, since every token costs several times more there.
SMALL = os.environ.get("INFER_TEST_SCALE") == "small"
STREAMS, LEAVERS = (16, 8) if SMALL else (64, 20)

PROMPTS = ["Once upon a time", "The capital of France is", "def fibonacci(n):", "Water boils at",
           "My favourite colour is", "In the year 2050,", "The quick brown fox", "Dear diary, today"]


def completion_tokens(server, prompt: str, max_tokens: int = 8) -> list[str]:
    """The reply's tokens (by their logprobs entries) of a streamed greedy completion."""
    events = stream_events(server, "/v1/completions", {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                                                        "logprobs": 0, "stream": True})
    return [t for e in events if e["choices"] and e["choices"][0]["logprobs"]
            for t in e["choices"][0]["logprobs"]["tokens"]]


def in_threads(count: int, work) -> list:
    results, errors = [None] * count, []

    def run(i):
        try:
            results[i] = work(i)
        except Exception as e:  # noqa: BLE001 - reported below with its request
            errors.append((i, e))
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not errors, errors
    return results


def test_sixty_four_concurrent_streams_each_equal_their_solo_run(server):
    # --parallel 8: eight generate at once, the other 56 wait in the Engine; none is refused.
    solo = {p: completion_tokens(server, p) for p in PROMPTS}
    assert all(tokens for tokens in solo.values())
    streamed = in_threads(STREAMS, lambda i: completion_tokens(server, PROMPTS[i % len(PROMPTS)]))
    for i, tokens in enumerate(streamed):
        assert tokens == solo[PROMPTS[i % len(PROMPTS)]], f"stream {i}: a token lost, duplicated or changed"


def wait_until_idle(server):
    deadline = time.monotonic() + 60
    while True:
        m = metrics(server)
        if m["infer_requests_running"] == 0 and m["infer_requests_waiting"] == 0 and \
                m['infer_kv_blocks{state="used"}'] == 0:
            return m
        assert time.monotonic() < deadline, m
        time.sleep(0.1)


def test_twenty_clients_leaving_mid_stream_free_everything_while_others_go_on(server):
    solo = {p: completion_tokens(server, p) for p in PROMPTS[:4]}

    def leave(i):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        body = {"prompt": PROMPTS[i % len(PROMPTS)], "max_tokens": 400, "stream": True}
        if i % 2:
            body = {"messages": [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}], "max_tokens": 400,
                    "stream": i % 4 == 1}  # some leave a whole (non-streamed) reply while it is made
            path = "/v1/chat/completions"
        else:
            path = "/v1/completions"
        conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {API_KEY}",
                                                      "Content-Type": "application/json"})
        if body.get("stream"):
            response = conn.getresponse()
            assert response.status == 200
            response.readline()
        else:
            time.sleep(0.5)
        conn.close()

    def work(i):
        if i < LEAVERS:
            return leave(i)
        prompt = PROMPTS[i % 4]
        assert completion_tokens(server, prompt) == solo[prompt]
    in_threads(LEAVERS + 4, work)
    m = wait_until_idle(server)
    assert m['infer_kv_blocks{state="free"}'] + m['infer_kv_blocks{state="cached"}'] > 0


def malformed_requests() -> list[tuple[str, str, bytes | str, dict]]:
    """200 requests of every kind a client can get wrong: (method, path, body, headers)."""
    hi = [{"role": "user", "content": "hi"}]
    chat_fields = {
        "messages": [None, "hi", [], [{"content": "x"}], [{"role": 1, "content": "x"}],
                     [{"role": "user", "content": 5}], [{"role": "wizard", "content": "x"}],
                     [{"role": "user", "content": [{"type": "image_url"}]}], [3], {"role": "user"}],
        "temperature": ["hot", -1, 2.5, [], {}],
        "top_p": [0, 1.5, "x", -0.1],
        "top_k": [-2, 1.5, "x"],
        "min_p": [-0.5, 2, "x"],
        "repetition_penalty": [0, -1, "x"],
        "frequency_penalty": [-3, 3, "x"],
        "presence_penalty": [-3, 3, "x"],
        "seed": [-1, "x", 1.5],
        "max_tokens": [0, -5, "ten", 1.5],
        "max_completion_tokens": [0, "x"],
        "stop": [1, [1], ["a", ""], "", ["a", "b", "c", "d", "e"]],
        "n": [2, 0, "x"],
        "stream": ["yes", 1],
        "stream_options": ["x", {"include_usage": "x"}],
        "logprobs": ["x", 3],
        "top_logprobs": [21, -1, "x"],
        "model": [5, []],
    }
    requests = []
    auth = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    for field, values in chat_fields.items():
        for value in values:
            body = {"messages": hi, field: value}
            if field == "messages" and value is None:
                body = {}
            requests.append(("POST", "/v1/chat/completions", json.dumps(body), auth))
    completion_fields = {"prompt": [None, "", [], [-1], [10 ** 9], [1.5], {"a": 1}, 5, [["x"]]],
                         "logprobs": [True, 21, -1], "max_tokens": [0, "x"], "echo_unknown": []}
    for field, values in completion_fields.items():
        for value in values:
            body = {"prompt": "hi", field: value} if field != "prompt" else ({} if value is None else {field: value})
            requests.append(("POST", "/v1/completions", json.dumps(body), auth))
    for text in [b"", b"{", b"[]", b"null", b"42", b'"x"', b"{\"messages\": ", b"\xff\xfe", b"{}" * 3,
                 b"[" * 10000, b'{"messages": [' + b"{}," * 50 + b"{}]}"]:
        for path in ["/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize", "/v1/sessions",
                     "/v1/sessions/load"]:
            if not (path == "/v1/sessions" and text.startswith(b'{"messages"')):  # a session may ignore it
                requests.append(("POST", path, text, auth))
    long_prompt = {"prompt": "word " * 2000, "max_tokens": 5}
    requests += [
        ("POST", "/v1/completions", json.dumps(long_prompt), auth),
        ("POST", "/v1/chat/completions", json.dumps({"messages": hi}), {"Content-Type": "application/json"}),
        ("POST", "/v1/chat/completions", json.dumps({"messages": hi}), {"Authorization": "Bearer wrong"}),
        ("POST", "/v1/completions", json.dumps({"prompt": "x"}), {"Authorization": API_KEY}),
        ("GET", "/v1/nothing", "", auth),
        ("DELETE", "/v1/models", "", auth),
        ("PUT", "/v1/chat/completions", "{}", auth),
        ("POST", "/v1/completions", b"x" * (9 << 20), auth),
        ("POST", "/tokenize", json.dumps({"content": 5}), auth),
        ("POST", "/tokenize", json.dumps({"content": "x", "add_special": "yes"}), auth),
        ("POST", "/detokenize", json.dumps({"tokens": "x"}), auth),
        ("POST", "/detokenize", json.dumps({"tokens": [1, -1]}), auth),
        ("GET", "/v1/sessions/sess_unknown", "", auth),
        ("DELETE", "/v1/sessions/sess_unknown", "", auth),
        ("POST", "/v1/sessions/sess_unknown/messages", json.dumps({"content": "x"}), auth),
        ("POST", "/v1/sessions/sess_unknown/rollback", json.dumps({"turn": 0}), auth),
        ("POST", "/v1/sessions/sess_unknown/save", "", auth),
        ("POST", "/v1/sessions/load", json.dumps({"name": "../../etc/passwd"}), auth),
        ("POST", "/v1/sessions/load", json.dumps({"name": "sess_none"}), auth),
        ("POST", "/v1/sessions", json.dumps({"system": 1}), auth),
        ("POST", "/v1/sessions", json.dumps({"temperature": 7}), auth),
        ("GET", "/v1/sessions/../../etc/passwd", "", auth),
    ]
    while len(requests) < 200:  # messages of every field again, with the wrong key
        method, path, body, _ = requests[len(requests) % 40]
        requests.append((method, path, body, {"Authorization": "Bearer nope"}))
    return requests


def test_two_hundred_malformed_requests_are_each_a_json_4xx(server):
    requests = malformed_requests()
    assert len(requests) >= 200
    for method, path, body, headers in requests:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        where = f"{method} {path} {str(body)[:80]!r}"
        assert 400 <= response.status < 500, f"{where}: {response.status} {data[:200]!r}"
        error = json.loads(data)["error"]
        assert error["message"] and error["type"], where
    assert server.process.poll() is None
    assert server.request("GET", "/health")[0] == 200
    wait_until_idle(server)
