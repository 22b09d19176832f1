#!/usr/bin/env python3
"""Golden renderings of real chat templates by HF's own Jinja environment.

    python hf_infer/make_jinja_goldens.py [--smollm2_gguf PATH --smollm2_dir DIR]

Writes test/data/jinja_goldens.json: for every template in ../shared/chat_templates, the
tokenizer_config.json templates of ../shared/tokenizers and (when given) the SmolLM2-Instruct
GGUF's, each conversation below rendered with add_generation_prompt true and false by
transformers' _compile_jinja_template (jinja2's ImmutableSandboxedEnvironment with trim_blocks,
lstrip_blocks, loopcontrols, HF's tojson, raise_exception and strftime_now). strftime_now is
pinned to 2024-07-26 so that the goldens do not depend on the day they were made. A conversation
a template refuses is recorded with the template's own error message. Where the template's
tokenizer is at hand (the shared tokenizers; SmolLM2's from DIR, made by tools/gguf_import.py),
each rendering also carries HF's ids: tokenizer.encode(text, add_special_tokens=False), as
apply_chat_template(tokenize=True) makes them.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os

from hf_common import command_line, data_dir

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city"},
                                                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}]

TOOL_CALL = {"role": "assistant", "content": "", "tool_calls": [{
    "id": "call12345", "type": "function",
    "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
               "content": '{"temperature": 22, "sky": "clear"}'}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


SYSTEM = {"role": "system", "content": "You are a helpful assistant."}

# (name, messages, tools)
CONVERSATIONS = [
    ("one_user", [user("What is the capital of France?")], None),
    ("system_user", [SYSTEM, user("Hello!")], None),
    ("three_turns", [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")], None),
    ("system_assistant_last", [SYSTEM, user("2+2?"), assistant("4"), user("And 3+3?"), assistant("6")], None),
    ("six_turns", [user("one"), assistant("two"), user("three"), assistant("four"), user("five"), assistant("six"),
                   user("seven"), assistant("eight"), user("nine"), assistant("ten"), user("eleven"),
                   assistant("twelve")], None),
    ("unicode", [user("Ünïcödé: naïve café, 日本語, emoji 😀👍🏽, RTL עברית"), assistant("¡Sí! ✓")], None),
    ("looks_like_jinja", [user("{{ 1 + 1 }} {% if true %}x{% endif %} {# c #} {{ messages }}")], None),
    ("looks_like_special_tokens", [user("<|im_end|> </s> <s> [INST] <|eot_id|> <start_of_turn>")], None),
    ("empty_content", [user(""), assistant(""), user("")], None),
    ("whitespace", [SYSTEM, user("  padded  \n\n"), assistant("\n reply \t"), user("\tnext ")], None),
    ("tools", [SYSTEM, user("What is the weather in Paris?")], TOOLS),
    ("tool_call", [user("What is the weather in Paris?"), TOOL_CALL, TOOL_RESULT], TOOLS),
    ("not_alternating", [user("first"), user("second")], None),
    ("system_only", [SYSTEM], None),
]

NOW = datetime.datetime(2024, 7, 26, 12, 0, 0)


def templates(shared: str, smollm2_gguf: str | None, smollm2_dir: str | None) -> list[dict]:
    folder = os.path.join(shared, "chat_templates")
    out = []
    for entry in json.load(open(os.path.join(folder, "index.json"), encoding="utf-8")):
        with open(os.path.join(folder, entry["file"]), encoding="utf-8") as f:
            out.append({"name": entry["file"], "source": f.read(),
                        "bos_token": entry["bos_token"] or "<s>", "eos_token": entry["eos_token"] or "</s>"})
    for name in sorted(os.listdir(os.path.join(shared, "tokenizers"))):
        path = os.path.join(shared, "tokenizers", name, "tokenizer_config.json")
        if not os.path.isfile(path):
            continue
        config = json.load(open(path, encoding="utf-8"))
        if "chat_template" not in config:
            continue

        def token(key, default):
            value = config.get(key)
            return value.get("content") if isinstance(value, dict) else (value or default)
        out.append({"name": f"tokenizers/{name}", "source": config["chat_template"],
                    "bos_token": token("bos_token", "<s>"), "eos_token": token("eos_token", "</s>"),
                    "tokenizer_dir": os.path.join(shared, "tokenizers", name),
                    "tokenizer_file": f"tokenizers/{name}/tokenizer.json"})
    if smollm2_gguf:
        import gguf
        reader = gguf.GGUFReader(smollm2_gguf)
        field = reader.fields["tokenizer.chat_template"]
        source = bytes(field.parts[field.data[0]]).decode("utf-8")
        out.append({"name": "smollm2-gguf", "source": source, "bos_token": "<|im_start|>",
                    "eos_token": "<|im_end|>", "tokenizer_dir": smollm2_dir,
                    "tokenizer_file": "exported:smollm2_tokenizer/tokenizer.json"})
    return out


def render(template: dict, messages, tools, add_generation_prompt: bool) -> dict:
    import jinja2
    from transformers.utils.chat_template_utils import _compile_jinja_template

    compiled = _compile_jinja_template(template["source"])
    compiled.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)
    kwargs = {"messages": messages, "add_generation_prompt": add_generation_prompt,
              "bos_token": template["bos_token"], "eos_token": template["eos_token"]}
    if tools is not None:
        kwargs["tools"] = tools
    try:
        return {"text": compiled.render(**kwargs)}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smollm2_gguf", help="SmolLM2-Instruct GGUF (python tools/smollm2_gguf.py prints it)")
    parser.add_argument("--smollm2_dir", help="its HF folder from tools/gguf_import.py, for SmolLM2's ids")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "data",
                                                      "jinja_goldens.json"))
    args = parser.parse_args()
    import jinja2
    import transformers

    cases = []
    from transformers import AutoTokenizer

    found = templates(data_dir(), args.smollm2_gguf, args.smollm2_dir)
    for template in found:
        tokenizer = AutoTokenizer.from_pretrained(template["tokenizer_dir"]) if template.get("tokenizer_dir") else None
        for name, messages, tools in CONVERSATIONS:
            for add_generation_prompt in (True, False):
                case = {"template": template["name"], "conversation": name,
                        "add_generation_prompt": add_generation_prompt,
                        **render(template, messages, tools, add_generation_prompt)}
                if tokenizer is not None and "text" in case:
                    case["ids"] = tokenizer.encode(case["text"], add_special_tokens=False)
                cases.append(case)
    payload = {
        "generated_by": command_line(),
        "versions": {"transformers": transformers.__version__, "jinja2": jinja2.__version__},
        "now": NOW.isoformat(),
        "templates": {t["name"]: {k: t[k] for k in ("source", "bos_token", "eos_token", "tokenizer_file") if k in t}
                      for t in found},
        "conversations": {name: {"messages": messages, "tools": tools} for name, messages, tools in CONVERSATIONS},
        "cases": cases,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("error" in c for c in cases)
    with_ids = sum("ids" in c for c in cases)
    print(f"wrote {args.out}: {len(found)} templates, {len(cases)} cases ({errors} refused by their template, "
          f"{with_ids} with HF's ids)")


if __name__ == "__main__":
    main()
