"""Look-alikes: values shaped like secrets that are not secrets and must survive scrubbing untouched.

Decisions (documented in agent/README.md): placeholders (``${VAR}``, ``<your-token>``, ``****``, ``xxxxxxxx``,
``{{ vault_pw }}``, ``%(password)s``) are kept; a real-looking default password such as ``changeme`` under a
password key IS redacted (it is often the live password), so it is not a look-alike.
"""
# ruff: noqa: E501

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Callable

from .gen import b64, rand, uuid4

Make = Callable[[random.Random], "tuple[str, str, str]"]  # rng -> (path, text, value that must survive)


def _hex_line(label: str, n: int, fmt: str) -> Make:
    def make(rng: random.Random) -> tuple[str, str, str]:
        v = rand(rng, "h", n)
        return "/var/log/app/app.log", fmt.format(v=v, label=label), v
    return make


def _cert(rng: random.Random) -> str:
    body = "\n".join("MII" + rand(rng, "B", 61) for _ in range(6))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"


def _pubkey(rng: random.Random) -> str:
    body = "\n".join("MII" + rand(rng, "B", 61) for _ in range(4))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"


def _ssh_pub(rng: random.Random) -> str:
    return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rand(rng, "B", 43)


def _ssh_rsa_pub(rng: random.Random) -> str:
    return "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ" + rand(rng, "B", 300)


def _png_b64(rng: random.Random) -> str:
    return "iVBORw0KGgoAAAANSUhEUgAA" + rand(rng, "B", 200) + "=="


def _b64_json(rng: random.Random) -> str:
    return b64(json.dumps({"kind": "event", "id": rand(rng, "a", 12), "count": rng.randrange(1000), "tags": ["a", "b"]}))


def _k(name: str, make: Callable[[random.Random], str], fmt: str, path: str = "/var/log/app/app.log") -> tuple[str, Make]:
    def build(rng: random.Random) -> tuple[str, str, str]:
        v = make(rng)
        return path, fmt.format(v=v), v
    return name, build


def _c(v: str) -> Callable[[random.Random], str]:
    return lambda rng: v


def _sha(algo: str) -> Callable[[random.Random], str]:
    return lambda rng: hashlib.new(algo, rand(rng, "A", 20).encode()).hexdigest()


def _b64digest(algo: str) -> Callable[[random.Random], str]:
    return lambda rng: base64.b64encode(hashlib.new(algo, rand(rng, "A", 20).encode()).digest()).decode()


