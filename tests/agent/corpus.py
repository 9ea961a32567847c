"""Planted secrets in many contexts, and look-alikes that must survive scrubbing (loaded by conftest.py).

Every secret is generated from a fixed seed: the tests are repeatable and no real credential is in the repo.
"""
# ruff: noqa: E501 - one planted sample per line reads better than wrapped string literals

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

_rnd = random.Random(20261125)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rnd.choice(alphabet) for _ in range(n))


def pem(label: str, lines: int = 4) -> tuple[str, str]:
    body = "\n".join(rand(64, B64) for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----", body.splitlines()[1]


@dataclass(frozen=True)
class Planted:
    kind: str
    context: str
    text: str
    secrets: tuple[str, ...]
    fmt: str = ""  # "yaml" / "json": the scrubbed text must still parse
    path: str = ""
    scanner: bool = True  # the independent leak scanner is expected to catch the raw text

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.context}"


PW = "Tr0ub4dor&3x" + rand(6)
PW2 = "s3cr3t-" + rand(8)
AWS_ID = "AKIA" + rand(16, string.ascii_uppercase + string.digits)
AWS_SECRET = rand(40, ALNUM)
RSA, RSA_LINE = pem("RSA PRIVATE KEY")
OPENSSH, OPENSSH_LINE = pem("OPENSSH PRIVATE KEY")
EC, EC_LINE = pem("EC PRIVATE KEY", 3)
PKCS8, PKCS8_LINE = pem("PRIVATE KEY")
PGP, PGP_LINE = pem("PGP PRIVATE KEY BLOCK")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.urlsafe_b64encode(
    json.dumps({"sub": rand(8), "name": "x", "iat": 1700000000}).encode()).decode().rstrip("=") + "." + rand(43))
