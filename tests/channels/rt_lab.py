"""A private Request Tracker 5 for tests: Debian's ``request-tracker5`` with its own SQLite database and
configuration in a temporary directory (``RT_SITE_CONFIG``/``RT_SITE_CONFIG_DIR``, so the system's instance is not
touched), an auth token made with RT's own API, and RT's standalone server on a loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_LIB = Path("/usr/share/request-tracker5/lib")
SETUP_DB = Path("/usr/sbin/rt-setup-database-5")
# RT's own API makes the token (RT::AuthToken, core since RT 5), as the web UI's "Auth Tokens" page would
_TOKEN = ('use RT; RT::LoadConfig(); RT::Init(); my $u = RT::User->new(RT->SystemUser); $u->Load("root"); '
          'my ($ok, $msg, $token) = RT::AuthToken->new($u)->Create(Owner => $u->Id, Description => "medic"); '
          'die "$msg\\n" unless $ok; print "TOKEN=$token\\n";')


def installed() -> bool:
    return RT_SERVER.exists() and SETUP_DB.exists()


@dataclass
class Rt:
    url: str
    token: str

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}/REST/2.0/{path}",
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())

    def ticket(self, ticket: str) -> dict[str, Any]:
        return dict(self.get(f"ticket/{ticket}"))

    def history(self, ticket: str) -> list[tuple[str, str]]:
        """(type, text) of every transaction of a ticket, oldest first (text: its first attachment's content)."""
        found = []
        for item in self.get(f"ticket/{ticket}/history?fields=Type&per_page=100")["items"]:
            parts = self.get(f"transaction/{item['id']}/attachments?fields=Content")["items"]
            found.append((item["Type"], parts[0].get("Content", "") if parts else ""))
        return found

    def ticket_ids(self) -> list[str]:
        query = urllib.request.quote("id > 0")
        return [t["id"] for t in self.get(f"tickets?query={query}&per_page=100")["items"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _configure(base: Path, port: int) -> dict[str, str]:
    conf = base / "RT_SiteConfig.d"
    conf.mkdir()
    (conf / "10-medic-test.pm").write_text(f"""\
Set($rtname, 'medic-test');
Set($Organization, 'medic.test');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{base / "rtdb"}');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebPath, '');
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($LogToSTDERR, 'error');
Set($LogToSyslog, undef);
Set($MailCommand, 'mbox');
1;
""")
    (base / "RT_SiteConfig.pm").write_text("1;\n")
    return {**os.environ, "RT_SITE_CONFIG": str(base / "RT_SiteConfig.pm"), "RT_SITE_CONFIG_DIR": str(conf)}


def _wait_ready(rt: Rt, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"rt-server exited {server.returncode}: {log.read_text()[-2000:]}")
        try:
            rt.get("queues/all")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"rt-server did not answer within {timeout_s:g} s: {log.read_text()[-2000:]}")


@contextmanager
def running_rt(base: Path) -> Iterator[Rt]:
    """A fresh RT in ``base``: database created, token made, server started; stopped at the end."""
    port = _free_port()
    env = _configure(base, port)
    subprocess.run([str(SETUP_DB), "--action", "init", "--skip-create"], env=env, check=True,
                   capture_output=True, timeout=240)
    made = subprocess.run(["perl", f"-I{RT_LIB}", "-e", _TOKEN], env=env, check=True, capture_output=True,
                          text=True, timeout=120)
    token = next(line[6:] for line in made.stdout.splitlines() if line.startswith("TOKEN="))
    log = base / "rt-server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(RT_SERVER), "--server", "Standalone", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    rt = Rt(f"http://127.0.0.1:{port}", token)
    try:
        _wait_ready(rt, server, log)
        yield rt
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: the server and anything it forked
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
