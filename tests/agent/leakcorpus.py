"""A seeded set of planted secrets and look-alikes for measuring the leak scan alone (scrubber off).

Written from the vendors' documented formats (prefix, length, alphabet) and the key/value forms seen in
configs, source code, logs and command lines; it does not import the scanner's tables, so a format the
scanner forgets shows up as a miss. ``python tests/agent/leakcorpus.py DIR`` writes it as files.
"""
# ruff: noqa: E501 - one sample per line reads better than wrapped literals

from __future__ import annotations

import base64
import json
import random
import string
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20261205
LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


@dataclass(frozen=True)
class Sample:
    kind: str
    context: str
    text: str
    secret: str


def _r(rnd: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(n))


def _vendor_tokens(rnd: random.Random) -> dict[str, str]:
    r = lambda n, a=ALNUM: _r(rnd, n, a)  # noqa: E731 - short local helper
    return {
        "github-pat": "ghp_" + r(36), "github-oauth": "gho_" + r(36), "github-app": "ghs_" + r(36),
        "github-user-to-server": "ghu_" + r(36), "github-refresh": "ghr_" + r(36),
        "github-fine-grained": "github_pat_" + r(22) + "_" + r(59), "gitlab-pat": "glpat-" + r(20, URLSAFE),
        "gitlab-deploy": "gldt-" + r(20), "gitlab-runner": "glrt-" + r(20), "gitlab-trigger": "glptt-" + r(40, HEX),
        "gitlab-runner-registration": "GR1348941" + r(20), "slack-bot": "xoxb-" + r(11, DIGITS) + "-" + r(12, DIGITS) + "-" + r(24),
        "slack-user": "xoxp-" + r(11, DIGITS) + "-" + r(11, DIGITS) + "-" + r(12, DIGITS) + "-" + r(32, HEX),
        "slack-app": "xapp-1-A" + r(10, UPPER + DIGITS) + "-" + r(13, DIGITS) + "-" + r(64, HEX),
        "slack-webhook": "https://hooks.slack.com/services/T" + r(8, UPPER) + "/B" + r(8, UPPER) + "/" + r(24),
        "discord-webhook": "https://discord.com/api/webhooks/" + r(18, DIGITS) + "/" + r(68, URLSAFE),
        "stripe-live-secret": "sk_live_" + r(24), "stripe-test-secret": "sk_test_" + r(99),
        "stripe-restricted": "rk_live_" + r(24), "stripe-webhook": "whsec_" + r(32),
        "sendgrid": "SG." + r(22, URLSAFE) + "." + r(43, URLSAFE), "sendinblue": "xkeysib-" + r(64, HEX) + "-" + r(16),
        "mailgun": "key-" + r(32, HEX), "npm": "npm_" + r(36), "pypi": "pypi-AgEIcHlwaS5vcmc" + r(70, URLSAFE),
        "rubygems": "rubygems_" + r(48, HEX), "aws-access-key-id": "AKIA" + r(16, UPPER + "234567"),
        "aws-session-key-id": "ASIA" + r(16, UPPER + "234567"), "gcp-api-key": "AIza" + r(35, URLSAFE),
        "gcp-oauth-secret": "GOCSPX-" + r(28, URLSAFE), "google-oauth-access": "ya29." + r(120, URLSAFE),
        "vault-service": "hvs." + r(24), "vault-batch": "hvb." + r(138, URLSAFE),
        "digitalocean-pat": "dop_v1_" + r(64, HEX), "digitalocean-oauth": "doo_v1_" + r(64, HEX),
        "docker-hub-pat": "dckr_pat_" + r(27, URLSAFE), "shopify-access": "shpat_" + r(32, HEX),
        "shopify-shared-secret": "shpss_" + r(32, HEX), "anthropic": "sk-ant-api03-" + r(93, URLSAFE) + "AA",
        "openai-project": "sk-proj-" + r(74, URLSAFE) + "T3BlbkFJ" + r(74, URLSAFE),
        "openai-legacy": "sk-" + r(20) + "T3BlbkFJ" + r(20), "openrouter": "sk-or-v1-" + r(64, HEX),
        "huggingface": "hf_" + r(34, LOWER + UPPER), "groq": "gsk_" + r(52), "replicate": "r8_" + r(37),
        "xai": "xai-" + r(80), "perplexity": "pplx-" + r(48), "age-secret-key": "AGE-SECRET-KEY-1" + r(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
        "atlassian": "ATATT3" + r(186, URLSAFE + "="), "bitbucket-app-password": "ATBB" + r(32),
        "alibaba-access-key": "LTAI" + r(20), "artifactory": "AKCp" + r(69), "databricks": "dapi" + r(32, HEX),
        "dynatrace": "dt0c01." + r(24, UPPER + DIGITS) + "." + r(64, UPPER + DIGITS), "easypost": "EZAK" + r(54),
        "flutterwave": "FLWSECK_TEST-" + r(32, HEX) + "-X", "fly-io": "fo1_" + r(43, URLSAFE),
        "frameio": "fio-u-" + r(64, URLSAFE), "grafana-cloud": "glc_" + r(60, ALNUM + "+/"),
        "grafana-service-account": "glsa_" + r(32) + "_" + r(8, HEX), "harness": "pat." + r(22, URLSAFE) + "." + r(24) + "." + r(20),
        "heroku-v2": "HRKU-AA" + r(58, URLSAFE), "infracost": "ico-" + r(32), "linear": "lin_api_" + r(40),
        "notion": "ntn_" + r(11, DIGITS) + r(35), "planetscale": "pscale_tkn_" + r(43, URLSAFE),
        "postman": "PMAK-" + r(24, HEX) + "-" + r(34, HEX), "prefect": "pnu_" + r(36), "pulumi": "pul-" + r(40, HEX),
        "readme": "rdme_" + r(70, LOWER + DIGITS), "scalingo": "tk-us-" + r(48, URLSAFE), "sentry-user": "sntryu_" + r(64, HEX),
        "settlemint": "sm_pat_" + r(16), "shippo": "shippo_live_" + r(40, HEX), "square-access": "sq0atp-" + r(22, URLSAFE),
        "square-oauth-secret": "sq0csp-" + r(43, URLSAFE), "doppler": "dp.pt." + r(43), "duffel": "duffel_live_" + r(43, URLSAFE),
        "openshift": "sha256~" + r(43, URLSAFE), "twilio-api-key": "SK" + r(32, HEX), "new-relic-user": "NRAK-" + r(27, UPPER + DIGITS),
        "octopus-deploy": "API-" + r(26, UPPER + DIGITS), "yandex-api": "AQVN" + r(36, URLSAFE), "supabase": "sbp_" + r(40, HEX),
        "netlify": "nfp_" + r(36), "render": "rnd_" + r(32), "tailscale": "tskey-auth-" + r(12) + "-" + r(30),
        "neon": "napi_" + r(64, LOWER + DIGITS), "buildkite": "bkua_" + r(40, HEX), "sonarqube": "squ_" + r(40, HEX),
        "contentful": "CFPAT-" + r(43, URLSAFE), "figma": "figd_" + r(40, URLSAFE), "mapbox-secret": "sk.eyJ1Ijoi" + r(60, URLSAFE) + "." + r(22, URLSAFE),
        "azure-ad-client-secret": r(3) + "8Q~" + r(34, ALNUM + "_~.-"), "telegram-bot": r(10, DIGITS) + ":AA" + r(33, URLSAFE),
        "terraform-cloud": r(14) + ".atlasv1." + r(67, URLSAFE), "langsmith": "lsv2_pt_" + r(32, HEX) + "_" + r(10, HEX),
        "pinecone": "pcsk_" + r(60, ALNUM + "_"), "circleci": "CCIPAT_" + r(22) + "_" + r(40, HEX),
        "1password-secret-key": "A3-" + r(6, UPPER + DIGITS) + "-" + r(11, UPPER + DIGITS) + "-" + "-".join(r(5, UPPER + DIGITS) for _ in range(3)),
    }


def _vendor_samples(rnd: random.Random) -> list[Sample]:
    out = []
    for kind, token in _vendor_tokens(rnd).items():
        out.append(Sample(kind, "log-line", f"2026-12-05T10:00:0{rnd.randint(0, 9)}Z worker[311]: request used {token} ok", token))
        out.append(Sample(kind, "alone-on-line", f"# pasted below\n{token}\n", token))
        out.append(Sample(kind, "json-value", json.dumps({"service": "x", "value": token}), token))
    return out


_PASSWORD_FORMS = (  # (context, template): {v} is the secret
    ("ini", "[db]\nhost = db01\npassword = {v}\n"), ("yaml", "db:\n  passwd: {v}\n  port: 5432\n"),
    ("yaml-quoted", "db:\n  password: \"{v}\"\n"), ("json", '{{"user": "app", "password": "{v}"}}'),
    ("env", "DB_PASSWORD={v}\n"), ("env-export", "export MYSQL_ROOT_PASSWORD='{v}'\n"),
    ("properties", "spring.datasource.password={v}\n"), ("colon-space", "Password: {v}\n"), ("pw-colon", "pw: {v}\n"),
    ("pwd-colon", "pwd:{v}\n"), ("id-pw-pair", "ID:master,PW:{v}\n"), ("xml-element", "<password>{v}</password>"),
    ("xml-attr-pair", '<add key="DbPassword" value="{v}" />'), ("php-define", "define('DB_PASSWORD', '{v}');"),
    ("php-array", "$cfg = ['password' => '{v}'];"), ("ruby-hash", "connect(password: '{v}')"),
    ("python-kwarg", "psycopg2.connect(host='db', password='{v}')"), ("curl-setopt", 'curl_setopt($ch, CURLOPT_PASSWORD, "{v}");'),
    ("java-setter", 'ds.setPassword("{v}");'), ("go-struct", 'cfg := Config{{Password: "{v}"}}'),
    ("cli-long", "backup --user app --password {v} --verbose"), ("cli-equals", "tool --db-password={v} run"),
    ("jvm-property", "java -Djavax.net.ssl.keyStorePassword={v} -jar app.jar"), ("mysql-p", "mysql -u root -p{v} app"),
    ("sshpass", "sshpass -p {v} ssh admin@db01"), ("redis-cli", "redis-cli -h cache -a {v} ping"),
    ("curl-user", "curl -u admin:{v} https://api.example.com"), ("url", "postgres://app:{v}@db01:5432/app"),
    ("netrc", "machine api.example.com login bob password {v}\n"), ("redis-conf", "requirepass {v}\n"),
    ("ldap-bindpw", "bindpw {v}\n"), ("log-inline", "2026-12-05 auth retry user=bob password={v} host=db01"),
    ("powershell", '$env:DB_PASS = "{v}"'), ("docker-env", "docker run -e POSTGRES_PASSWORD={v} postgres"),
    ("connection-string", "Server=db;User Id=sa;Password={v};Encrypt=yes;"), ("passphrase", "ssl_passphrase = {v}\n"),
    ("activation-key", "Activation key : {v}\n"), ("license-key", "LICENSE_KEY={v}\n"), ("wifi-psk", 'psk="{v}"'),
    ("client-secret", '{{"client_secret": "{v}"}}'), ("api-key-header", "X-API-Key: {v}"), ("auth-token", "auth_token={v}"),
)


def _password_samples(rnd: random.Random) -> list[Sample]:
    out = []
    for i, (context, template) in enumerate(_PASSWORD_FORMS):
        if context in ("activation-key", "license-key"):
            value = "-".join(_r(rnd, 5, UPPER + DIGITS) for _ in range(5))
        elif context in ("client-secret", "api-key-header", "auth-token"):
            value = _r(rnd, 32)
        else:
            value = _r(rnd, 3, UPPER) + _r(rnd, 4, LOWER) + _r(rnd, 3, DIGITS) + rnd.choice("!#%*+") + _r(rnd, 2)
        out.append(Sample(f"password-{context}", context, template.format(v=value), value))
        if i % 3 == 0:  # digits-only and long passphrase variants
            digits = _r(rnd, 8, DIGITS)
            out.append(Sample(f"password-{context}-digits", context, template.format(v=digits), digits))
    return out


def _structured_samples(rnd: random.Random) -> list[Sample]:
    body = "\n".join(_r(rnd, 64, B64) for _ in range(6))
    out = [Sample(f"private-key-{label.split()[0].lower()}", "pem", f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n", body.split()[1])
           for label in ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
                         "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK")]
    pem = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    out.append(Sample("private-key-escaped", "json-escaped", json.dumps({"private_key": pem}), body.split()[1]))
    encoded = base64.b64encode(pem.encode()).decode()
    out.append(Sample("private-key-kubeconfig", "base64", f"    client-key-data: {encoded}\n", encoded))
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": _r(rnd, 10), "exp": 1999999999}).encode()).decode().rstrip("=")
    jwt = f"{header}.{payload}.{_r(rnd, 86, URLSAFE)}"
    basic = base64.b64encode(f"admin:{_r(rnd, 12)}".encode()).decode()
    bearer = _r(rnd, 40, URLSAFE)
    crypt = {"sha512crypt": f"$6${_r(rnd, 16)}${_r(rnd, 86, ALNUM + './')}",
             "bcrypt": f"$2y$10${_r(rnd, 53, ALNUM + './')}", "apr1": f"$apr1${_r(rnd, 8)}${_r(rnd, 22, ALNUM + './')}",
             "yescrypt": f"$y$j9T${_r(rnd, 22, ALNUM + './')}${_r(rnd, 43, ALNUM + './')}"}
    amqp, mongo, azure, aws, standalone = _r(rnd, 10), _r(rnd, 14), _r(rnd, 86, B64) + "==", _r(rnd, 40, B64), _r(rnd, 40)
    out += [
        Sample("jwt", "log", f"verified token {jwt} for client", jwt), Sample("jwt", "cookie", f"Cookie: session={jwt}", jwt),
        Sample("basic-auth", "header", f"Authorization: Basic {basic}", basic), Sample("bearer", "header", f"Authorization: Bearer {bearer}", bearer),
        Sample("bearer", "curl", f"curl -H 'Authorization: Bearer {bearer}' https://api", bearer),
        Sample("sha512crypt", "shadow", f"root:{crypt['sha512crypt']}:19700:0:99999:7:::", crypt["sha512crypt"]),
        Sample("bcrypt", "htpasswd", f"admin:{crypt['bcrypt']}", crypt["bcrypt"]),
        Sample("apr1", "htpasswd", f"web:{crypt['apr1']}", crypt["apr1"]),
        Sample("yescrypt", "shadow", f"bob:{crypt['yescrypt']}:19700::::::", crypt["yescrypt"]),
        Sample("url-password", "amqp", f"broker amqp://guest:{amqp}@rabbit:5672// up", amqp),
        Sample("url-password", "mongodb", f"uri: mongodb+srv://admin:{mongo}@cluster0.example.net/db", mongo),
        Sample("azure-storage-key", "connection-string", f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={azure};", azure),
        Sample("aws-secret", "credentials", f"aws_secret_access_key = {aws}", aws),
        Sample("random-token", "standalone", f"token issued: {standalone} (expires in 1h)", standalone),
    ]
    return out


_ARGV_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (  # a process probe's cmdline as a bundle's JSON holds it
    ("mysql-last", ("mysql", "-uroot", "-p{v}")), ("mysql", ("/usr/bin/mysqldump", "-p{v}", "app")),
    ("mariadb-last", ("mariadb", "-h", "db01", "-p{v}")), ("sshpass", ("sshpass", "-p", "{v}", "ssh", "db01")),
    ("sshpass-joined", ("sshpass", "-p{v}", "ssh", "db01")), ("redis-cli", ("redis-cli", "-a", "{v}", "ping")),
)


def _argv_samples(rnd: random.Random) -> list[Sample]:
    out = []
    for client, argv in _ARGV_FORMS:
        value = _r(rnd, 3, UPPER) + _r(rnd, 4, LOWER) + _r(rnd, 3, DIGITS) + rnd.choice("!#%*+") + _r(rnd, 2)
        cmdline = [arg.format(v=value) for arg in argv]
        out.append(Sample(f"password-argv-{client}", "json-argv", json.dumps({"pid": 4242, "cmdline": cmdline}), value))
    return out


def samples() -> list[Sample]:
    rnd = random.Random(SEED)  # the argv samples last: the others keep the secrets they had before them
    return _vendor_samples(rnd) + _password_samples(rnd) + _structured_samples(rnd) + _argv_samples(rnd)


LOOKALIKES: tuple[tuple[str, str], ...] = (
    ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  nginx.tar.gz"),
    ("dpkg-log", "2026-12-05 21:08:29 status half-installed libsecret-1-0:amd64 0.20.5-3"),
    ("nginx-fastcgi-pass", "\t#\tfastcgi_pass unix:/run/php/php7.4-fpm.sock;"),  # the upstream, nginx's default site
    ("nginx-uwsgi-pass", "        uwsgi_pass 127.0.0.1:3031;"),
    ("apt-term-log", "Selecting previously unselected package gir1.2-secret-1:arm64."),
    ("perl-method-call", "        $passwd = $context->digest();"),
    ("perl-env-lookup", "        password => $ENV{TWITTER_PASSWORD},"),
    ("perl-interpolated-hash", "my $mesg = $ldap->bind($opt{D}, password => \"$opt{w}\");"),
    ("perl-hash-variable", "$ldap->bind( $binddn, password => $bindpasswd, version => 3 );"),
    ("exim-spf-results", "    spf = pass:softfail:neutral:permerror"),
    ("mime-boundary", "Content-type: MULTIPART/MIXED; BOUNDARY=\"Boundary_(ID_V8Qg38zNd7FfillEy8fgog)\""),
    ("perl-prose-quotes", "print \"Keyfile: `$key_pem', pw: `$password'\\n\";"),
    ("git-commit", "commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main)"),
    ("uuid", "request_id=123e4567-e89b-12d3-a456-426614174000 took 12ms"),
    ("trace-id", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("xray-trace", "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
    ("container-id", "container 4f9d8c0e3b1a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e started"),
    ("docker-digest", "pulled nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
    ("ssh-fingerprint", "256 SHA256:N5WWmNHDZB3O89tgNxR9RBv6kn6ezl8rJ3flPwBXFRg root@vm (ED25519)"),
    ("ssh-public-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+BeqndKWetV8Hm3MCqP1plCcbTA71daHIpmCiQjEf+ root@vm"),
    ("kubeconfig-ca", "    certificate-authority-data: " + base64.b64encode(("-----BEGIN CERTIFICATE-----\n" + "MIIC" * 200 + "\n-----END CERTIFICATE-----\n").encode()).decode()),
    ("base64-png", "<img src=\"data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3).decode() + "\">"),
    ("base64-gif", "pixel R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="),
    ("base64-json", "state=" + base64.b64encode(json.dumps({"returnTo": "/dashboard/settings", "nonce": 4, "theme": "dark"}).encode()).decode()),
    ("npm-integrity", "integrity sha512-Q2VydGlmaWNhdGVPcmlnaW5hbEludGVncml0eVN0cmluZ0hlcmVGb3JUZXN0aW5nMTIz"),
    ("placeholders", "DB_PASSWORD=${DB_PASSWORD}\napi_key: <your-api-key>\ntoken = ****\npassword: changeme\nsecret: \"{{ vault_secret }}\""),
    ("env-reference", "PGPASSWORD=$PGPASS_FROM_VAULT\nexport TOKEN=$(cat /run/secrets/token)"),
    ("password-prose", "Failed password for invalid user admin from 10.0.0.1 port 22 ssh2\npassword authentication failed for user \"app\""),
    ("password-meta", "password_min_length: 12\ntoken_ttl = 3600\nsecret_name: db-creds\npassword_file: /etc/app/pw"),
    ("sshd-config", "PasswordAuthentication no\nPermitEmptyPasswords no"),
    ("pam-stack", "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt"),
    ("camelcase", "at org.springframework.security.authentication.ProviderManager.authenticate(ProviderManager.java:201)"),
    ("mangled", "#3 0x00007f in _ZN5boost6system14error_categoryD2Ev () from libboost.so"),
    ("certificate", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe5Xj8QbYkq3bT0Zr7wVhW1kJm4IwCgYIKoZIzj0EAwIw\nvouXsXgxT7PntgMTzlSdriVZzH81Xwj3QEUxeCp6\n-----END CERTIFICATE-----"),
    ("xml-signature", "<ds:SignatureValue>fDKK0so/zFcmmq2X+BaVFmS0t8KB7tyW53YN6n221OArzGCs4OyWsAjj/BUR</ds:SignatureValue>"),
    ("public-key-pem", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYZ3r9Vn2T3bQ4uKgK0dUuX1yZ8pVtYzR\n-----END PUBLIC KEY-----"),
    ("code-reference", "password = request.form.get('password');\nself.token = token;\nkey = cache_key(user)"),
    ("redacted", "password=[REDACTED:password] token: [REDACTED:token] Authorization: Bearer [REDACTED:bearer]"),
    ("masked", "password: ********\napi_key=xxxxxxxxxxxxxxxx"),
    ("versions", "openssl 3.0.11, kernel 6.1.0-28-amd64, libssl3 3.0.15-1~deb12u1, v2.41.0"),
    ("url-no-password", "GET https://bob@example.com/path?x=1 and https://example.com:8443/x"),
    ("aws-example", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
    ("mac-ip-times", "10:30:45 aa:bb:cc:dd:ee:ff 2026-11-25T10:00:00Z 192.168.1.10"),
    ("ports", "kpasswd\t\t464/tcp\nldaps\t\t636/tcp"),
    ("file-names", "Adding debian:QuoVadis_Root_CA_1_G3.pem\nAdding debian:Certigna_Root_CA.pem"),
)


def write(directory: Path) -> None:
    """The set as files (one per sample), for running other tools on it (bench/redaction_bench.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(samples()):
        (directory / f"{i:04d}-{s.kind}-{s.context}.txt").write_text(s.text + "\n")
    for name, text in LOOKALIKES:
        (directory / f"lookalike-{name}.txt").write_text(text + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
