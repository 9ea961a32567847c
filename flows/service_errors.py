"""Talking to a Prefect server for ``medic deploy``, ``serve`` and ``worker``: one line per failure, no traceback.

A server that does not answer, one that refuses the credentials (401/403), an unknown work pool or
deployment, and parameters the server's schema refuses each become a MedicError naming the URL or the object,
with its documented exit code (3 for the server, 2 for a name or a value).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from medic.flows.server_check import check_api_reachable
from medic.kernel.errors import MedicError, UsageError


def require_server(command: str) -> str:
    """The configured API URL, checked to answer; a temporary server would vanish with the command."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if not url:
        raise UsageError(f"medic {command} needs a Prefect server: set PREFECT_API_URL (e.g. "
                         f"http://127.0.0.1:4200/api after medic server start)")
    check_api_reachable()
    return url


@contextmanager
def server_errors() -> Iterator[None]:
    import httpx
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    url = os.environ.get("PREFECT_API_URL", "(temporary server)")
    try:
        yield
    except (httpx.ConnectError, httpx.TimeoutException) as exc:
        raise MedicError(f"the Prefect server at PREFECT_API_URL={url} cannot be reached ({exc})") from None
    except ObjectNotFound as exc:
        raise UsageError(f"not found on the Prefect server at {url}: {_detail(exc)}") from None
    except (PrefectHTTPStatusError, httpx.HTTPStatusError) as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise MedicError(f"the Prefect server at {url} refused medic's credentials ({status}): set "
                             f"PREFECT_API_AUTH_STRING to the server's auth string") from None
        raise MedicError(f"the Prefect server at {url} answered {status}: {_detail(exc)}") from None
    except Exception as exc:
        if type(exc).__name__ == "DeploymentApplyError":
            text = str(exc)
            if "401" in text or "403" in text:
                raise MedicError(f"the Prefect server at {url} refused medic's credentials: set "
                                 f"PREFECT_API_AUTH_STRING to the server's auth string") from None
            raise MedicError(f"the Prefect server at {url} refused a deployment: {text}") from None
        raise


def _detail(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    try:
        detail = response.json().get("detail") if response is not None else None
    except ValueError:
        detail = None
    return str(detail or exc).splitlines()[0][:300]
