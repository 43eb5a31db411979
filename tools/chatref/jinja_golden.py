#!/usr/bin/env python3
"""Writes pkg/chat/testdata/jinja-golden.json: every chat template of
llama.cpp's models/templates/ rendered by Python jinja2 exactly as Hugging
Face's apply_chat_template sets it up (transformers' _compile_jinja_template:
an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop
controls; tojson, raise_exception and strftime_now), for several
conversations, with and without the generation prompt.

Usage: tools/chatref/jinja_golden.py TEMPLATES_DIR > pkg/chat/testdata/jinja-golden.json
  TEMPLATES_DIR: models/templates of the llama.cpp source that
  ../shared/tools/reference/setup.sh unpacks (its src/).
Needs jinja2 (python3 -m venv /tmp/jvenv && /tmp/jvenv/bin/pip install jinja2).
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)  # strftime_now's fixed clock
BOS, EOS = "<s>", "</s>"

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city"},
                           "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}]

CONVERSATIONS = {
    "system_user": {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
    ]},
    "multi_turn": {"messages": [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ]},
    "unicode": {"messages": [
        {"role": "system", "content": "  Réponds en français.\n"},
        {"role": "user", "content": "\t日本語と emoji 🦙, \"quotes\" & <tags>\n\n"},
    ]},
    "tools": {"tools": TOOLS, "messages": [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21}"},
        {"role": "user", "content": "Thanks!"},
    ]},
}


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return NOW.strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    tdir = sys.argv[1]
    env = environment()
    out = {"jinja2": jinja2.__version__, "now": NOW.isoformat(), "bos_token": BOS, "eos_token": EOS,
           "conversations": CONVERSATIONS, "templates": []}
    for name in sorted(os.listdir(tdir)):
        if not name.endswith(".jinja"):
            continue
        src = open(os.path.join(tdir, name), encoding="utf-8").read()
        entry = {"name": name, "source": src, "cases": []}
        try:
            tmpl = env.from_string(src)
        except Exception as e:  # a template jinja2 cannot parse
            entry["parse_error"] = f"{type(e).__name__}: {e}"
            out["templates"].append(entry)
            continue
        for conv, c in CONVERSATIONS.items():
            for agp in (True, False):
                case = {"conversation": conv, "add_generation_prompt": agp}
                try:
                    case["output"] = tmpl.render(messages=c["messages"], tools=c.get("tools"), documents=None,
                                                 add_generation_prompt=agp, bos_token=BOS, eos_token=EOS)
                except Exception as e:
                    case["error"] = f"{type(e).__name__}: {e}"
                entry["cases"].append(case)
        out["templates"].append(entry)
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
