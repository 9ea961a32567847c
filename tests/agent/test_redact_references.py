"""Classes an independent corpus (redact-secret's benchmarks, bench/README-redaction.md, session 16) found missed,
cut or destroyed: masks, documented examples, references, values removed whole, kept markers. Values invented."""

from __future__ import annotations

import pytest

from medic.agent.redact import Scrubber
from medic.agent.redact.keys import keep_value
from medic.agent.redact.references import documented_example, masked

_LOG = "/var/log/app/app.log"
_RANDOM = "Qv4Tr8zKw9Lm2Xp7"  # a made-up secret


def _scrub(text: str, path: str = _LOG) -> str:
    return Scrubber().scrub_text(text, path=path)


@pytest.mark.parametrize(("value", "kept"), [
    ("******", True), ("\u2022" * 9, True), ("\u25cf" * 6, True), ("-x-", True), ("xxxx-xxxx", True), ("!*", True),
    ("******x", False), ("\u2022" * 6 + "x", False), ("x******", False), ("****a", False), ("", False),
])
def test_a_mask_is_mask_characters_only_not_one_with_a_letter_x_at_an_end(value: str, kept: bool) -> None:
    assert masked(value) is kept


@pytest.mark.parametrize("line", ["Password: ******x", "PASSWORD=\u2022\u2022\u2022\u2022\u2022x"])
def test_a_mask_with_a_last_letter_after_it_is_redacted_whole(line: str) -> None:
    out = _scrub(line)
    assert "[REDACTED:password#1]" in out and "x" not in out.split("]", 1)[1]


@pytest.mark.parametrize("line", ["Password: \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022",
                                  'password: "\u25cf\u25cf\u25cf\u25cf\u25cf\u25cf"'])
def test_a_bullet_mask_is_kept(line: str) -> None:
    assert _scrub(line) == line


_EXAMPLE_ID = "AKIAQ7ZT3WX9PEXAMPLE"  # the documentation's shape: 13 characters, then EXAMPLE
_EXAMPLE_SECRET = "bQ7rT/2xLm9Kp4Wz8Nv3Yc6Hd1Fg5J" + "EXAMPLEKEY"


def test_documented_example_shapes_only() -> None:
    assert len(_EXAMPLE_ID) == 20 and len(_EXAMPLE_SECRET) == 40
    assert documented_example(_EXAMPLE_ID) and documented_example(_EXAMPLE_SECRET)
    assert not documented_example(_EXAMPLE_ID[:-1] + "F") and not documented_example(_EXAMPLE_SECRET[:-1] + "Z")
    assert not documented_example("MyEXAMPLEpassword1") and not documented_example("AKIAEXAMPLE")


@pytest.mark.parametrize("text", [
    f"{_EXAMPLE_ID}\n", f"AWS_ACCESS_KEY_ID={_EXAMPLE_ID}\n", f'secret="{_EXAMPLE_SECRET}"\n',
    f'{{"aws_secret_access_key":"{_EXAMPLE_SECRET}"}}\n', f"[default]\naws_secret_access_key = {_EXAMPLE_SECRET}\n",
])
def test_aws_documented_example_keys_are_kept(text: str) -> None:
    assert _scrub(text) == text


@pytest.mark.parametrize("text", [
    f"AWS_ACCESS_KEY_ID={_EXAMPLE_ID[:-1]}F\n", f'aws_secret_access_key="{_EXAMPLE_SECRET[:-1]}Z"\n',
    "password=MyEXAMPLEpass7\n",
])
def test_one_character_off_the_documented_shape_is_redacted(text: str) -> None:
    assert "[REDACTED:" in _scrub(text)


_REFERENCES = [
    "vault:kv/app/mail#smtp_pass", "ref+awssecrets://prod/mail#/smtp", "op://Ops/Mailer/password",
    "arn:aws:secretsmanager:eu-central-1:123456789012:secret:mail-smtp-Ab12Cd",
    "@Microsoft.KeyVault(VaultName=ops-kv;SecretName=smtp-pass)",
    "@Microsoft.KeyVault(SecretUri=https://ops-kv.vault.azure.net/secrets/smtp-pass/)",
    "projects/acme-ops/secrets/smtp-pass/versions/3", "projects/acme-ops/secrets/smtp-pass", "os.environ/SMTP_PASSWORD",
    "%SMTP_PASS%", "{env:SMTP_PASS}", "#{ENV['SMTP_PASS']}", "os.getenv('SMTP_PASS')", 'os.environ["SMTP_PASS"]',
    'std::env::var("SMTP_PASS")', "process.env.SMTP_TOKEN", "conf.smtpPassword", "app_settings.SMTP_PASSWORD",
    "tf_random_password.mail.result", ":new_smtp_password",
]


