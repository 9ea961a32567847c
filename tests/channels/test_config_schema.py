"""The JSON Schema of the ``channels:`` section: it says what the built-in channels accept, and a configuration it
refuses stops ``medic run`` before anything runs (exit 2, file, line, channel and option named, no secret shown)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from medic.core.notify import EVENTS
from medic.kernel.errors import ValidationError
from medic.plugins.channels import configschema, email, ticket
from tests.channels.test_commands import medic

# per type, the options its channel accepts (the channels' own lists where they keep one)
ACCEPTED = {"console": set(), "file": {"path"}, "webhook": {"url", "secret", "timeout"}, "email": email._KNOWN,
            "chat": {"url", "timeout"}, "ticket": ticket._KNOWN, "apprise": {"url"}}


def test_the_schema_is_valid_and_lists_what_each_channel_accepts() -> None:
    schema = configschema.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for kind, options in ACCEPTED.items():
        assert set(schema["$defs"][kind]["properties"]) - {"type", "events"} == options, kind
    assert tuple(schema["$defs"]["events"]["items"]["enum"]) == EVENTS


def test_a_good_section_passes_and_a_plugin_type_is_left_to_its_plugin() -> None:
    config = {"channels": {
        "hook": {"type": "webhook", "url": "https://hooks.example.org/m", "secret": ["env:A", "file:/run/b"],
                 "events": ["run.finished", "change.rolled_back"]},
        "mail": {"type": "email", "host": "smtp.example.org", "from": "m@example.org", "to": ["t@example.org"],
                 "username": "m", "password": "env:SMTP_PASSWORD", "tls": "implicit", "port": 465},
        "chat": {"type": "teams", "url": "file:~/.config/medic/teams-url"},
        "rt": {"type": "ticket", "url": "https://rt.example.org", "token": "env:RT_TOKEN", "resolve_on": ["pass"]},
        "log": {"type": "file", "path": "~/events.jsonl"}, "tty": {"type": "console"},
        "theirs": {"type": "pager-plugin", "anything": 1}}}
    configschema.check(config, "config.yaml")


@pytest.mark.parametrize(("instance", "said"), [
    ({"type": "webhook", "url": "https://h.example.org/", "secret": "env:S", "evnts": []},
     "channels.x.evnts: unknown option 'evnts' of a webhook channel; it takes url, timeout, secret"),
    ({"type": "webhook", "url": "https://h.example.org/"}, "'secret' is a required property"),
    ({"type": "webhook", "url": "ftp://h.example.org/", "secret": "env:S"}, "channels.x.url: expected https://"),
    ({"type": "webhook", "url": "https://h.example.org/", "secret": ["env:A", "env:B", "env:C"]},
     "channels.x.secret: expected one secret reference"),
    ({"type": "email", "host": "h", "from": "a@b", "to": "c@d", "tls": "ssl"}, "channels.x.tls: 'ssl' is not one of"),
    ({"type": "email", "host": "h", "from": "a@b", "to": "c@d", "password": "env:P"}, "'username' is a dependency"),
    ({"type": "file", "events": ["run.finishd"]}, "'path' is a required property"),
    ({"type": "file", "path": "p", "events": ["run.finishd"]}, "channels.x.events.0: 'run.finishd' is not one of"),
    ({"type": "slack", "url": "env:SLACK_URL", "timeout": 0}, "channels.x.timeout"),
    ({"events": ["run.finished"]}, "'type' is a required property"),
])
def test_each_kind_of_mistake_names_the_channel_and_the_option(instance: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        configschema.check({"channels": {"x": instance}}, "config.yaml")
    assert said in str(caught.value) and "config.yaml" in str(caught.value)


@pytest.mark.parametrize("literal", ["hunter2-literal", "https://hooks.slack.com/services/T0/B0/XyZsecret"])
def test_a_literal_secret_is_refused_without_being_shown(literal: str) -> None:
    for instance in ({"type": "email", "host": "h", "from": "a@b", "to": "c@d", "username": "u", "password": literal},
                     {"type": "slack", "url": literal}, {"type": "webhook", "url": "https://h.example.org/",
                                                          "secret": [literal]}):
        with pytest.raises(ValidationError) as caught:
            configschema.check({"channels": {"x": instance}}, "config.yaml")
        assert "env:NAME or file:PATH" in str(caught.value) and literal not in str(caught.value)


def _env(tmp_path: Path, config: str) -> dict[str, str]:
    (tmp_path / "config.yaml").write_text(config)
    return {**{k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")},
            "MEDIC_CONFIG": str(tmp_path / "config.yaml"), "MEDIC_STATE_DIR": str(tmp_path / "state")}


def test_medic_run_refuses_a_bad_channels_section_before_running(tmp_path: Path) -> None:
    env = _env(tmp_path, "notify: [console]\nchannels:\n  team:\n    type: webhook\n"
                         "    url: https://hooks.example.org/medic\n    secret: env:HOOK_SECRET\n    timout: 5\n")
    run = medic(env, "run", "triage", "--engine", "inline")
    assert run.returncode == 2, run.stderr
    assert f"{tmp_path / 'config.yaml'}:7:5: at channels.team.timout: unknown option 'timout'" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "state" / "runs").exists()  # nothing ran


def test_channels_validate_and_schema_commands(tmp_path: Path) -> None:
    env = _env(tmp_path, "channels:\n  team: {type: webhook, url: 'https://hooks.example.org/m', secret: env:HOOK_S}\n"
                         "  log: {type: file, path: /tmp/x.jsonl}\n")
    missing = medic(env, "channels", "validate")
    assert missing.returncode == 2 and "HOOK_S" in missing.stderr and "team" in missing.stderr
    env["HOOK_S"] = "whsec_" + "QUJD" * 11
    good = medic(env, "channels", "validate")
    assert good.returncode == 0 and "team (webhook), log (file)" in good.stdout, good.stderr
    other = tmp_path / "other.yaml"
    other.write_text("channels:\n  pager: {type: pagerduty}\n")
    unknown = medic(env, "channels", "validate", str(other))
    assert unknown.returncode == 2 and "unknown channel type 'pagerduty'" in unknown.stderr
    assert json.loads(medic(env, "channels", "schema").stdout) == configschema.schema()
