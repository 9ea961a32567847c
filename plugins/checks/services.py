"""Service checks: processes running, ports listening, systemd units active and not failed."""

from __future__ import annotations

import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, Status, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import rows


@check(
    "services.process_running",
    title="Process running",
    category="software",
    severity="high",
    needs={"procs": "processes"},
    params=[
        Param(
            "names",
            "list",
            description="process names (exact) or command-line regexes with match: cmdline",
            items="string",
        ),
        Param("match", "string", "name", "what to match: name or cmdline", choices=("name", "cmdline")),
        Param("min_count", "int", 1, "fail when fewer processes match"),
    ],
    remediation="Start the service (systemctl start NAME, or its init script) and read its log for why it "
    "stopped; if it crashes at start, check its configuration and recent changes.",
    description="One outcome per expected process: fail when fewer than min_count processes match.",
)
def process_running(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    procs = rows(data, "procs")
    out = []
    for wanted in p["names"]:
        if p["match"] == "name":
            hits = [x for x in procs if x["name"] == wanted]
        else:
            rx = re.compile(wanted)
            hits = [x for x in procs if rx.search(x["cmdline"])]
        pids = sorted(x["pid"] for x in hits)[:10]
        if len(hits) >= p["min_count"]:
            out.append(passed(f"{wanted}: {len(hits)} running", subject=wanted, pids=pids))
        else:
            out.append(
                failed(
                    f"{wanted}: {len(hits)} running, expected at least {p['min_count']}",
                    subject=wanted,
                    pids=pids,
                )
            )
    return out


def _port_matches(sock: dict[str, Any], port: int, proto: str, address: str) -> bool:
    if sock["port"] != port or not sock["proto"].startswith(proto):
        return False
    return not address or sock["address"] in (address, "0.0.0.0", "::")  # noqa: S104 - wildcard binds count


@check(
    "services.port_listening",
    title="Port listening",
    category="software",
    severity="high",
    needs={"socks": "listening_sockets"},
    params=[
        Param("ports", "list", description="ports that must be listening", items="int"),
        Param("proto", "string", "tcp", "tcp or udp", choices=("tcp", "udp")),
        Param("address", "string", "", "address it must be reachable on (wildcard binds count); empty: any"),
    ],
    remediation="Start the service, or fix its listen address/port in its configuration (a service bound to "
    "127.0.0.1 is not reachable from other hosts); ss -ltnp shows who listens where.",
    description="One outcome per port: fail when nothing listens on it (on the address, when given).",
)
def port_listening(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    socks = rows(data, "socks")
    out = []
    for port in p["ports"]:
        hits = [s for s in socks if _port_matches(s, port, p["proto"], p["address"])]
        where = f"{p['proto']}/{port}"
        if hits:
            addrs = sorted({s["address"] for s in hits})
            out.append(passed(f"{where} listening on {', '.join(addrs)}", subject=where, addresses=addrs))
        else:
            others = sorted({s["address"] for s in socks if s["port"] == port})
            extra = f" (only on {', '.join(others)})" if others else ""
            out.append(
                failed(
                    f"nothing listens on {where}{' at ' + p['address'] if p['address'] else ''}{extra}",
                    subject=where,
                    bound_elsewhere=others,
                )
            )
    return out


@check(
    "services.systemd_unit_active",
    title="systemd unit active",
    category="software",
    severity="high",
    needs={"units": "systemd_units"},
    params=[Param("units", "list", description="unit names (nginx or nginx.service)", items="string")],
    remediation="systemctl status UNIT and journalctl -u UNIT -e show why it is not running; start it with "
    "systemctl start UNIT and enable it at boot with systemctl enable UNIT.",
    description="One outcome per unit: fail when failed or not found, warn when inactive or still "
    "activating; skipped where systemd is not the init system.",
)
def systemd_unit_active(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    units = {u["unit"]: u for u in rows(data, "units")}
    out = []
    for name in p["units"]:
        full = name if "." in name else f"{name}.service"
        u = units.get(full)
        if u is None or u["load"] == "not-found":
            out.append(failed(f"{full}: no such unit", subject=full))
        elif u["active"] == "active":
            out.append(passed(f"{full} active ({u['sub']})", subject=full, sub=u["sub"]))
        elif u["active"] == "failed":
            out.append(failed(f"{full} failed ({u['sub']})", subject=full, sub=u["sub"]))
        else:
            out.append(warned(f"{full} {u['active']} ({u['sub']})", subject=full, sub=u["sub"]))
    return out


@check(
    "services.systemd_failed_units",
    title="No failed systemd units",
    category="software",
    severity="medium",
    needs={"units": "systemd_units"},
    params=[
        Param("ignore", "list", [], "unit names to ignore", items="string"),
        Param("fail_count", "int", 3, "fail at this many failed units (fewer: warn)"),
    ],
    remediation="systemctl --failed lists them; read journalctl -u UNIT -b for each, fix and restart, or "
    "systemctl reset-failed UNIT once it is understood.",
    description="warn when any unit is in the failed state, fail at fail_count; skipped without systemd.",
)
def systemd_failed_units(data: ProbeData, p: dict[str, Any]) -> Outcome:
    failed_units = sorted(
        u["unit"] for u in rows(data, "units") if u["active"] == "failed" and u["unit"] not in p["ignore"]
    )
    if not failed_units:
        return passed(f"no failed units among {len(rows(data, 'units'))}", units=len(rows(data, "units")))
    status = Status.FAIL if len(failed_units) >= p["fail_count"] else Status.WARN
    return Outcome(
        status,
        f"{len(failed_units)} failed unit(s): {', '.join(failed_units[:5])}",
        {"failed": failed_units[:20]},
    )
