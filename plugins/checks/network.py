"""Network checks: name resolution, default route, TCP reachability."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping, rows


@check(
    "network.dns_resolve",
    title="DNS resolution",
    category="network",
    severity="high",
    needs=lambda p: {"dns": ProbeCall.make("dns_resolve", host=p["host"], timeout=p["timeout_s"])},
    params=[
        Param("host", "string", "localhost", "name to resolve"),
        Param("warn_ms", "float", 200.0, "warn when resolution takes longer (ms)"),
        Param("timeout_s", "float", 5.0, "give up after (s)"),
    ],
    remediation="Check /etc/resolv.conf nameservers, that they answer (dig @server NAME), and the network "
    "path "
    "to them; for a single name, check its record and any /etc/hosts override.",
    description="fail: the name does not resolve; warn: resolution slower than warn_ms.",
    live=True,
)
def dns_resolve(data: ProbeData, p: dict[str, Any]) -> Outcome:
    d = mapping(data, "dns")
    if not d["ok"]:
        return failed(f"{p['host']} does not resolve: {d['error']}", host=p["host"], error=d["error"])
    evidence = {"host": p["host"], "addresses": d["addresses"][:8], "latency_ms": d["latency_ms"]}
    if d["latency_ms"] > p["warn_ms"]:
        return warned(
            f"{p['host']} resolved in {d['latency_ms']:.0f} ms (> {p['warn_ms']:.0f} ms)", **evidence
        )
    return passed(
        f"{p['host']} resolves to {', '.join(d['addresses'][:3])} in {d['latency_ms']:.0f} ms", **evidence
    )


@check(
    "network.default_route",
    title="Default route",
    category="network",
    severity="high",
    needs={"routes": "routes"},
    remediation="Add a default gateway (ip route add default via GATEWAY) or fix DHCP; check the cable/link.",
    description="fail: no IPv4 or IPv6 default route; pass: at least one, gateways listed.",
)
def default_route(data: ProbeData, p: dict[str, Any]) -> Outcome:
    r = mapping(data, "routes")
    if r["default"]:
        gws = [f"{d['gateway']} via {d['interface']}" for d in r["default"]]
        return passed(f"default route: {', '.join(gws)}", gateways=gws)
    if r.get("ipv6_default"):
        return passed("IPv6 default route present (no IPv4 default)", ipv6_default=True)
    return failed("no default route: only directly connected networks are reachable", routes=len(r["routes"]))


@check(
    "network.tcp_connect",
    title="TCP service reachable",
    category="network",
    severity="high",
    needs=lambda p: {
        "tcp": ProbeCall.make("tcp_connect", host=p["host"], port=p["port"], timeout=p["timeout_s"])
    },
    params=[
        Param("host", "string", description="host name or address"),
        Param("port", "int", description="TCP port"),
        Param("warn_ms", "float", 500.0, "warn when connecting takes longer (ms)"),
        Param("timeout_s", "float", 3.0, "give up after (s)"),
    ],
    remediation="Check the service is running and listening on that port, then firewalls and routes between "
    "here and there (ss -ltnp on the server; nc -vz HOST PORT from here).",
    description="fail: connection refused or timed out; warn: connect slower than warn_ms.",
    live=True,
)
def tcp_connect(data: ProbeData, p: dict[str, Any]) -> Outcome:
    t = mapping(data, "tcp")
    where = f"{p['host']}:{p['port']}"
    if not t["ok"]:
        return failed(
            f"cannot connect to {where}: {t['error']}",
            subject=where,
            error=t["error"],
            latency_ms=t["latency_ms"],
        )
    if t["latency_ms"] > p["warn_ms"]:
        return warned(
            f"{where} connected in {t['latency_ms']:.0f} ms (> {p['warn_ms']:.0f} ms)",
            subject=where,
            latency_ms=t["latency_ms"],
        )
    return passed(
        f"{where} accepts connections ({t['latency_ms']:.1f} ms)", subject=where, latency_ms=t["latency_ms"]
    )


@check(
    "network.interface_up",
    title="Network interface up with an address",
    category="network",
    severity="high",
    needs={"ifs": "interfaces"},
    params=[
        Param(
            "interfaces",
            "list",
            [],
            "interfaces that must be up (default: at least one non-loopback)",
            items="string",
        ),
        Param("require_address", "bool", True, "also require an IPv4/IPv6 address"),
    ],
    remediation="Bring the link up (ip link set IFACE up), check the cable/Wi-Fi association and DHCP "
    "(journalctl -u NetworkManager or dhclient logs); a missing address usually means no DHCP lease.",
    description="With interfaces named: one outcome each, fail when missing or down, warn when up without an "
    "address. Without: fail unless at least one non-loopback interface is up (with an address).",
)
def interface_up(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    ifs = {i["name"]: i for i in rows(data, "ifs")}
    if not p["interfaces"]:
        usable = [
            n
            for n, i in ifs.items()
            if n != "lo" and i["up"] and (i.get("addresses") or not p["require_address"])
        ]
        down = sorted(n for n, i in ifs.items() if n != "lo" and not i["up"])
        if not usable:
            return [
                failed(
                    "no non-loopback interface is up" + (" with an address" if p["require_address"] else ""),
                    interfaces=sorted(ifs),
                    down=down,
                )
            ]
        return [
            passed(
                f"{', '.join(usable[:4])} up with addresses",
                up=usable,
                addresses={n: ifs[n].get("addresses", [])[:4] for n in usable[:4]},
                down=down,
            )
        ]
    out: list[Outcome] = []
    for name in p["interfaces"]:
        i = ifs.get(name)
        if i is None:
            out.append(failed(f"{name}: no such interface", subject=name, known=sorted(ifs)[:20]))
        elif not i["up"]:
            out.append(failed(f"{name} is down", subject=name, mtu=i.get("mtu")))
        elif p["require_address"] and not i.get("addresses"):
            out.append(warned(f"{name} is up but has no IP address", subject=name))
        else:
            out.append(
                passed(
                    f"{name} up, {', '.join(i.get('addresses', [])[:3]) or 'no address'}",
                    subject=name,
                    addresses=i.get("addresses", [])[:6],
                    mtu=i.get("mtu"),
                )
            )
    return out


@check(
    "network.resolver_config",
    title="Resolver configuration sane",
    category="network",
    severity="high",
    needs={"conf": "resolver_config"},
    remediation="Fix /etc/resolv.conf (or the tool that writes it: systemd-resolved, NetworkManager, "
    "resolvconf): list one to three reachable nameservers.",
    description="fail: resolv.conf missing/unreadable or without nameservers; warn: more than three "
    "nameservers (the C library uses only three).",
)
def resolver_config(data: ProbeData, p: dict[str, Any]) -> Outcome:
    c = mapping(data, "conf")
    ev = {"nameservers": c["nameservers"], "search": c["search"][:6], "options": c["options"]}
    if not c["present"]:
        return failed(f"/etc/resolv.conf unreadable: {c['error']}")
    if not c["nameservers"]:
        return failed("no nameserver in /etc/resolv.conf", **ev)
    if len(c["nameservers"]) > 3:
        return warned(f"{len(c['nameservers'])} nameservers listed; only the first 3 are used", **ev)
    return passed(f"nameservers {', '.join(c['nameservers'])}", **ev)


@check(
    "network.nameservers_reachable",
    title="Nameservers answer",
    category="network",
    severity="high",
    needs=lambda p: {
        "ns": ProbeCall.make(
            "nameservers", resolv_conf=p["resolv_conf"], port=p["port"], timeout=p["timeout_s"]
        )
    },
    params=[
        Param("warn_ms", "float", 300.0, "warn when a server answers slower (ms)"),
        Param("resolv_conf", "string", "/etc/resolv.conf", "resolver configuration file"),
        Param("port", "int", 53, "DNS port"),
        Param("timeout_s", "float", 2.0, "seconds per server"),
    ],
    remediation="Remove dead nameservers from the resolver configuration, or restore the path to them "
    "(firewall on UDP/TCP 53, VPN down); test with dig @SERVER . NS.",
    description="One outcome per nameserver in resolv.conf: fail when it does not answer a query, warn when "
    "slower than warn_ms or answering SERVFAIL/REFUSED.",
    live=True,
)
def nameservers_reachable(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    ns = mapping(data, "ns")
    if not ns["present"]:
        return [failed(f"{p['resolv_conf']} unreadable: {ns['error']}")]
    if not ns["servers"]:
        return [failed(f"no nameserver in {p['resolv_conf']}")]
    out = []
    for s in ns["servers"]:
        ev = {"server": s["server"], "latency_ms": s["latency_ms"], "rcode": s["rcode"]}
        if not s["answered"]:
            out.append(failed(f"{s['server']} does not answer: {s['error']}", subject=s["server"], **ev))
        elif s["rcode"] in (2, 5):
            out.append(
                warned(
                    f"{s['server']} answers {'SERVFAIL' if s['rcode'] == 2 else 'REFUSED'}",
                    subject=s["server"],
                    **ev,
                )
            )
        elif s["latency_ms"] > p["warn_ms"]:
            out.append(
                warned(f"{s['server']} answered in {s['latency_ms']:.0f} ms", subject=s["server"], **ev)
            )
        else:
            out.append(
                passed(f"{s['server']} answered in {s['latency_ms']:.0f} ms", subject=s["server"], **ev)
            )
    return out
