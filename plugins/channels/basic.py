"""Local channels: ``console`` (one line on stderr) and ``file`` (append one JSON line per notification)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from medic.core.channel import Channel, Notification
from medic.kernel.errors import UsageError


class ConsoleChannel(Channel):
    name = "console"
    description = "print a one-line notification on standard error"
    arg_option = None  # console takes no argument

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        print(f"[{notification.status.upper()}] {notification.title}: {notification.body}", file=sys.stderr)


class FileChannel(Channel):
    name = "file"
    description = "append one JSON object per notification to a file (option: path)"
    arg_option = "path"

    def check_options(self, options: dict[str, Any]) -> None:
        if not options.get("path"):
            raise UsageError("the file channel needs a path: --notify file:/path/to/events.jsonl")

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        path = options.get("path")
        if not path:
            raise UsageError("the file channel needs a path: --notify file:/path/to/events.jsonl")
        record = {"event": notification.event, "title": notification.title, "status": notification.status,
                  "body": notification.body, "data": notification.data}
        line = json.dumps(record, sort_keys=True, default=str) + "\n"
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        # one write() of a whole line on an O_APPEND descriptor: concurrent writers never interleave lines
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
