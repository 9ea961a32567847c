"""The shared Prefect server fixture: a real server that refuses clients without its auth string."""

from __future__ import annotations

import urllib.error
import urllib.request

from prefectsvc import PrefectService


def _post(service: PrefectService, path: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(service.api_url + path, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_server_requires_the_auth_string(prefect_service: PrefectService) -> None:
    assert _post(prefect_service, "/flows/filter", {}) == 401
    assert _post(prefect_service, "/flows/filter", prefect_service.headers) == 200
    assert prefect_service.env["PREFECT_API_AUTH_STRING"] == prefect_service.auth_string
    assert prefect_service.env["PREFECT_API_URL"] == prefect_service.api_url


def test_health_stays_open_without_auth(prefect_service: PrefectService) -> None:
    with urllib.request.urlopen(prefect_service.api_url + "/health", timeout=10) as answer:
        assert answer.status == 200
