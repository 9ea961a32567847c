"""One SSH connection to one host (paramiko), with strict host keys, timeouts, keepalive and retries.

Imported only when an SSH target actually connects: nothing on the ``medic --help`` path loads paramiko.

* Host keys: ``RejectPolicy`` against the host's known_hosts file; a changed key names both fingerprints.
* Timeouts: TCP connect, banner and authentication each ``connect_timeout``; commands ``command_timeout``.
* Refusals (sshd's ``MaxStartups`` closes new connections before its banner): retried with backoff.
* A bound on connections being set up or running a command at once (``MEDIC_SSH_MAX_CONNECTIONS``, 16).
* Commands: stdout and stderr are drained together, so one filling up never blocks the other (the classic
  paramiko deadlock with ``stdout.read()`` then ``stderr.read()``); output beyond a cap is read and dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import paramiko

from medic.kernel.errors import TargetError
from medic.plugins.ssh import hostkeys, knownhosts
from medic.plugins.ssh.inventory import HostConfig

logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)  # failures become medic's own messages
KEEPALIVE_S = 15
RETRIES = 6
MAX_OUTPUT = 64 * 1024 * 1024
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("MEDIC_SSH_MAX_CONNECTIONS", "16")))
_JITTER = random.SystemRandom()  # retry jitter from its own source: a seeded global random must not sync retries


class CommandTimeout(TargetError):
    """A command ran past its timeout (and was told to end); the connection itself is fine. ``output``: what
    it wrote before (the start of its stdout)."""

    def __init__(self, message: str, output: bytes = b"") -> None:
        super().__init__(message)
        self.output = output


class Refused(Exception):
    """The server closed the connection before its banner (MaxStartups): worth retrying."""


@dataclass
class CommandResult:
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    truncated: bool = False


class _Reject(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, remembering the key the server offered (for the error message); a key that
    known_hosts marks ``@revoked`` is refused as such."""

    offered: paramiko.PKey | None = None

    def __init__(self, host: HostConfig, known: knownhosts.KnownHosts) -> None:
        self.host, self.known = host, known

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> NoReturn:
        self.offered = key
        _refuse_revoked(self.host, self.known, key)
        super().missing_host_key(client, hostname, key)


def _refuse_revoked(host: HostConfig, known: knownhosts.KnownHosts, key: paramiko.PKey) -> None:
    line = known.revoked_line(hostkeys.lookup_name(host), key)
    if line is not None:
        raise hostkeys.revoked_error(host, key, line)


def _jump_key(host: HostConfig) -> tuple[object, ...]:
    return (host.name, host.address, host.port, host.user, host.key_file, host.known_hosts,
            _jump_key(host.jump) if host.jump else None)


