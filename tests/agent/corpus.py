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
    Planted("config_password", "ini", f"[database]\nhost = db01\nuser = app\npassword = {PW}\n", (PW,)),
    Planted("config_password", "yaml", f"db:\n  host: db01\n  password: {PW}\n  port: 5432\n", (PW,), "yaml"),
    Planted("config_token", "yaml-quoted", f"db:\n  password: \"{PW}\"\n  token: '{PW2}'\n", (PW, PW2), "yaml"),
    Planted("config_password", "json", json.dumps({"db": {"user": "app", "password": PW, "pin": 1}}, indent=2), (PW,),
            "json"),
    Planted("numeric_api_key", "json-number", '{"service": {"api_key": 73925810462, "name": "x"}}', ("73925810462",),
            "json", scanner=False),
    Planted("structured_log_password", "json-minified-log", '{"level":"info","msg":"login","password":"' + PW + '"}', (PW,),
            "json"),
    Planted("env_file_secret", "env-file", f"APP_ENV=prod\nDB_PASSWORD={PW}\nexport API_TOKEN='{PW2}'\n", (PW, PW2)),
    Planted("java_properties_password", "properties", f"spring.datasource.url=jdbc:x\nspring.datasource.password={PW}\n", (PW,)),
    Planted("toml_password", "toml", f'[server]\nname = "web"\npassword = "{PW}"\n', (PW,)),
    Planted("app_config_password", "xml-attribute-pair", f'<appSettings>\n  <add key="DbPassword" value="{PW}" />\n'
            "</appSettings>", (PW,)),
    Planted("xml_element_password", "xml-element", f"<datasource><user>app</user><password>{PW}</password></datasource>",
            (PW,)),
    Planted("xml_connection_string", "xml-ado", f'<add name="Main" connectionString="Server=db;User Id=sa;'
            f'Password={PW};" />', (PW,)),
    Planted("ado_net_password", "ado-net", f"Data Source=db;Initial Catalog=app;User ID=sa;Pwd={PW} x;Encrypt=yes;",
            (PW,)),
    Planted("libpq_dsn_password", "libpq-dsn", f"host=db01 port=5432 user=app password={PW} dbname=app", (PW,)),
    Planted("cli_password_option", "cli-long-option", f"backup-tool --host db --password {PW} --verbose", (PW,)),
    Planted("cli_api_key", "cli-equals", f"deploy --api-key={PW2} --region eu", (PW2,)),
    Planted("mysql_password_flag", "mysql-p", f"mysqldump -u root -p{PW} --all-databases", (PW,), scanner=False),
    Planted("sshpass_password", "sshpass", f"sshpass -p {PW} ssh admin@db01", (PW,), scanner=False),
    Planted("curl_user_password", "curl-user", f"curl -sS -u admin:{PW} https://api.example.com/v1", (PW,), scanner=False),
    Planted("container_env_secret", "docker-run-env", f"docker run -e POSTGRES_PASSWORD={PW} -d postgres:16", (PW,)),
    Planted("compose_env_secret", "compose-list", f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={PW}\n",
            (PW,), "yaml"),
    Planted("k8s_env_secret", "k8s-env-pair", f"env:\n  - name: DB_PASSWORD\n    value: {PW}\n  - name: MODE\n"
            "    value: prod\n", (PW,), "yaml", scanner=False),
    Planted("systemd_env_secret", "systemd-environment", f'[Service]\nEnvironment="DB_PASSWORD={PW}"\n', (PW,)),
    Planted("powershell_env_secret", "powershell", f'$env:API_KEY = "{PW}"', (PW,)),
    Planted("windows_env_secret", "windows-set", f"set DB_PASS={PW}", (PW,), scanner=False),
    Planted("repr_password", "python-repr", f"config loaded: {{'user': 'app', 'password': '{PW}'}}", (PW,)),
    Planted("log_password", "log-inline", f"2026-11-25 10:00:01 auth: retry user=bob password={PW} host=db01", (PW,)),
    Planted("mount_credentials", "fstab-cifs", f"//nas/share /mnt cifs username=bob,password={PW},uid=1000 0 0", (PW,)),
    Planted("netrc_password", "netrc", f"machine api.example.com login bob password {PW}\n", (PW,), scanner=False),
    Planted("redis_requirepass", "redis-conf", f"bind 127.0.0.1\nrequirepass {PW}\n", (PW,), scanner=False),
    Planted("ldap_bindpw", "ldap-bindpw", f"uri ldap://ldap\nbindpw {PW}\n", (PW,), scanner=False),
    Planted("pgpass_password", "pgpass", f"db01:5432:app:app:{PW}\n", (PW,), path="/home/x/.pgpass", scanner=False),
    Planted("yaml_block_secret", "yaml-block-scalar", f"db:\n  password: |\n    {PW}\n    {PW2}\n  port: 1\n", (PW, PW2),
            "yaml", scanner=False),
    Planted("ansible_vault_blob", "ansible-vault", f"db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {VAULT_HEX}\n"
            "port: 1\n", (VAULT_HEX,), "yaml", scanner=False),
    Planted("rsa_private_key", "pem-rsa", f"# key file\n{RSA}\n", (RSA_LINE,)),
    Planted("openssh_private_key", "pem-openssh", OPENSSH, (OPENSSH_LINE,)),
    Planted("ec_private_key", "pem-ec-yaml-block", "tls:\n  key: |\n" + "\n".join("    " + ln for ln in EC.splitlines())
            + "\n  port: 443\n", (EC_LINE,), "yaml"),
    Planted("pgp_private_key", "pem-pgp", PGP, (PGP_LINE,)),
    Planted("pkcs8_private_key", "pem-truncated-log-tail", "\n".join(PKCS8.splitlines()[:3]), (PKCS8_LINE,)),
    Planted("gcp_service_account_key", "gcp-service-account-json", json.dumps(
        {"type": "service_account", "project_id": "demo", "private_key_id": rand(40, "0123456789abcdef"),
         "private_key": PKCS8 + "\n", "client_email": "svc@demo.iam.gserviceaccount.com"}, indent=2),
        (PKCS8_LINE, PKCS8_LINE.replace("/", "\\/")), "json"),
    Planted("private_key_in_env", "env-escaped-newlines", 'SSL_KEY="' + PKCS8.replace("\n", "\\n") + '"', (PKCS8_LINE,)),
    Planted("bearer_token", "http-log", f"GET /api/v1/items Authorization: Bearer {BEARER} 200", (BEARER,)),
    Planted("bearer_token", "curl-header", f"curl -H 'Authorization: Bearer {BEARER}' https://x", (BEARER,)),
    Planted("bearer_token", "nginx", f'proxy_set_header Authorization "Bearer {BEARER}";', (BEARER,)),
    Planted("basic_auth", "http-header", f"Authorization: Basic {BASIC}\nAccept: */*", (BASIC,)),
    Planted("basic_auth", "log-inline", f"upstream request hdr=Basic {BASIC} status=401", (BASIC,)),
    Planted("postgres_uri_password", "postgres", f"DATABASE_URL=postgres://app:{PW}@db01.internal:5432/app", (PW,)),
    Planted("mysql_uri_password", "mysql", f"connecting to mysql://root:{PW}@10.0.0.5/app ...", (PW,)),
    Planted("mongodb_uri_password", "mongodb-srv", f"uri: mongodb+srv://admin:{PW}@cluster0.x.mongodb.net/?retryWrites=true", (PW,),
            "yaml"),
    Planted("redis_uri_password", "redis", f"REDIS_URL=redis://:{PW}@cache:6379/0", (PW,)),
    Planted("amqp_uri_password", "amqp-with-at", f"broker amqp://guest:p@ss{PW}@rabbit:5672// connected", (PW, "p@ss")),
    Planted("git_credential_url", "git-config", f'[remote "origin"]\n\turl = https://bob:{GHP}@github.com/org/repo.git\n',
            (GHP,)),
    Planted("aws_credentials", "credentials-file", f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = "
            f"{AWS_SECRET}\n", (AWS_ID, AWS_SECRET)),
    Planted("aws_keys_in_log", "log-context-free", f"uploading with {AWS_ID} {AWS_SECRET} to s3://bucket", (AWS_ID, AWS_SECRET)),
    Planted("gcp_api_key", "api-key", f"maps.key({GCP_API})", (GCP_API,)),
    Planted("gcp_oauth_client_secret", "oauth-client-secret", f'{{"installed": {{"client_secret": "{GCP_SECRET}"}}}}', (GCP_SECRET,),
            "json"),
    Planted("azure_storage_key", "storage-connection-string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
            f"{AZ_KEY};EndpointSuffix=core.windows.net", (AZ_KEY,)),
    Planted("azure_sas_token", "sas-url", f"https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig={AZ_SIG}&se=x",
            (AZ_SIG,)),
    Planted("github_token", "classic-token", f"GITHUB_TOKEN={GHP}", (GHP,)),
    Planted("github_fine_grained_pat", "fine-grained", f"using token {GH_PAT} for org", (GH_PAT,)),
    Planted("gitlab_pat", "pat", f"gitlab-runner register --token {GLPAT}", (GLPAT,)),
    Planted("slack_bot_token", "bot-token", f"slack: posting with {XOXB}", (XOXB,)),
    Planted("slack_webhook", "webhook", f"webhook https://hooks.slack.com/services/{SLACK_HOOK}", (SLACK_HOOK,),
            scanner=False),
    Planted("stripe_secret_key", "secret-key", f"stripe.api_key = {STRIPE!r}", (STRIPE,)),
    Planted("sendgrid_key", "key", f"SENDGRID={SENDGRID}", (SENDGRID,)),
    Planted("npm_token", "npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n", (NPM,)),
    Planted("pypi_token", "pypirc", f"[pypi]\nusername = __token__\npassword = {PYPI}\n", (PYPI,)),
    Planted("openai_key", "env", f"OPENAI={OPENAI}", (OPENAI,)),
    Planted("vault_token", "token", f"vault login {VAULT}", (VAULT,)),
    Planted("digitalocean_token", "token", f"doctl auth init -t {DO_TOKEN}", (DO_TOKEN,)),
    Planted("huggingface_token", "token", f"hf: {HF}", (HF,)),
    Planted("telegram_bot_token", "bot-token", f"https://api.telegram.org/bot{TELEGRAM}/sendMessage", (TELEGRAM,),
            scanner=False),
    Planted("age_secret_key", "secret-key", f"# created: 2026-01-01\n{AGE}\n", (AGE,)),
    Planted("jwt_cookie", "cookie-header", f"Cookie: theme=dark; jwt={JWT}", (JWT,)),
    Planted("jwt_in_log", "log", f"verified id_token {JWT} for client", (JWT,)),
    Planted("session_cookie", "set-cookie", f"< Set-Cookie: sessionid={PW2}; Path=/; HttpOnly", (PW2,)),
    Planted("oauth_access_token", "query-string", f"GET /cb?code=1&access_token={PW2}&state=x HTTP/1.1", (PW2,)),
    Planted("htpasswd_apr1", "apr1", f"admin:{APR1}\n", (APR1.split("$")[-1],)),
    Planted("shadow_sha512crypt", "sha512crypt", f"root:{SHA512CRYPT}:19700:0:99999:7:::\n", (SHA512CRYPT.split("$")[-1],)),
    Planted("htpasswd_plain", "plain-by-path", f"bob:{PW}\n", (PW,), path="/etc/nginx/.htpasswd", scanner=False),
    Planted("docker_registry_auth", "docker-config-json", json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": base64.b64encode(f"bob:{PW}".encode()).decode()}}}, indent=2), (base64.b64encode(f"bob:{PW}".encode()).decode(),), "json"),
    Planted("kubeconfig_client_key", "kubeconfig", f"users:\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTg==\n    client-key-data: {base64.b64encode(PKCS8.encode()).decode()}\n    token: {PW2}\n", (base64.b64encode(PKCS8.encode()).decode(), PW2), "yaml"),
    Planted("php_define_password", "wp-config", f"<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_PASSWORD', '{PW}' );\n", (PW,)),
    Planted("php_array_password", "php-array", f"$config = ['db' => ['user' => 'app', 'password' => '{PW}']];", (PW,)),
    Planted("ruby_hash_password", "ruby-hash", f"ActiveRecord::Base.establish_connection(adapter: 'pg', password => \"{PW}\")", (PW,)),
    Planted("dollar_password", "env-file-dollar", "DB_PASSWORD=$uperSecret1x\nAPI_TOKEN=${TOKEN_FROM_VAULT}\n", ("$uperSecret1x",)),
    Planted("wifi_psk", "wpa-supplicant", f'network={{\n  ssid="home"\n  psk="{PW}"\n}}', (PW,), scanner=False),
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
    ("references", "DB_PASSWORD=$DB_PASSWORD_FROM_ENV\nAPI_TOKEN=${VAULT_TOKEN}\nsecret=$(cat /run/secrets/x)\n"
     "USERXSESSION=$HOME/.xsession\nSESSION_FILE=$XDG_RUNTIME_DIR/session.lock"),
    ("shell-vars", "awk '{print $1$2}' && echo $HOME"),
    ("pod-names", "coredns-5d78c9869d-x2x9k kube-proxy-7fmbq nginx-deployment-66b6c48dd5-4jw2q"),
    ("timestamps-macs", "10:30:45 aa:bb:cc:dd:ee:ff 2026-11-25T10:00:00Z"),
    ("prefix-identifiers", "npm_config_strict_peer_dependencies_enabled=true hf_hub_download_with_progress_bars "
     "key-value-store-replication-controller-manager ASIA_PACIFIC_REGION_DEFAULT"),
    # Lines from a real Debian system's /etc and /var/log that earlier versions of the rules mistook for secrets
    ("shadow-locked", "sshd:!:20782::::::\npolkitd:!*:20582::::::"),
    ("sysctl", "#net.ipv4.tcp_syncookies=1\n#StopIdleSessionSec=infinity"),
    ("shell-substitution", 'passwd=$(getent passwd "$user")\nexport SSH_AUTH_SOCK=$(gpgconf --list-dirs agent-ssh-socket)'),
    ("dbus", 'DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"\n# tell dbus-daemon --session (and systemd --user)'),
    ("java-settings", "jdk.http.auth.tunneling.disabledSchemes=Basic\njdk.http.ntlm.transparentAuth=allHosts\n"
     '# The default value is "PBEWithHmacSHA256AndAES_256".'),
    ("postgres-conf", "#password_encryption = scram-sha-256\n#session_replication_role = 'origin'"),
    ("initdb", "initdb -D /var/lib/postgresql/15/main --auth-local peer --auth-host scram-sha-256"),
    ("apt-history", "Install: google-cloud-cli-gke-gcloud-auth-plugin=528.0.0-0, dbus-user-session:amd64 (1.14.10-1~deb12u1)"),
    ("alternatives-man-page", "update-alternatives 2026-12-06 21:44:30: run with --install /usr/sbin/rt-passwd "
     "rt-passwd /usr/sbin/rt-passwd-5 240 --slave /usr/share/man/man8/rt-passwd.8.gz rt-passwd.8.gz "
     "/usr/share/man/man8/rt-passwd-5.8.gz"),
    ("dpkg-arch-all", "2026-05-09 07:29:21 status installed python3-jwt:all 2.6.0-1\n"
     "2026-12-06 21:44:24 install libtext-password-pronounceable-perl:all <none> 0.30-3"),
    ("ca-certificates", "mozilla/DigiCert_TLS_RSA4096_Root_G5.crt\nmozilla/D-TRUST_EV_Root_CA_1_2020.crt"),
    ("login-defs", "# Max number of login retries if password is bad. This will most likely be"),
    ("ssh-host-keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+BeqndKWetV8Hm3MCqP1plCcbTA71daHIpmCiQjEf+ root@vm\n"
     "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBM6gb8hOgW7BHstC+wIzFewP5m2xQZKY/EfC root@vm"),
    ("pgp-public-key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGfpPl0BEACyof6b+LAkxSHiTZc0RAjilNtshxhqOSr5hrApjAdyLDnUWMf4\n"
     "mp/UytFKHCbzU9H9QkYXLyr2mCltknX5+A28iYHZzS0eX5XMAmaWdqvd4IkAb/Sw\nvouXsXgxT7PntgMTzlSdriVZzH81Xwj3QEUxeCp6\n"
     "-----END PGP PUBLIC KEY BLOCK-----"),
    # Lines of this machine's /etc that the wider key forms (``key value``, ``[x "y"]``) first mistook for secrets
    ("login-defs-days", "PASS_MAX_DAYS\t99999\n#\tPASS_MIN_DAYS\tMinimum days between password changes."),
    ("services-kpasswd", "kpasswd\t\t464/tcp\nkpasswd\t\t464/udp"),
    ("shell-pwd", 'basedir=`cd "${arg}" && pwd -P`'),
    ("gitconfig-section", '[credential "https://source.developers.google.com"]'),
    ("logcheck-regex", r"systemd\[[[:digit:]]+\]: Listening on GnuPG cryptographic agent and passphrase cache\.$"),
    ("prose-parenthesis", "# DES-based algorithm will be used for encrypting password (default)"),
    ("pam-authtok-option", "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so"),
    # Settings and references under secret-sounding keys in this machine's /etc (agent/redact/lookalikes.py)
    ("option-list", "# com.sun.management.jmxremote.ssl.need.client.auth=true|false\n"
     "# com.sun.management.jmxremote.password.toHashes = true|false"),
    ("enumeration", "#jdk.security.krb5.default.initiate.credential=always-impersonate\n"
     '#   public_name = "\\r\\n250-AUTH=PLAIN LOGIN"'),
    ("macro-reference", "tls_privatekey = MAIN_TLS_PRIVATEKEY\ndkim_private_key = DKIM_PRIVATE_KEY"),
    ("key-file-path", "MAIN_TLS_PRIVATEKEY = CONFDIR/exim.key\n<privateKey>/path/to/private/key</privateKey>"),
    ("key-file-path-comment", "private_key\t= $dir/private/cakey.pem# The private key"),
    ("empty-then-comment", "secret = # disable PBM"),
    ("perl-env-lookup", "        password => $ENV{TWITTER_PASSWORD},"),  # (tests/agent/leakcorpus.py's)
    ("exim-expansion", "  hosts_try_auth = <; ${if exists{CONFDIR/passwd.client} \\"),
    ("certificate-40-char-line", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe5Xj8QbYkq3bT0Zr7wVhW1kJm4IwCgYIKoZIzj0EAwIw\n"
     "vouXsXgxT7PntgMTzlSdriVZzH81Xwj3QEUxeCp6\n-----END CERTIFICATE-----"),
]