@pytest.mark.parametrize("value", _REFERENCES)
def test_references_to_a_secret_kept_elsewhere_are_kept(value: str) -> None:
    assert keep_value(value, "smtp_password") is True
    line = f"smtp_password: {value}"
    assert _scrub(line, "/etc/app/config.yaml") == line


@pytest.mark.parametrize("value", [
    f"vault:{_RANDOM}", f"op://{_RANDOM}", f"op://Ops/{_RANDOM}/password",
    f"arn:aws:secretsmanager:eu-central-1:acct:secret:{_RANDOM}", f"os.environ/{_RANDOM.lower()}-x",
    f"ref+vault://{_RANDOM}", f"projects/x/secrets/{_RANDOM}/extra", "my.password", "Summer.Password2",
    f"conf.{_RANDOM}", "CONF.SMTP_PASSWORD", "conf.something", "%smtp pass%", f"{{env:{_RANDOM}}}x",
])
def test_reference_shaped_secrets_are_redacted_whole(value: str) -> None:
    assert keep_value(value, "smtp_password") is False
    out = _scrub(f"smtp_password: {value}", "/etc/app/config.yaml")
    assert out == "smtp_password: [REDACTED:password#1]"


@pytest.mark.parametrize("line", [
    "status installed gir1.2-secret-1:armhf. 0.21.4-1", "Unpacking libsecret-tools:riscv64. (0.21.4-1) ...",
])
def test_a_package_architecture_before_a_full_stop_is_kept(line: str) -> None:
    assert _scrub(line, "/var/log/dpkg.log") == line


@pytest.mark.parametrize("line", [
    "password=[REDACTED:password] token: [REDACTED:token] x=1", "secret=*** user=ann", "pw=<redacted> host=db1",
    "password=${DB_PW} retries=3", "api_key=[REDACTED] region=eu-west-1",
])
def test_a_line_already_redacted_by_another_tool_is_kept_with_its_other_pairs(line: str) -> None:
    assert _scrub(line) == line


@pytest.mark.parametrize(("line", "out"), [
    ("password=correct horse battery", "password=[REDACTED:password#1]"),
    ("password=*** hunter2x", "password=[REDACTED:password#1]"),  # no pair after the marker: the rest is the value
    (f"password=*** token={_RANDOM}", "password=*** token=[REDACTED:token#1]"),
])
def test_a_value_with_blanks_still_runs_to_the_line_end(line: str, out: str) -> None:
    assert _scrub(line) == out


@pytest.mark.parametrize("line", [
    f"msg user=ann password: Qv4<{_RANDOM}", f"msg user=ann password={_RANDOM[:5]}<{_RANDOM}> ok",
    f'login password=ab"{_RANDOM} ok', f"login token=ab'{_RANDOM}", f"x secret: {{name: a, value: {_RANDOM}}} y=1",
    f"x password=({_RANDOM}, {_RANDOM[::-1]}) y=1",
])
def test_an_inline_value_is_removed_whole_past_quotes_angles_and_brackets(line: str) -> None:
    out = _scrub(line)
    assert "[REDACTED:" in out
    assert all(_RANDOM[i:i + 4] not in out and _RANDOM[::-1][i:i + 4] not in out for i in range(len(_RANDOM) - 3))


@pytest.mark.parametrize("line", [
    "smtp_password: {{ mail.smtp_password }}", "deploy_token: {{ secrets.deploy_token }}",
])
def test_an_unquoted_template_is_kept_whole(line: str) -> None:
    assert _scrub(line, "/etc/app/config.yaml") == line


@pytest.mark.parametrize("line", [
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app", "url: redis://:xxxxxxxx@cache:6379/0",
    "broker: amqp://guest:{{ mq_password }}@mq:5672/", "  - mysql://app:%(db_password)s@db/app",
])
def test_a_variable_template_or_mask_in_a_url_password_is_kept(line: str) -> None:
    assert _scrub(line, "/srv/app/.env") == line


@pytest.mark.parametrize("line", [
    f"DATABASE_URL=postgres://app:{_RANDOM}@db:5432/app", "url: redis://:xxxxxxxxQ@cache:6379/0",
    f"broker: amqp://guest:${_RANDOM}@mq:5672/",
])
def test_a_url_password_that_is_no_placeholder_is_redacted(line: str) -> None:
    assert "[REDACTED:url_password#1]" in _scrub(line, "/srv/app/.env")


_B64URL = "Zk3_qT9-xW2mL7pR4nV8cY1hJ6dF0gB5"