class _JumpPool:
    """One connection per jump host, shared by every host behind it (as OpenSSH's ControlMaster would): a fleet
    behind a bastion costs the bastion one login, not one per host. Reference-counted; closed with the last
    user, reopened when it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[object, ...], list[Any]] = {}  # key -> [Connection, users]
        self._opening: dict[tuple[object, ...], threading.Lock] = {}

    def acquire(self, jump: HostConfig) -> Connection:
        key = _jump_key(jump)
        with self._lock:
            opening = self._opening.setdefault(key, threading.Lock())
        with opening:  # the first user opens it; the others wait for it rather than opening their own
            with self._lock:
                entry = self._open.get(key)
                if entry is not None and _alive(entry[0]):
                    entry[1] += 1
                    return cast(Connection, entry[0])
            conn = Connection(jump).open()
            with self._lock:
                self._open[key] = [conn, 1]
            return conn

    def release(self, conn: Connection) -> None:
        with self._lock:
            for key, entry in list(self._open.items()):
                if entry[0] is conn:
                    entry[1] -= 1
                    if entry[1] > 0:
                        return
                    del self._open[key]
                    break
        conn.close()

    def users(self, jump: HostConfig) -> int:
        with self._lock:
            entry = self._open.get(_jump_key(jump))
            return int(entry[1]) if entry else 0


def _alive(conn: Connection) -> bool:
    transport = conn.client.get_transport() if conn.client else None
    return transport is not None and transport.is_active()


JUMPS = _JumpPool()


class Connection:
    def __init__(self, host: HostConfig) -> None:
        self.host = host
        self.client: paramiko.SSHClient | None = None
        self._jump: Connection | None = None
        self.retries = 0  # refusals retried while connecting

    @property
    def transport(self) -> paramiko.Transport:
        transport = self.client.get_transport() if self.client else None
        if transport is None or not transport.is_active():
            raise TargetError(f"host {self.host.name}: connection lost")
        return transport

    def open(self) -> Connection:
        delay = 0.2
        for attempt in range(RETRIES + 1):
            try:
                if self.host.jump is not None and self._jump is None:  # before taking a slot: no deadlock
                    self._jump = JUMPS.acquire(self.host.jump)
                with _SLOTS:
                    self._connect()
                return self
            except Refused as exc:
                self.close()
                if attempt == RETRIES:
                    raise TargetError(f"host {self.host.name} ({self._where()}): the server kept refusing "
                                      f"new connections after {RETRIES} retries ({exc}); sshd MaxStartups?"
                                      ) from None
                self.retries += 1
                time.sleep(delay * (1 + _JITTER.random()))
                delay = min(delay * 2, 2.0)
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def _where(self) -> str:
        return f"{self.host.user}@{self.host.address}:{self.host.port}"

    def _connect(self) -> None:
        h = self.host
        sock = self._jump_channel() if h.jump is not None else self._tcp()
        client = paramiko.SSHClient()
        known = hostkeys.read(h)
        name = hostkeys.lookup_name(h)
        for key in known.pinned(name):  # paramiko asks for the pinned key type first, as OpenSSH does
            client.get_host_keys().add(name, key.get_name(), key)  # never saved: no file name is given
        policy = _Reject(h, known)
        client.set_missing_host_key_policy(policy)
        self.client = client
        started = time.monotonic()
        try:
            client.connect(
                h.address, h.port, username=h.user, key_filename=h.key_file,
                passphrase=os.environ.get(h.passphrase_env) or None, allow_agent=True,
                look_for_keys=h.key_file is None, banner_timeout=h.connect_timeout,
                timeout=h.connect_timeout + 1.0,  # the whole negotiation: after the banner timeout fires
                auth_timeout=h.connect_timeout, channel_timeout=h.connect_timeout, sock=sock)
        except paramiko.BadHostKeyException as exc:
            _refuse_revoked(h, known, exc.key)
            raise hostkeys.changed_key_error(h, exc.key, [hostkeys.describe(exc.expected_key)]) from None
        except paramiko.PasswordRequiredException:
            raise TargetError(f"host {h.name}: key file {h.key_file} is encrypted; put its passphrase in the "
                              f"environment variable {h.passphrase_env}") from None
        except paramiko.AuthenticationException as exc:
            raise TargetError(f"host {h.name} ({self._where()}): authentication failed ({exc}); check the "
                              f"user, key_file and ssh-agent") from None
        except paramiko.SSHException as exc:
            raise self._classify(exc, policy, time.monotonic() - started) from None
        except (ConnectionResetError, EOFError) as exc:
            raise Refused(str(exc) or type(exc).__name__) from None
        except OSError as exc:
            raise TargetError(f"host {h.name} ({self._where()}): connection failed: {exc.strerror or exc}"
                              ) from None
        self.transport.set_keepalive(KEEPALIVE_S)

    def _tcp(self) -> socket.socket:
        h = self.host
        try:
            return socket.create_connection((h.address, h.port), timeout=h.connect_timeout)
        except TimeoutError:
            raise TargetError(f"host {h.name} ({self._where()}): TCP connect timed out after "
                              f"{h.connect_timeout:g} s") from None
        except OSError as exc:
            raise TargetError(f"host {h.name} ({self._where()}): cannot connect: {exc.strerror or exc}"
                              ) from None

    def _classify(self, exc: paramiko.SSHException, policy: _Reject, elapsed: float) -> BaseException:
        h = self.host
        text = str(exc)
        if policy.offered is not None or "not found in known_hosts" in text:
            return hostkeys.unknown_key_error(h, policy.offered)
        if "protocol banner" in text:
            if elapsed < h.connect_timeout * 0.8:  # closed at once: refused, not silent
                return Refused(text)
            return TargetError(f"host {h.name} ({self._where()}): no SSH banner within "
                               f"{h.connect_timeout:g} s (the port accepts TCP but does not answer as an "
                               f"SSH server)")
        transport = self.client.get_transport() if self.client else None
        banner = getattr(transport, "remote_version", None)
        silent = transport is not None and transport.session_id is None and elapsed >= h.connect_timeout * 0.8
        if banner and silent:  # a banner, then no key exchange
            return TargetError(f"host {h.name} ({self._where()}): the server sent its banner and then nothing "
                               f"for {h.connect_timeout:g} s (banner {banner!r}; an overloaded sshd, or "
                               f"something other than sshd answering)")
        return TargetError(f"host {h.name} ({self._where()}): SSH negotiation failed: {text}")

    def _jump_channel(self) -> paramiko.Channel:
        h = self.host
        assert h.jump is not None and self._jump is not None
        try:
            return self._jump.transport.open_channel("direct-tcpip", (h.address, h.port), ("127.0.0.1", 0),
                                                     timeout=h.connect_timeout)
        except (paramiko.SSHException, OSError) as exc:
            raise TargetError(f"host {h.name}: jump host {h.jump.name} cannot reach {h.address}:{h.port}: "
                              f"{exc}") from None

    def run(self, command: str, stdin: bytes = b"", timeout: float | None = None,
            max_output: int = MAX_OUTPUT) -> CommandResult:
        """Run ``command`` (already quoted) with ``stdin``; read stdout and stderr together until it exits."""
        limit = timeout if timeout is not None else self.host.command_timeout
        with _SLOTS:
            try:
                chan = self.transport.open_session(timeout=self.host.connect_timeout)
                chan.exec_command(command)
                if stdin:
                    chan.sendall(stdin)
                chan.shutdown_write()
                return _drain(chan, time.monotonic() + limit, max_output, self.host.name)
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise TargetError(f"host {self.host.name}: connection lost during a command: "
                                  f"{exc or type(exc).__name__}") from None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._jump is not None:
            JUMPS.release(self._jump)
            self._jump = None


def _drain(chan: paramiko.Channel, deadline: float, cap: int, name: str) -> CommandResult:
    out, err = bytearray(), bytearray()
    truncated = False
    try:
        while True:
            got = False
            while chan.recv_ready():
                data = chan.recv(1 << 16)
                got = True
                if len(out) < cap:
                    out += data
                else:
                    truncated = True
            while chan.recv_stderr_ready():
                data = chan.recv_stderr(1 << 16)
                got = True
                if len(err) < cap:
                    err += data
                else:
                    truncated = True
            # sshd may send exit-status before the last output: finished only once the channel's EOF is in too
            finished = chan.closed or (chan.eof_received and chan.exit_status_ready())
            if finished and not chan.recv_ready() and not chan.recv_stderr_ready():
                if chan.exit_status != -1:  # paramiko's value until an exit-status message arrives
                    return CommandResult(chan.recv_exit_status(), bytes(out), bytes(err), truncated)
                if _transport_dead(chan):  # closed with no exit status because the connection went away
                    raise TargetError(f"host {name}: connection lost during a command (no exit status)")
                return CommandResult(None, bytes(out), bytes(err), truncated)  # killed by a signal
            if time.monotonic() > deadline:
                _signal(chan, "TERM")  # sshd kills nothing when a channel closes: the command ends itself
                raise CommandTimeout(f"host {name}: command timed out", bytes(out[:4096]))
            if not got:
                select.select([chan], [], [], 0.2)
    finally:
        chan.close()


def _signal(chan: paramiko.Channel, name: str) -> None:
    """Send the command a signal (RFC 4254 6.9; paramiko has no call for it). OpenSSH delivers it to the
    session's first process, unless the command is a ForceCommand (sshd refuses those)."""
    message = paramiko.Message()
    message.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
    message.add_int(chan.remote_chanid)
    message.add_string("signal")
    message.add_boolean(False)
    message.add_string(name)
    with contextlib.suppress(paramiko.SSHException, OSError, EOFError):  # the connection is going away, and
        cast(Any, chan.get_transport())._send_user_message(message)  # so is the command (see remote_runner)


def _transport_dead(chan: paramiko.Channel, grace: float = 1.0) -> bool:
    """Whether the connection is gone (paramiko closes channels just before it marks the transport dead)."""
    transport = chan.get_transport()
    deadline = time.monotonic() + grace
    while transport is not None and transport.is_active():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