GHP = "ghp_" + rand(36)
GH_PAT = "github_pat_" + rand(22) + "_" + rand(59)
GLPAT = "glpat-" + rand(20)
XOXB = "xoxb-" + rand(12, string.digits) + "-" + rand(13, string.digits) + "-" + rand(24)
SLACK_HOOK = f"T{rand(8, string.ascii_uppercase)}/B{rand(8, string.ascii_uppercase)}/{rand(24)}"
STRIPE = "sk_live_" + rand(24)
SENDGRID = "SG." + rand(22) + "." + rand(43)
NPM = "npm_" + rand(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + rand(60)
GCP_API = "AIza" + rand(35)
GCP_SECRET = "GOCSPX-" + rand(28)
AZ_KEY = rand(86, B64) + "=="
AZ_SIG = rand(43, B64).replace("/", "%2F") + "%3D"
OPENAI = "sk-proj-" + rand(48)
VAULT = "hvs." + rand(24)
DO_TOKEN = "dop_v1_" + rand(64, "0123456789abcdef")
HF = "hf_" + rand(34)
TELEGRAM = rand(9, string.digits) + ":AA" + rand(33)
AGE = "AGE-SECRET-KEY-1" + rand(58, string.ascii_uppercase + string.digits)
BEARER = rand(32) + "." + rand(16)
APR1 = "$apr1$" + rand(8) + "$" + rand(22)
SHA512CRYPT = "$6$" + rand(16) + "$" + rand(86, ALNUM + "./")
VAULT_HEX = rand(80, "0123456789abcdef")
BASIC = base64.b64encode(f"admin:{PW}".encode()).decode()

CORPUS: list[Planted] = [
    Planted("password", "ini", f"[database]\nhost = db01\nuser = app\npassword = {PW}\n", (PW,)),
    Planted("password", "yaml", f"db:\n  host: db01\n  password: {PW}\n  port: 5432\n", (PW,), "yaml"),
    Planted("password", "yaml-quoted", f"db:\n  password: \"{PW}\"\n  token: '{PW2}'\n", (PW, PW2), "yaml"),
    Planted("password", "json", json.dumps({"db": {"user": "app", "password": PW, "pin": 1}}, indent=2), (PW,),
            "json"),
    Planted("api_key", "json-number", '{"service": {"api_key": 73925810462, "name": "x"}}', ("73925810462",),
            "json", scanner=False),
    Planted("password", "json-minified-log", '{"level":"info","msg":"login","password":"' + PW + '"}', (PW,),
            "json"),
    Planted("password", "env-file", f"APP_ENV=prod\nDB_PASSWORD={PW}\nexport API_TOKEN='{PW2}'\n", (PW, PW2)),
    Planted("password", "properties", f"spring.datasource.url=jdbc:x\nspring.datasource.password={PW}\n", (PW,)),
    Planted("password", "toml", f'[server]\nname = "web"\npassword = "{PW}"\n', (PW,)),
    Planted("password", "xml-attribute-pair", f'<appSettings>\n  <add key="DbPassword" value="{PW}" />\n'
            "</appSettings>", (PW,)),
    Planted("password", "xml-element", f"<datasource><user>app</user><password>{PW}</password></datasource>",
            (PW,)),
    Planted("connection_string", "xml-ado", f'<add name="Main" connectionString="Server=db;User Id=sa;'
            f'Password={PW};" />', (PW,)),
    Planted("password", "ado-net", f"Data Source=db;Initial Catalog=app;User ID=sa;Pwd={PW} x;Encrypt=yes;",
            (PW,)),
    Planted("password", "libpq-dsn", f"host=db01 port=5432 user=app password={PW} dbname=app", (PW,)),
    Planted("password", "cli-long-option", f"backup-tool --host db --password {PW} --verbose", (PW,)),
    Planted("api_key", "cli-equals", f"deploy --api-key={PW2} --region eu", (PW2,)),
    Planted("password", "mysql-p", f"mysqldump -u root -p{PW} --all-databases", (PW,), scanner=False),
    Planted("password", "sshpass", f"sshpass -p {PW} ssh admin@db01", (PW,), scanner=False),
    Planted("password", "curl-user", f"curl -sS -u admin:{PW} https://api.example.com/v1", (PW,), scanner=False),
    Planted("password", "docker-run-env", f"docker run -e POSTGRES_PASSWORD={PW} -d postgres:16", (PW,)),
    Planted("password", "compose-list", f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={PW}\n",
            (PW,), "yaml"),
    Planted("password", "k8s-env-pair", f"env:\n  - name: DB_PASSWORD\n    value: {PW}\n  - name: MODE\n"
            "    value: prod\n", (PW,), "yaml", scanner=False),
    Planted("password", "systemd-environment", f'[Service]\nEnvironment="DB_PASSWORD={PW}"\n', (PW,)),
    Planted("password", "powershell", f'$env:API_KEY = "{PW}"', (PW,)),
    Planted("password", "windows-set", f"set DB_PASS={PW}", (PW,), scanner=False),
    Planted("password", "python-repr", f"config loaded: {{'user': 'app', 'password': '{PW}'}}", (PW,)),
    Planted("password", "log-inline", f"2026-11-25 10:00:01 auth: retry user=bob password={PW} host=db01", (PW,)),
    Planted("password", "fstab-cifs", f"//nas/share /mnt cifs username=bob,password={PW},uid=1000 0 0", (PW,)),
    Planted("password", "netrc", f"machine api.example.com login bob password {PW}\n", (PW,), scanner=False),
    Planted("password", "redis-conf", f"bind 127.0.0.1\nrequirepass {PW}\n", (PW,), scanner=False),
    Planted("password", "ldap-bindpw", f"uri ldap://ldap\nbindpw {PW}\n", (PW,), scanner=False),
    Planted("password", "pgpass", f"db01:5432:app:app:{PW}\n", (PW,), path="/home/x/.pgpass", scanner=False),
    Planted("password", "yaml-block-scalar", f"db:\n  password: |\n    {PW}\n    {PW2}\n  port: 1\n", (PW, PW2),
            "yaml", scanner=False),
    Planted("password", "ansible-vault", f"db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {VAULT_HEX}\n"
            "port: 1\n", (VAULT_HEX,), "yaml", scanner=False),
    Planted("private_key", "pem-rsa", f"# key file\n{RSA}\n", (RSA_LINE,)),
    Planted("private_key", "pem-openssh", OPENSSH, (OPENSSH_LINE,)),
    Planted("private_key", "pem-ec-yaml-block", "tls:\n  key: |\n" + "\n".join("    " + ln for ln in EC.splitlines())
            + "\n  port: 443\n", (EC_LINE,), "yaml"),
    Planted("private_key", "pem-pgp", PGP, (PGP_LINE,)),
    Planted("private_key", "pem-truncated-log-tail", "\n".join(PKCS8.splitlines()[:3]), (PKCS8_LINE,)),
    Planted("private_key", "gcp-service-account-json", json.dumps(
        {"type": "service_account", "project_id": "demo", "private_key_id": rand(40, "0123456789abcdef"),
         "private_key": PKCS8 + "\n", "client_email": "svc@demo.iam.gserviceaccount.com"}, indent=2),
        (PKCS8_LINE, PKCS8_LINE.replace("/", "\\/")), "json"),
    Planted("private_key", "env-escaped-newlines", 'SSL_KEY="' + PKCS8.replace("\n", "\\n") + '"', (PKCS8_LINE,)),
    Planted("bearer", "http-log", f"GET /api/v1/items Authorization: Bearer {BEARER} 200", (BEARER,)),
    Planted("bearer", "curl-header", f"curl -H 'Authorization: Bearer {BEARER}' https://x", (BEARER,)),
    Planted("bearer", "nginx", f'proxy_set_header Authorization "Bearer {BEARER}";', (BEARER,)),
    Planted("basic", "http-header", f"Authorization: Basic {BASIC}\nAccept: */*", (BASIC,)),
    Planted("basic", "log-inline", f"upstream request hdr=Basic {BASIC} status=401", (BASIC,)),
    Planted("url", "postgres", f"DATABASE_URL=postgres://app:{PW}@db01.internal:5432/app", (PW,)),
    Planted("url", "mysql", f"connecting to mysql://root:{PW}@10.0.0.5/app ...", (PW,)),
    Planted("url", "mongodb-srv", f"uri: mongodb+srv://admin:{PW}@cluster0.x.mongodb.net/?retryWrites=true", (PW,),
            "yaml"),
    Planted("url", "redis", f"REDIS_URL=redis://:{PW}@cache:6379/0", (PW,)),
    Planted("url", "amqp-with-at", f"broker amqp://guest:p@ss{PW}@rabbit:5672// connected", (PW, "p@ss")),
    Planted("url", "git-config", f'[remote "origin"]\n\turl = https://bob:{GHP}@github.com/org/repo.git\n',
            (GHP,)),
    Planted("aws", "credentials-file", f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = "
            f"{AWS_SECRET}\n", (AWS_ID, AWS_SECRET)),
    Planted("aws", "log-context-free", f"uploading with {AWS_ID} {AWS_SECRET} to s3://bucket", (AWS_ID, AWS_SECRET)),
    Planted("gcp", "api-key", f"maps.key({GCP_API})", (GCP_API,)),
    Planted("gcp", "oauth-client-secret", f'{{"installed": {{"client_secret": "{GCP_SECRET}"}}}}', (GCP_SECRET,),
            "json"),
    Planted("azure", "storage-connection-string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
            f"{AZ_KEY};EndpointSuffix=core.windows.net", (AZ_KEY,)),
    Planted("azure", "sas-url", f"https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig={AZ_SIG}&se=x",
            (AZ_SIG,)),
    Planted("github", "classic-token", f"GITHUB_TOKEN={GHP}", (GHP,)),
    Planted("github", "fine-grained", f"using token {GH_PAT} for org", (GH_PAT,)),
    Planted("gitlab", "pat", f"gitlab-runner register --token {GLPAT}", (GLPAT,)),
    Planted("slack", "bot-token", f"slack: posting with {XOXB}", (XOXB,)),
    Planted("slack", "webhook", f"webhook https://hooks.slack.com/services/{SLACK_HOOK}", (SLACK_HOOK,),
            scanner=False),
    Planted("stripe", "secret-key", f"stripe.api_key = {STRIPE!r}", (STRIPE,)),
    Planted("sendgrid", "key", f"SENDGRID={SENDGRID}", (SENDGRID,)),
    Planted("npm", "npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n", (NPM,)),
    Planted("pypi", "pypirc", f"[pypi]\nusername = __token__\npassword = {PYPI}\n", (PYPI,)),
    Planted("openai", "env", f"OPENAI={OPENAI}", (OPENAI,)),
    Planted("vault", "token", f"vault login {VAULT}", (VAULT,)),
    Planted("digitalocean", "token", f"doctl auth init -t {DO_TOKEN}", (DO_TOKEN,)),
    Planted("huggingface", "token", f"hf: {HF}", (HF,)),
    Planted("telegram", "bot-token", f"https://api.telegram.org/bot{TELEGRAM}/sendMessage", (TELEGRAM,),
            scanner=False),
    Planted("age", "secret-key", f"# created: 2026-01-01\n{AGE}\n", (AGE,)),
    Planted("jwt", "cookie-header", f"Cookie: theme=dark; jwt={JWT}", (JWT,)),
    Planted("jwt", "log", f"verified id_token {JWT} for client", (JWT,)),
    Planted("session", "set-cookie", f"< Set-Cookie: sessionid={PW2}; Path=/; HttpOnly", (PW2,)),
    Planted("token", "query-string", f"GET /cb?code=1&access_token={PW2}&state=x HTTP/1.1", (PW2,)),
    Planted("htpasswd", "apr1", f"admin:{APR1}\n", (APR1.split("$")[-1],)),
    Planted("shadow", "sha512crypt", f"root:{SHA512CRYPT}:19700:0:99999:7:::\n", (SHA512CRYPT.split("$")[-1],)),
    Planted("htpasswd", "plain-by-path", f"bob:{PW}\n", (PW,), path="/etc/nginx/.htpasswd", scanner=False),
    Planted("password", "wpa-supplicant", f'network={{\n  ssid="home"\n  psk="{PW}"\n}}', (PW,), scanner=False),
]

LOOKALIKES: list[tuple[str, str]] = [
    ("sha256", "sha256sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  file.tar"),
    ("sha1-upper", "SHA1 Thumbprint=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"),
    ("md5", "md5: 5d41402abc4b2a76b9719d911017c592"),
    ("uuid", "boot_id 123e4567-e89b-12d3-a456-426614174000 mounted UUID=0a1b2c3d-1111-2222-3333-444455556666"),
    ("container-id", "container 4f9d8c0e3b1a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e running (4f9d8c0e3b1a)"),
    ("git-commit", "HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b fix parser (3f78685)"),
    ("image-digest", "image nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
    ("versions", "kernel 5.15.0-91-generic, python 3.11.2, openssl 3.0.11, v2.41.0, build 10.0.19045.3693"),
    ("base64-short", "greeting=aGVsbG8gd29ybGQ= label: cGFzc3dvcmQ="),
    ("prose", "password policy updated; Failed password for root from 10.0.0.1 port 22 ssh2"),
    ("sshd", "PasswordAuthentication no\nPermitRootLogin prohibit-password"),
    ("meta-keys", "password_min_length: 12\ntoken_ttl = 3600\nsecret_name: db-creds\nauth_method: ldap"),
    ("test-summary", "Pass: 5 Fail: 0 Skip: 1"),
    ("pam-log", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.1.2.3"),
    ("bearer-prose", "Bearer authentication failed; Basic settings saved"),
    ("url-no-password", "https://bob@example.com/path and https://example.com:8443/x?debug=true"),
    ("ssh-public-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd1Y2tlZ1Zhcm1Vb3VoQ2FuQmVBbnl0aGluZzEyMw bob@laptop"),
    ("certificate", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe5Xj8QbYkq3bT0Zr7wVhW1kJm4IwCgYIKoZIzj0EAwIw\n"
     "-----END CERTIFICATE-----"),
    ("npm-integrity", "integrity sha512-Q2VydGlmaWNhdGVPcmlnaW5hbEludGVncml0eVN0cmluZ0hlcmVGb3JUZXN0aW5nMTIz"),
    ("paths", "/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1 /home/bob/Projects/Medic2026/Build/Output"),
    ("empty-and-bools", "password=\nsecret: null\ntoken: true\napi_key: ''"),
    ("shell-vars", "awk '{print $1$2}' && echo $HOME"),
    ("pod-names", "coredns-5d78c9869d-x2x9k kube-proxy-7fmbq nginx-deployment-66b6c48dd5-4jw2q"),
    ("timestamps-macs", "10:30:45 aa:bb:cc:dd:ee:ff 2026-11-25T10:00:00Z"),
]