def _r(charset: str, n: int, prefix: str = "", suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + rand(rng, charset, n) + suffix


LOOKALIKES: list[tuple[str, Make]] = [
    # hashes and digests
    _k("sha256_checksum", _sha("sha256"), "{v}  backup-2026-12-01.tar.gz"),
    _k("sha1_checksum", _sha("sha1"), "sha1sum: {v}"),
    _k("md5_checksum", _sha("md5"), "MD5 ({v}) = ok"),
    _k("sha512_checksum", _sha("sha512"), "SHA512: {v}"),
    _k("sha256_upper", lambda rng: _sha("sha256")(rng).upper(), "Thumbprint: {v}"),
    _k("sha1_thumbprint_upper", lambda rng: _sha("sha1")(rng).upper(), "SHA1 Fingerprint={v}"),
    _k("sri_integrity", lambda rng: "sha512-" + base64.b64encode(hashlib.sha512(rand(rng, "A", 9).encode()).digest()).decode(), '"integrity": "{v}",', "/srv/app/package-lock.json"),
    _k("sri_sha384", lambda rng: "sha384-" + _b64digest("sha384")(rng), '<script src="/x.js" integrity="{v}"></script>', "/var/www/index.html"),
    _k("docker_image_digest", lambda rng: "sha256:" + _sha("sha256")(rng), "Pulled image nginx@{v}"),
    _k("git_commit", _sha("sha1"), "HEAD is now at {v} fix parser"),
    _k("git_short_commit", _r("h", 7), "merge {v} into main"),
    _k("container_id", _r("h", 64), "container {v} started"),
    _k("ssh_fingerprint", lambda rng: "SHA256:" + _b64digest("sha256")(rng).rstrip("="), "Accepted publickey for bob from 10.0.0.5 port 50022 ssh2: ED25519 {v}", "/var/log/auth.log"),
    _k("ssh_md5_fingerprint", lambda rng: ":".join(rand(rng, "h", 2) for _ in range(16)), "key fingerprint is MD5:{v}"),
    _k("gpg_fingerprint", _r("H", 40), "pub   rsa4096 2026-01-01 [SC]\n      {v}"),
    _k("etag", _r("h", 32), 'ETag: "{v}"'),
    _k("content_md5", _b64digest("md5"), "Content-MD5: {v}"),
    _k("npm_shasum", _sha("sha1"), '"shasum": "{v}",', "/srv/app/package-lock.json"),
    _k("pip_hash", lambda rng: "sha256:" + _sha("sha256")(rng), "requests==2.32.3 --hash={v}", "/srv/app/requirements.txt"),
    _k("go_sum", lambda rng: "h1:" + _b64digest("sha256")(rng), "golang.org/x/net v0.30.0 {v}", "/src/app/go.sum"),
    _k("cargo_checksum", _sha("sha256"), 'checksum = "{v}"', "/src/app/Cargo.lock"),
    _k("yarn_resolved", _sha("sha1"), '  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#{v}"', "/srv/app/yarn.lock"),
    _k("apt_sha256", _sha("sha256"), "SHA256: {v}", "/var/lib/apt/lists/deb.debian.org_Packages"),
    # identifiers
    _k("uuid", uuid4, "request_id={v} status=200"),
    _k("uuid_upper", lambda rng: uuid4(rng).upper(), "UUID={v} /boot ext4 defaults 0 1", "/etc/fstab"),
    _k("machine_id", _r("h", 32), "{v}", "/etc/machine-id"),
    _k("boot_id", uuid4, "-- Boot {v} --", "/var/log/journal.txt"),
    _k("trace_id_w3c", lambda rng: f"00-{rand(rng, 'h', 32)}-{rand(rng, 'h', 16)}-01", "traceparent: {v}"),
    _k("trace_id_hex", _r("h", 32), "trace_id={v} span_id=0af7651916cd43dd"),
    _k("amzn_trace_id", lambda rng: f"Root=1-{rand(rng, 'h', 8)}-{rand(rng, 'h', 24)}", "X-Amzn-Trace-Id: {v}"),
    _k("aws_request_id", uuid4, "RequestId: {v} Duration: 12.3 ms"),
    _k("aws_arn", lambda rng: f"arn:aws:iam::{rand(rng, 'd', 12)}:role/app-{rand(rng, 'L', 6)}", "assumed role {v}"),
    _k("aws_ami_id", _r("h", 17, "ami-"), "launching {v}"),
    _k("aws_instance_id", _r("h", 17, "i-"), "instance {v} running"),
    _k("aws_account_id", _r("d", 12), "account_id: {v}"),
    _k("azure_subscription_id", uuid4, "subscription_id = {v}"),
    _k("azure_tenant_id", uuid4, "tenant_id: {v}"),
    _k("gcp_project_number", _r("d", 12), "projects/{v}/locations/global"),
    _k("k8s_pod_name", lambda rng: f"web-{rand(rng, 'h', 10)}-{rand(rng, 'a', 5)}", "pod/{v} Running"),
    _k("k8s_uid", uuid4, "  uid: {v}", "/srv/k8s/pod.yaml"),
    _k("k8s_resource_version", _r("d", 9), '  resourceVersion: "{v}"', "/srv/k8s/pod.yaml"),
    _k("slack_channel_id", _r("U", 10, "C"), "posting to channel {v}"),
    _k("twilio_account_sid", _r("h", 32, "AC"), "account_sid: {v}"),
    _k("stripe_customer_id", _r("A", 14, "cus_"), "customer {v} charged"),
    _k("stripe_publishable_key", _r("A", 24, "pk_live_"), "stripePublishableKey: {v}"),
    _k("github_run_id", _r("d", 10), "run https://github.com/org/repo/actions/runs/{v}"),
    _k("mongo_object_id", _r("h", 24), 'ObjectId("{v}")'),
    _k("ulid", _r("U", 26, "01"), "event_id={v}"),
    _k("nanoid", _r("b", 21), "short_link=/s/{v}"),
    _k("correlation_id", uuid4, "X-Correlation-ID: {v}"),
    _k("session_id_log_systemd", _r("d", 4), "New session {v} of user bob.", "/var/log/auth.log"),
    _k("request_id_hex", _r("h", 16), "X-Request-Id: {v}"),
    _k("transaction_hash", _r("h", 64, "0x"), "tx {v} confirmed"),
    _k("eth_address", _r("h", 40, "0x"), "wallet {v}"),
    _k("bitcoin_address", _r("A", 33, "bc1q"), "deposit address {v}"),
    _k("isbn_like", _r("d", 13), "item sku {v}"),
    _k("mac_address", lambda rng: ":".join(rand(rng, "h", 2) for _ in range(6)), "link/ether {v} brd ff:ff:ff:ff:ff:ff"),
    _k("ipv6_address", lambda rng: "2001:db8:" + ":".join(rand(rng, "h", 4) for _ in range(6)), "inet6 {v}/64 scope global"),
    _k("serial_number_cert", lambda rng: ":".join(rand(rng, "h", 2) for _ in range(16)), "Serial Number: {v}"),
    _k("disk_wwn", _r("h", 16, "wwn-0x5000c500"), "/dev/disk/by-id/{v}"),
    _k("luks_uuid", uuid4, "luks-{v} UUID={v} none luks", "/etc/crypttab"),
    _k("dbus_machine_path", _r("h", 32), "/org/freedesktop/login1/session/_{v}"),
    # public material: certificates, public keys, CA data
    _k("pem_certificate", _cert, "{v}", "/etc/ssl/certs/app.pem"),
    _k("pem_public_key", _pubkey, "{v}", "/etc/app/jwt.pub"),
    _k("ssh_ed25519_public_key", _ssh_pub, "{v} bob@laptop", "/home/bob/.ssh/id_ed25519.pub"),
    _k("ssh_rsa_public_key", _ssh_rsa_pub, "{v} deploy@ci", "/home/bob/.ssh/authorized_keys"),
    _k("ssh_known_hosts", _ssh_pub, "github.com {v}", "/home/bob/.ssh/known_hosts"),
    _k("kubeconfig_ca_data", lambda rng: b64(_cert(rng)), "clusters:\n- cluster:\n    certificate-authority-data: {v}\n    server: https://10.0.0.1:6443\n  name: prod", "/home/bob/.kube/config"),
    _k("kubeconfig_client_cert_data", lambda rng: b64(_cert(rng)), "users:\n- name: admin\n  user:\n    client-certificate-data: {v}", "/home/bob/.kube/config"),
    _k("k8s_ca_bundle", lambda rng: b64(_cert(rng)), "  caBundle: {v}", "/srv/k8s/webhook.yaml"),
    _k("jwks_modulus", _r("b", 342), '{{"kty": "RSA", "e": "AQAB", "n": "{v}"}}', "/srv/app/jwks.json"),
    _k("age_public_key", _r("C", 58, "age1"), "# public key: {v}", "/home/bob/.config/sops/age/recipients.txt"),
    _k("wireguard_public_key", lambda rng: rand(rng, "B", 43) + "=", "[Peer]\nPublicKey = {v}\nAllowedIPs = 10.0.0.2/32", "/etc/wireguard/wg0.conf"),
    _k("dkim_public_key", lambda rng: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + rand(rng, "B", 300), 'default._domainkey IN TXT "v=DKIM1; k=rsa; p={v}"', "/etc/bind/db.example.com"),
    _k("pgp_public_block", lambda rng: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINB" + rand(rng, "B", 59) + "\n" + rand(rng, "B", 64) + "\n=" + rand(rng, "B", 4) + "\n-----END PGP PUBLIC KEY BLOCK-----", "{v}", "/etc/apt/keyrings/repo.asc"),
    _k("pgp_signature", lambda rng: "-----BEGIN PGP SIGNATURE-----\n\niQIz" + rand(rng, "B", 60) + "\n" + rand(rng, "B", 64) + "\n-----END PGP SIGNATURE-----", "{v}", "/var/lib/apt/lists/InRelease"),
    # base64 data that is not a credential
    _k("base64_png", _png_b64, '<img src="data:image/png;base64,{v}">', "/var/www/index.html"),
    _k("base64_css_font", lambda rng: "d09GMgABAAAAA" + rand(rng, "B", 120), "src: url(data:font/woff2;base64,{v})", "/var/www/app.css"),
    _k("base64_json_blob", _b64_json, "payload={v}"),
    _k("base64_text", lambda rng: b64("The quick brown fox " + rand(rng, "L", 20)), "note: {v}"),
    _k("protobuf_b64", _r("B", 60, "CgZ"), "event_payload: {v}"),
    _k("k8s_configmap_binary", lambda rng: b64(rand(rng, "A", 40)), "binaryData:\n  logo.png: {v}", "/srv/k8s/cm.yaml"),
    _k("saml_metadata_cert", lambda rng: "MIIC" + rand(rng, "B", 120), "<ds:X509Certificate>{v}</ds:X509Certificate>", "/etc/app/saml-idp.xml"),
    # placeholders, references and masks under secret keys
    _k("env_reference", _c("${DB_PASSWORD}"), "password: {v}", "/etc/app/config.yaml"),
    _k("env_reference_default", _c("${API_TOKEN:-}"), "API_TOKEN={v}", "/srv/app/.env"),
    _k("shell_variable_ref", _c("$DB_PASSWORD"), 'psql "password={v}"', "/opt/deploy.sh"),
    _k("command_substitution", _c("$(cat /run/secrets/db_password)"), "export DB_PASSWORD={v}", "/opt/deploy.sh"),
    _k("angle_placeholder", _c("<your-token>"), "api_token: {v}", "/home/bob/README.md"),
    _k("angle_placeholder_caps", _c("<YOUR_API_KEY>"), "export OPENAI_API_KEY={v}", "/home/bob/README.md"),
    _k("mask_stars", _c("********"), "password: {v}", "/var/log/app/app.log"),
    _k("mask_x", _c("xxxxxxxxxxxx"), "api_key = {v}", "/etc/app/app.ini"),
    _k("mask_redacted_word", _c("REDACTED"), "token=REDACTED", "/var/log/app/app.log"),
    _k("jinja_template", _c("{{ vault_db_password }}"), "password: \"{v}\"", "/etc/ansible/roles/db/templates/app.yml.j2"),
    _k("python_format", _c("%(password)s"), 'query = "host=db password={v}"', "/srv/app/settings.py"),
    _k("helm_values_ref", _c("{{ .Values.db.password }}"), "  password: {v}", "/srv/helm/templates/secret.yaml"),
    _k("vault_reference", _c("vault:secret/data/db#password"), "DB_PASSWORD={v}", "/srv/app/.env"),
    _k("aws_secretsmanager_ref", lambda rng: f"arn:aws:secretsmanager:eu-west-1:{rand(rng, 'd', 12)}:secret:db-{rand(rng, 'A', 6)}", "password_arn: {v}", "/etc/app/config.yaml"),
    _k("k8s_secret_key_ref", _c("db-credentials"), "        valueFrom:\n          secretKeyRef:\n            name: {v}\n            key: password", "/srv/k8s/deploy.yaml"),
    _k("empty_password", _c('""'), "password = {v}", "/etc/app/app.ini"),
    _k("null_token", _c("null"), '"token": {v}', "/etc/app/config.json"),
    _k("boolean_secret_setting", _c("true"), "use_secret: {v}", "/etc/app/config.yaml"),
    # settings and prose that mention secret words
    _k("password_policy_number", _c("12"), "password_min_length = {v}", "/etc/security/pwquality.conf"),
    _k("token_ttl", _c("3600"), "token_ttl: {v}", "/etc/app/config.yaml"),
    _k("secret_file_path", _c("/run/secrets/db_password"), "password_file: {v}", "/etc/app/config.yaml"),
    _k("auth_method_word", _c("scram-sha-256"), "host all all 0.0.0.0/0 {v}", "/etc/postgresql/15/main/pg_hba.conf"),
    _k("sshd_password_auth", _c("no"), "PasswordAuthentication {v}", "/etc/ssh/sshd_config"),
    _k("failed_password_log", _c("203.0.113.7"), "Failed password for invalid user admin from {v} port 4242 ssh2", "/var/log/auth.log"),
    _k("pam_log", _c("sshd:auth"), "pam_unix({v}): authentication failure; logname= uid=0", "/var/log/auth.log"),
    _k("nsswitch_passwd", _c("files systemd"), "passwd:         {v}", "/etc/nsswitch.conf"),
    _k("postfix_map_pointer", _c("hash:/etc/postfix/sasl_passwd"), "smtp_sasl_password_maps = {v}", "/etc/postfix/main.cf"),
    _k("sssd_authtok_type", _c("password"), "ldap_default_authtok_type = {v}", "/etc/sssd/sssd.conf"),
    _k("test_summary_pass", _c("5"), "Pass: {v} Fail: 0 Skip: 1", "/var/log/ci/test.log"),
    _k("snmp_public_community", _c("public"), "rocommunity {v} localhost", "/etc/snmp/snmpd.conf"),
    _k("token_type_bearer", _c("Bearer"), '"token_type": "{v}"', "/var/log/app/oauth.json"),
    _k("shadow_locked", _c("!*"), "polkitd:{v}:20582::::::", "/etc/shadow"),
    _k("shadow_no_password", _c("*"), "daemon:{v}:20000:0:99999:7:::", "/etc/shadow"),
    _k("passwd_file_entry", _c("x"), "bob:{v}:1000:1000:Bob:/home/bob:/bin/bash", "/etc/passwd"),
    _k("version_strings", _c("5.15.0-91-generic"), "kernel {v}, openssl 3.0.11, v2.41.0"),
    _k("long_path", _r("A", 30, "/usr/lib/x86_64-linux-gnu/lib"), "loading {v}.so"),
    _k("camel_identifier", _c("AbstractSingletonProxyFactoryBeanConfigurationManager"), "at org.app.{v}.init(Main.java:42)"),
    _k("python_identifier", _c("hf_hub_download_with_progress_bars"), "calling {v}()"),
    _k("snake_prefix_identifier", _c("npm_config_strict_peer_dependencies"), "{v}=true", "/srv/app/.npmrc"),
    _k("dashed_identifier", _c("key-value-store-replication-controller-manager"), "deployment/{v} ready"),
    # classes an independent corpus (redact-secret's benchmarks, session 16) found destroyed; values invented here
    _k("aws_documented_example_id", _r("U", 9, "AKIA", "EXAMPLE"), "AWS_ACCESS_KEY_ID={v}", "/srv/app/README.md"),
    _k("aws_documented_example_secret", _r("A", 30, suffix="EXAMPLEKEY"), '{{"aws_secret_access_key": "{v}"}}', "/srv/app/example.json"),
    _k("mask_bullets", _c("\u2022" * 10), "Password: {v}", "/var/log/app/app.log"),
    _k("onepassword_reference", _r("L", 6, "op://Ops/mailer-", "/password"), "SMTP_PASSWORD={v}", "/srv/app/.env"),
    _k("vals_reference", _r("L", 5, "ref+vault://kv/", "/smtp#/password"), "smtp_password: {v}", "/etc/app/config.yaml"),
    _k("azure_keyvault_reference", _r("L", 5, "@Microsoft.KeyVault(VaultName=kv-", ";SecretName=smtp-pass)"), "SmtpPassword={v}", "/srv/app/appsettings.env"),
    _k("gcp_secret_resource", _r("L", 6, "projects/ops-", "/secrets/smtp-pass/versions/latest"), "secret: {v}", "/etc/app/config.yaml"),
    _k("windows_env_reference", _c("%SMTP_PASSWORD%"), "set SMTP_PASS={v}", "C:/app/run.cmd"),
    _k("env_lookup_call", _c('os.environ["SMTP_PASSWORD"]'), "smtp_password = {v}", "/srv/app/settings.py"),
    _k("code_expression", _c("settings.SMTP_PASSWORD"), "password={v}", "/srv/app/mail.py"),
    _k("already_redacted_pairs", _c("[REDACTED:password]"), "login password={v} token: [REDACTED:token] attempt=2", "/var/log/app/app.log"),
    _k("template_unquoted", _c("{{ smtp.password_value }}"), "smtp_password: {v}", "/etc/app/config.yaml"),
    _k("url_password_variable", _c("${DB_PASSWORD}"), "DATABASE_URL=postgres://app:{v}@db:5432/app", "/srv/app/.env"),
    _k("url_password_template", _c("{{ mq_password }}"), "broker: amqp://guest:{v}@mq:5672/", "/etc/app/celery.yaml"),
    _k("dpkg_arch_full_stop", _c("gir1.2-secret-1:riscv64."), "status installed {v} 0.21.4-1", "/var/log/dpkg.log"),
]
