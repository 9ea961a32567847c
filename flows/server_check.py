"""Is the Prefect server named by ``PREFECT_API_URL`` up? Asked before a run, without importing Prefect.

Prefect itself only finds out when the flow starts, and then says ``RuntimeError: Failed to reach API``: a user
needs one line naming the URL and the three ways out instead.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from medic.kernel.errors import MedicError

ADVICE = ("start it (medic server start), unset PREFECT_API_URL to use a temporary server, or run with "
          "--engine inline")


def server_down(url: str, reason: object) -> MedicError:
    return MedicError(f"the Prefect server at PREFECT_API_URL={url} cannot be reached ({reason}): {ADVICE}")


def check_api_reachable(timeout: float = 5.0) -> None:
    """Raise a one-line MedicError (exit 3) when ``PREFECT_API_URL`` is set and nothing answers there.

    Any HTTP answer counts as up (a proxy or Prefect Cloud may answer 401 or 404 to /health): only a refused
    or timed-out connection, or a name that does not resolve, is "down".
    """
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if not url:
        return
    if not url.startswith(("http://", "https://")):
        raise MedicError(f"PREFECT_API_URL={url} is not an http(s) URL: {ADVICE}")
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout):  # noqa: S310 - http(s) only
            return
    except urllib.error.HTTPError:
        return  # something answered
    except urllib.error.URLError as exc:
        raise server_down(url, exc.reason) from None
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed URL
        raise server_down(url, exc) from None
