"""A Prefect server behind a TLS reverse proxy (Debian nginx-light, as a team would put one in front of it).

nginx listens on a loopback port with a self-signed certificate for 127.0.0.1 and forwards to the session's Prefect
server (auth string set). medic reaches the server through ``https://127.0.0.1:PORT/api``: with the certificate in
``PREFECT_API_SSL_CERT_FILE`` the TLS check passes and the API answers; without it the certificate is refused in one
line naming that variable (exit 3), and the auth string never shows.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefectsvc import PrefectService

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx-light not installed (tests/setup-services.sh)")

CONFIG = """\
{user}
pid {base}/nginx.pid;
error_log {base}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {base}/body;
  proxy_temp_path {base}/proxy;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {base}/cert.pem;
    ssl_certificate_key {base}/key.pem;
    location / {{
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
    }}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def proxy(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base = tmp_path_factory.mktemp("tls")
    base.chmod(0o755)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(base / "key.pem"), "-out",
                    str(base / "cert.pem")], check=True, capture_output=True)
    port = _free_port()
    upstream = prefect_service.api_url.removesuffix("/api")
    user = "user root;" if os.geteuid() == 0 else ""  # its workers read the key in this test's directory
    (base / "nginx.conf").write_text(CONFIG.format(user=user, base=base, port=port, upstream=upstream))
    process = subprocess.Popen([NGINX, "-p", str(base), "-c", str(base / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.stderr else ""
        time.sleep(0.2)
    yield {"url": f"https://127.0.0.1:{port}/api", "ca": str(base / "cert.pem"), "base": str(base)}
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def https_env(service: PrefectService, proxy: dict[str, str], tmp_path: Path, **extra: str) -> dict[str, str]:
    secret = tmp_path / "auth"
    secret.write_text(service.auth_string + "\n")
    secret.chmod(0o600)
    env = service.subprocess_env(PREFECT_API_URL=proxy["url"], MEDIC_PREFECT_AUTH_FILE=str(secret), **extra)
    env.pop("PREFECT_API_AUTH_STRING", None)
    env.pop("PREFECT_API_SSL_CERT_FILE", None)
    return {**env, **extra}


def test_doctor_verifies_the_proxys_certificate_and_reaches_the_server(prefect_service: PrefectService,
                                                                       proxy: dict[str, str], tmp_path: Path) -> None:
    done = medic(https_env(prefect_service, proxy, tmp_path, PREFECT_API_SSL_CERT_FILE=proxy["ca"]),
                 "doctor", "server")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok    tls: certificate verified against PREFECT_API_SSL_CERT_FILE={proxy['ca']}" in done.stdout
    assert "ok    auth: the server accepts the auth string" in done.stdout
    assert prefect_service.auth_string not in done.stdout + done.stderr


def test_runs_list_goes_through_the_proxy(prefect_service: PrefectService, proxy: dict[str, str],
                                          tmp_path: Path) -> None:
    done = medic(https_env(prefect_service, proxy, tmp_path, PREFECT_API_SSL_CERT_FILE=proxy["ca"]), "runs", "list")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr


def test_an_unknown_certificate_is_one_line_naming_the_ca_variable(prefect_service: PrefectService,
                                                                   proxy: dict[str, str], tmp_path: Path) -> None:
    done = medic(https_env(prefect_service, proxy, tmp_path), "doctor", "server")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "PREFECT_API_SSL_CERT_FILE" in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert prefect_service.auth_string not in done.stdout + done.stderr
