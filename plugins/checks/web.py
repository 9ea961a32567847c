"""Web checks: an HTTP(S) endpoint's status, latency, redirects and certificate; proxy environment
variables."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping


@check(
    "network.http_request",
    title="HTTP(S) endpoint healthy",
    category="network",
    severity="high",
    needs=lambda p: {
        "http": ProbeCall.make(
            "http_request",
            url=p["url"],
            timeout=p["timeout_s"],
            max_redirects=p["max_redirects"],
            verify=p["verify_tls"],
        )
    },
    params=[
        Param("url", "string", description="http:// or https:// URL"),
        Param("expect_status", "list", [200], "acceptable final status codes", items="int"),
        Param("warn_ms", "float", 1000.0, "warn when the request takes longer (ms)"),
        Param("fail_ms", "float", 5000.0, "fail when the request takes longer (ms)"),
        Param("max_redirects", "int", 5, "redirects to follow; warn when all are used"),
        Param("cert_warn_days", "float", 21.0, "warn when the certificate expires within (days)"),
        Param("cert_fail_days", "float", 3.0, "fail when the certificate expires within (days)"),
        Param("verify_tls", "bool", True, "verify the certificate chain and host name"),
        Param("timeout_s", "float", 10.0, "give up after (s)"),
    ],
    remediation="Unreachable: check DNS, routes, proxy and firewall to the host. Wrong status: read the "
    "server's "
    "error log. Slow: look at the backend's load. Certificate: renew it (certbot renew) and reload.",
    description="fail: no response, TLS verification failure, unexpected status, slower than fail_ms or "
    "certificate within cert_fail_days; warn: slower than warn_ms, certificate within "
    "cert_warn_days, or redirect limit reached.",
    live=True,
)
def http_request(data: ProbeData, p: dict[str, Any]) -> Outcome:
    h = mapping(data, "http")
    ev = {
        "url": p["url"],
        "status": h["status"],
        "latency_ms": h["latency_ms"],
        "redirects": h["redirects"],
        "final_url": h["final_url"],
        "cert_days_left": h["cert_days_left"],
    }
    if not h["ok"]:
        return failed(f"{p['url']}: {h['error']}", subject=p["url"], **ev)
    problems: list[tuple[Status, str]] = []
    if h["status"] not in p["expect_status"]:
        problems.append((Status.FAIL, f"status {h['status']} (expected {p['expect_status']})"))
    if h["latency_ms"] > p["fail_ms"]:
        problems.append((Status.FAIL, f"took {h['latency_ms']:.0f} ms (> {p['fail_ms']:.0f})"))
    elif h["latency_ms"] > p["warn_ms"]:
        problems.append((Status.WARN, f"took {h['latency_ms']:.0f} ms (> {p['warn_ms']:.0f})"))
    days = h["cert_days_left"]
    if days is not None and days < p["cert_fail_days"]:
        problems.append(
            (
                Status.FAIL,
                f"certificate expires in {days:.1f} days"
                if days >= 0
                else f"certificate expired {-days:.1f} days ago",
            )
        )
    elif days is not None and days < p["cert_warn_days"]:
        problems.append((Status.WARN, f"certificate expires in {days:.1f} days"))
    if h["status"] in (301, 302, 303, 307, 308) and h["redirects"] >= p["max_redirects"]:
        problems.append((Status.WARN, f"still redirecting after {h['redirects']} redirects"))
    if problems:
        status = Status.FAIL if any(s is Status.FAIL for s, _ in problems) else Status.WARN
        return Outcome(status, f"{p['url']}: " + "; ".join(t for _, t in problems), ev, p["url"])
    cert = f", certificate valid {days:.0f} more days" if days is not None else ""
    return passed(
        f"{p['url']}: {h['status']} in {h['latency_ms']:.0f} ms after {h['redirects']} redirect(s){cert}",
        subject=p["url"],
        **ev,
    )


@check(
    "network.proxy_env",
    title="Proxy environment variables",
    category="network",
    severity="low",
    needs={"env": "proxy_env"},
    params=[
        Param(
            "expect_proxy",
            "string",
            "any",
            "whether a proxy should be set: any, set or unset",
            choices=("any", "set", "unset"),
        ),
        Param("no_proxy_hosts", "list", [], "hosts that must be listed in no_proxy", items="string"),
    ],
    remediation="Set or unset http_proxy/https_proxy (and the upper-case variants, which some tools prefer) "
    "consistently in /etc/environment or the service unit; add internal hosts to no_proxy.",
    description="warn when http_proxy and HTTP_PROXY (or https_) disagree, when a proxy is set/unset against "
    "expect_proxy, or when a host in no_proxy_hosts is missing from no_proxy.",
)
def proxy_env(data: ProbeData, p: dict[str, Any]) -> Outcome:
    env: dict[str, str] = mapping(data, "env")["variables"]
    problems = []
    for name in ("http_proxy", "https_proxy"):
        low, up = env.get(name), env.get(name.upper())
        if low is not None and up is not None and low != up:
            problems.append(f"{name}={low} but {name.upper()}={up}")
    proxied = any(
        env.get(n)
        for n in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    )
    if p["expect_proxy"] == "set" and not proxied:
        problems.append("no proxy variable is set")
    if p["expect_proxy"] == "unset" and proxied:
        problems.append("a proxy is set but none is expected")
    no_proxy = {
        h.strip() for h in (env.get("no_proxy", "") + "," + env.get("NO_PROXY", "")).split(",") if h.strip()
    }
    missing = [h for h in p["no_proxy_hosts"] if h not in no_proxy]
    if missing:
        problems.append(f"not in no_proxy: {', '.join(missing)}")
    if problems:
        return warned("; ".join(problems), variables=env)
    return passed(f"proxy variables: {', '.join(sorted(env)) or 'none set'}", variables=env)
