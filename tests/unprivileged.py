"""Run a test body as an unprivileged user, so permission paths are tested where CI runs as root.

Root reads every file, so "permission denied" branches never run under a root CI. ``run_unprivileged(body)``
runs ``body`` in a forked child that has dropped to the ``medic-test`` user (no supplementary groups, real and
effective ids both changed: the kernel enforces it, as with ``setpriv --reuid --regid --clear-groups``); the
child's failure, with its traceback, fails the test. Run by a normal user, the body simply runs in-process.
"""

from __future__ import annotations

import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

USER = "medic-test"
HANG_SECONDS = 300  # bounds a hung body (a lock held by a thread the fork did not copy), not a speed


def unprivileged_user() -> pwd.struct_passwd | None:
    """The user bodies run as (created when missing, like tests/setup-services.sh does); None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(USER)


def run_unprivileged(body: Callable[[], None]) -> None:
    user = unprivileged_user()
    if user is None:
        body()
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root for good, run the body, report through the pipe
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
            os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
            body()
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode(errors="replace"))
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        if not select.select([fh], [], [], HANG_SECONDS)[0]:  # a hung child must not hang the suite
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"as user {USER}: no result within {HANG_SECONDS} s (killed)", pytrace=False)
        report = fh.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        pytest.fail(f"as user {USER} (uid {user.pw_uid}):\n{report}", pytrace=False)


@pytest.fixture
def user_dir() -> Iterator[Path]:
    """A fresh directory the unprivileged user owns (pytest's tmp_path is root's and closed to others)."""
    path = Path(tempfile.mkdtemp(prefix="medic-user-"))
    user = unprivileged_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
