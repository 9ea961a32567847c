"""Network checks: name resolution, default route, TCP reachability."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check
from medic.core.models import Outcome, ProbeCall, failed, passed, warned
from medic.core.params import Param


@check("network.dns_resolve", title="DNS resolution", category="network", severity="high",
       needs=lambda p: {"dns": ProbeCall.make("dns_resolve", host=p["host"], timeout=p["timeout_s"])},
       params=[Param("host", "string", "localhost", "name to resolve"),
               Param("warn_ms", "float", 200.0, "warn when resolution takes longer (ms)"),
               Param("timeout_s", "float", 5.0, "give up after (s)")],
       remediation="Check /etc/resolv.conf nameservers, that they answer (dig @server NAME), and the network path "
                   "to them; for a single name, check its record and any /etc/hosts override.",
       description="fail: the name does not resolve; warn: resolution slower than warn_ms.", live=True)
def dns_resolve(data: ProbeData, p: dict[str, Any]) -> Outcome:
    d = data["dns"]
    if not d["ok"]:
        return failed(f"{p['host']} does not resolve: {d['error']}", host=p["host"], error=d["error"])
    evidence = {"host": p["host"], "addresses": d["addresses"][:8], "latency_ms": d["latency_ms"]}
    if d["latency_ms"] > p["warn_ms"]:
        return warned(f"{p['host']} resolved in {d['latency_ms']:.0f} ms (> {p['warn_ms']:.0f} ms)", **evidence)
    return passed(f"{p['host']} resolves to {', '.join(d['addresses'][:3])} in {d['latency_ms']:.0f} ms",
                  **evidence)


@check("network.default_route", title="Default route", category="network", severity="high",
       needs={"routes": "routes"},
       remediation="Add a default gateway (ip route add default via GATEWAY) or fix DHCP; check the cable/link.",
       description="fail: no IPv4 or IPv6 default route; pass: at least one, gateways listed.")
def default_route(data: ProbeData, p: dict[str, Any]) -> Outcome:
    r = data["routes"]
    if r["default"]:
        gws = [f"{d['gateway']} via {d['interface']}" for d in r["default"]]
        return passed(f"default route: {', '.join(gws)}", gateways=gws)
    if r.get("ipv6_default"):
        return passed("IPv6 default route present (no IPv4 default)", ipv6_default=True)
    return failed("no default route: only directly connected networks are reachable",
                  routes=len(r["routes"]))


@check("network.tcp_connect", title="TCP service reachable", category="network", severity="high",
       needs=lambda p: {"tcp": ProbeCall.make("tcp_connect", host=p["host"], port=p["port"],
                                              timeout=p["timeout_s"])},
       params=[Param("host", "string", description="host name or address"),
               Param("port", "int", description="TCP port"),
               Param("warn_ms", "float", 500.0, "warn when connecting takes longer (ms)"),
               Param("timeout_s", "float", 3.0, "give up after (s)")],
       remediation="Check the service is running and listening on that port, then firewalls and routes between "
                   "here and there (ss -ltnp on the server; nc -vz HOST PORT from here).",
       description="fail: connection refused or timed out; warn: connect slower than warn_ms.", live=True)
def tcp_connect(data: ProbeData, p: dict[str, Any]) -> Outcome:
    t = data["tcp"]
    where = f"{p['host']}:{p['port']}"
    if not t["ok"]:
        return failed(f"cannot connect to {where}: {t['error']}", subject=where, error=t["error"],
                      latency_ms=t["latency_ms"])
    if t["latency_ms"] > p["warn_ms"]:
        return warned(f"{where} connected in {t['latency_ms']:.0f} ms (> {p['warn_ms']:.0f} ms)", subject=where,
                      latency_ms=t["latency_ms"])
    return passed(f"{where} accepts connections ({t['latency_ms']:.1f} ms)", subject=where,
                  latency_ms=t["latency_ms"])