@pytest.mark.parametrize("token", [
    "Nj" + _B64URL[:22] + "." + _B64URL[:6] + "." + _B64URL[:27],  # Discord: an id from 6... in base64, 17 digits
    "OT" + _B64URL[:24] + "." + _B64URL[2:8] + "." + _B64URL[:30],
    "ATAT" + (_B64URL * 4)[:100],  # Atlassian API token after ATAT, 100 characters
    (_B64URL.replace("_", "a").replace("-", "b") * 3)[:76] + "AZDO" + "Qx7k",  # Azure DevOps PAT: AZDO at 76
])
@pytest.mark.parametrize("fmt", ["{}", 'value="{}"', "# note\r\n{}\r\n"])
def test_vendor_formats_an_independent_corpus_had(token: str, fmt: str) -> None:
    out = _scrub(fmt.format(token))
    assert "[REDACTED:" in out and token[4:20] not in out and token[-12:] not in out


@pytest.mark.parametrize("line", [
    "Authorization: Bearer ${API_TOKEN}", "Authorization: Bearer <token>", "Authorization: Basic {{ basic_auth }}",
    "The PEM label is -----BEGIN PRIVATE KEY----- with no key after it.", "-----BEGIN RSA PRIVATE KEY-----",
])
def test_a_scheme_before_a_variable_and_a_bare_private_key_label_are_kept(line: str) -> None:
    assert _scrub(line) == line


@pytest.mark.parametrize("text", [
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
    "Authorization: Bearer ${API_TOKEN}x9Qv4Tr8zKw9Lm2Xp7", "password=${PREFIX}Qv4Tr8zKw9Lm2Xp7Hs",
])
def test_key_material_after_the_label_and_a_scheme_before_a_secret_are_redacted(text: str) -> None:
    assert "[REDACTED:" in _scrub(text)


@pytest.mark.parametrize(("line", "rest"), [
    (f"x token = '{_RANDOM[:9]}'{_RANDOM[9:]}", _RANDOM[9:]),  # a quote inside a quoted value
    (f"simplynoted token = 'Ab3#dE9>Qw,xY7'{_RANDOM}&Lm9pQ'", _RANDOM),
    ("value=ghp_" + "A1b2" * 9 + "!" + _RANDOM + " ok", _RANDOM),  # a vendor token glued on by a mark
])
def test_a_value_goes_on_past_a_glued_quote_or_mark(line: str, rest: str) -> None:
    out = _scrub(line)
    assert "[REDACTED:" in out and all(rest[i:i + 4] not in out for i in range(len(rest) - 3))


@pytest.mark.parametrize("line", ["x token = '[REDACTED:token#1]' next", "x token = '[REDACTED:token#1]', y",
                                  "[REDACTED:github_token#1]! done"])
def test_a_closing_quote_or_mark_before_a_blank_or_a_comma_ends_the_value(line: str) -> None:
    assert _scrub(line) == line


@pytest.mark.parametrize("line", [
    f"password: ${{DB_PASSWORD:-{_RANDOM}}}", f"x password=${{PW:-{_RANDOM}}} y=1", f"export PW=${{PW:={_RANDOM}}}",
    f'password: "${{DB_PASSWORD:-{_RANDOM}}}"',
])
def test_a_variable_with_its_default_written_out_is_redacted_whole(line: str) -> None:
    out = _scrub(line)
    assert "[REDACTED:password#1]" in out and _RANDOM[:6] not in out and "DB_PASSWORD:-" not in out


@pytest.mark.parametrize("line", [
    "password: ${DB_PASSWORD:-}", "x password=${PW:-} y=1", "password: ${DB_PASSWORD:-$FALLBACK}",
    "export PW=${PW:=xxxxxxxx}", "password: ${DB_PASSWORD:?set DB_PASSWORD}", "x ${TOKEN:-} y",
])
def test_a_variable_with_no_default_or_a_placeholder_default_is_kept(line: str) -> None:
    assert _scrub(line) == line


@pytest.mark.parametrize(("line", "rule"), [
    (f"sumoKey1 = {_RANDOM}", "key"), (f"salesforce_key2: {_RANDOM}", "key"), ("db_pw2=hunter2x", "password"),
    (f"API_TOKEN_3={_RANDOM}", "token"),
])
def test_a_numbered_secret_key_is_the_same_key(line: str, rule: str) -> None:
    assert _scrub(line) == line.split(_RANDOM)[0].split("hunter2x")[0] + f"[REDACTED:{rule}#1]"


@pytest.mark.parametrize("line", ["port2=8080", "md5=abc", "key1=value", "retries3=5"])
def test_a_numbered_setting_is_still_a_setting(line: str) -> None:
    assert _scrub(line) == line
