"""File formats a secret is found in: each context renders (key words, value) into a realistic file."""
# ruff: noqa: E501 - file templates read better unwrapped

from __future__ import annotations

import json
import re
from collections.abc import Callable

Render = Callable[[str, str], "tuple[str, str]"]  # (key words, value) -> (path, text)


def snake(words: str) -> str:
    return re.sub(r"\W+", "_", words.strip()).lower()


def upper(words: str) -> str:
    return snake(words).upper()


def camel(words: str) -> str:
    parts = re.split(r"\W+", words.strip())
    return parts[0].lower() + "".join(p.capitalize() for p in parts[1:])


def pascal(words: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"\W+", words.strip()))


def _multiline(value: str) -> bool:
    return "\n" in value


def _env(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = '"' + v.replace("\n", "\\n") + '"'
    return "/srv/app/.env", f"APP_ENV=production\nAPP_DEBUG=false\n{upper(key)}={v}\nLOG_LEVEL=info\n"


def _yaml(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        block = "\n".join("    " + ln for ln in v.splitlines())
        return "/etc/app/config.yaml", f"service:\n  name: billing\n  {snake(key)}: |\n{block}\n  port: 8443\n"
    return "/etc/app/config.yaml", f"service:\n  name: billing\n  {snake(key)}: {v}\n  port: 8443\n"


def _json(key: str, v: str) -> tuple[str, str]:
    doc = {"service": {"name": "billing", camel(key): v, "retries": 3}}
    return "/etc/app/config.json", json.dumps(doc, indent=2) + "\n"


def _toml(key: str, v: str) -> tuple[str, str]:
    q = f'"""\n{v}\n"""' if _multiline(v) else f'"{v}"'
    return "/etc/app/config.toml", f'[service]\nname = "billing"\n{snake(key)} = {q}\ntimeout = 30\n'


def _ini(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/etc/app/app.ini", f"[main]\nname = billing\n\n[credentials]\n{snake(key)} = {v}\n"


def _xml(key: str, v: str) -> tuple[str, str]:
    tag = camel(key)
    return "/etc/app/app.xml", f'<?xml version="1.0"?>\n<config>\n  <name>billing</name>\n  <{tag}>{v}</{tag}>\n</config>\n'


def _python(key: str, v: str) -> tuple[str, str]:
    q = f'"""{v}"""' if _multiline(v) else f'"{v}"'
    return "/srv/app/settings.py", f"import os\n\nDEBUG = False\n{upper(key)} = {q}\nALLOWED_HOSTS = ['*']\n"


def _js(key: str, v: str) -> tuple[str, str]:
    q = f"`{v}`" if _multiline(v) else f"'{v}'"
    return "/srv/app/config.js", f"module.exports = {{\n  port: 8080,\n  {camel(key)}: {q},\n}};\n"


def _go(key: str, v: str) -> tuple[str, str]:
    q = f"`{v}`" if _multiline(v) else f'"{v}"'
    return "/src/app/main.go", f"package main\n\nfunc main() {{\n\t{camel(key)} := {q}\n\tclient.Use({camel(key)})\n}}\n"


def _java(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/src/app/Config.java", (f"public class Config {{\n    private static final String {upper(key)} = \"{v}\";\n}}\n")


def _csharp(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/src/App/Config.cs", f"namespace App {{\n  class Config {{\n    public string {pascal(key)} = \"{v}\";\n  }}\n}}\n"


def _ruby(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/srv/app/config/initializers/app.rb", f"Rails.application.configure do\n  config.{snake(key)} = \"{v}\"\nend\n"


def _php(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/var/www/config.php", f"<?php\n$config = [\n    '{snake(key)}' => '{v}',\n    'debug' => false,\n];\n"


def _shell(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/opt/app/run.sh", f"#!/bin/sh\nset -e\nexport {upper(key)}=\"{v}\"\nexec /opt/app/bin/server\n"


def _cmdline(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    opt = "--" + snake(key).replace("_", "-")
    return "ps-auxww.txt", (f"root         1  0.0  0.1 /sbin/init\napp       4242  1.2  3.4 /opt/app/bin/worker {opt} {v} --verbose\n")


def _log_keyed(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        v = v.replace("\n", "\\n")
    return "/var/log/app/app.log", (f"2026-12-01T10:00:00Z INFO starting worker\n"
                                    f"2026-12-01T10:00:01Z DEBUG config {snake(key)}={v} region=eu-west-1\n")


def _standalone(key: str, v: str) -> tuple[str, str]:
    return "/home/bob/tokens.txt", f"# copied from the console\n{v}\n"


def _log_bare(key: str, v: str) -> tuple[str, str]:
    if _multiline(v):
        return "/var/log/app/app.log", f"2026-12-01T10:00:02Z ERROR rejected key:\n{v}\n"
    return "/var/log/app/app.log", f"2026-12-01T10:00:02Z WARN request with {v} was rejected (401)\n"


def _markdown(key: str, v: str) -> tuple[str, str]:
    return "/home/bob/README.md", f"## Setup\n\nUse this value:\n\n```\n{v}\n```\n"


# context -> (renderer, needs a standalone kind)
CONTEXTS: dict[str, tuple[Render, bool]] = {
    "env": (_env, False), "yaml": (_yaml, False), "json": (_json, False), "toml": (_toml, False),
    "ini": (_ini, False), "xml": (_xml, False), "python": (_python, False), "javascript": (_js, False),
    "go": (_go, False), "java": (_java, False), "csharp": (_csharp, False), "ruby": (_ruby, False),
    "php": (_php, False), "shell": (_shell, False), "cmdline": (_cmdline, False), "log-keyed": (_log_keyed, False),
    "standalone-line": (_standalone, True), "log-bare": (_log_bare, True), "markdown": (_markdown, True),
}
