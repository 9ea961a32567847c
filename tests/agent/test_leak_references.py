"""The leak scan (agent/leakkeys.py) on the classes an independent corpus found (bench/README-redaction.md, session
16): references and documented examples the scrubber keeps are not flagged, their look-alike secrets are."""

from __future__ import annotations

import pytest

from medic.agent.redact import scan_text

_RANDOM = "Qv4Tr8zKw9Lm2Xp7Hs5N"  # a made-up secret


@pytest.mark.parametrize("line", [
    "Password: \u2022\u2022\u2022\u2022\u2022\u2022\u2022",
    "password=settings.SMTP_PASSWORD", "api_key: conf.smtpApiKey,", "password = tf_random_password.mail.result",
    "password = :new_smtp_password", 'api_key=os.environ["SMTP_API_KEY"]', "token: process.env.SMTP_TOKEN",
    '{"apiKey":"{env:SMTP_API_KEY}"}', "api_key: os.environ/SMTP_API_KEY",
    "secret: projects/acme-ops/secrets/smtp-pass/versions/2",
    "password: @Microsoft.KeyVault(SecretUri=https://ops-kv.vault.azure.net/secrets/smtp-pass/)",
])
def test_a_reference_or_documented_example_is_not_flagged(line: str) -> None:
    # (AWS's example secret key is not here: leakruns.py, the lead's, still takes it for a random run)
    assert scan_text(line + "\n", "/etc/app/config.yaml") == []


@pytest.mark.parametrize("line", [
    'aws_secret_access_key = "bQ7rT/2xLm9Kp4Wz8Nv3Yc6Hd1Fg5JEXAMPLEKEZ"', "Password: ******x",
    f"password=conf.{_RANDOM}", f"secret=vault:{_RANDOM}", "VAULT_TOKEN = \"s.QvTrzKwLmXpHsNaBcDeFgHiJ\"",
    "credentials=ru.tGQvTrzK7", "$password = \"x1.yQvTrz7K\"",  # dotted like code, but random: values
])
def test_a_secret_shaped_like_one_is_flagged(line: str) -> None:
    assert scan_text(line + "\n", "/etc/app/config.yaml") != []


@pytest.mark.parametrize("token", [
    "Nz" + "Zk3_qT9-xW2mL7pR4nV8cY1" + "." + "Zk3_qT" + "." + "Zk3_qT9-xW2mL7pR4nV8cY1hJ6d",  # Discord, an id from 7...
    "ATAT" + "Zk3qT9xW2mL7pR4nV8cY1hJ6dF0gB5" * 4,  # Atlassian API token after ATAT
    "Zk3qT9xW2mL7pR4nV8cY1hJ6dF0gB5" * 2 + "Qx7kZk3qT9xW2mL7" + "AZDO" + "Qx7k",  # Azure DevOps PAT, AZDO at 76
])
def test_vendor_formats_an_independent_corpus_had_are_flagged(token: str) -> None:
    assert any(hit.kind != "random" for hit in scan_text(f"note {token} end\n", "/var/log/app/app.log"))
