"""Security checks: firewall present, sshd hardening, world-writable files, certificate files expiring."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping

SENSITIVE = [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/sudoers",
    "/etc/sudoers.d/*",
    "/etc/ssh/*",
    "/etc/crontab",
    "/etc/cron.d/*",
    "/root",
    "/etc/systemd/system/*",
]
CERT_PATHS = [
    "/etc/ssl/certs/ssl-cert-snakeoil.pem",
    "/etc/letsencrypt/live/*/cert.pem",
    "/etc/pki/tls/certs/*.crt",
    "/etc/nginx/ssl/*.crt",
    "/etc/apache2/ssl/*.crt",
]


@check(
    "security.firewall_rules",
    title="Firewall rules present",
    category="security",
    severity="medium",
    needs={"fw": "firewall_rules"},
    params=[Param("min_rules", "int", 1, "warn when fewer rules are loaded")],
    remediation="Load a rule set (nft -f /etc/nftables.conf, ufw enable, firewall-cmd) that allows only the "
    "services this host offers, and enable it at boot.",
    description="warn when fewer than min_rules rules are loaded and no chain has a drop/reject policy; "
    "skipped when neither nft nor iptables can be read.",
)
def firewall_rules(data: ProbeData, p: dict[str, Any]) -> Outcome:
    fw = mapping(data, "fw")
    closed = {c: v for c, v in fw["policies"].items() if v in ("drop", "reject")}
    ev = {"tool": fw["tool"], "rules": fw["rules"], "chains": fw["chains"], "policies": fw["policies"]}
    if fw["rules"] < p["min_rules"] and not closed:
        return warned(
            f"no firewall rules loaded ({fw['tool']}: {fw['rules']} rules, all policies accept)", **ev
        )
    return passed(
        f"{fw['rules']} {fw['tool']} rules" + (f", default drop on {', '.join(closed)}" if closed else ""),
        **ev,
    )


@check(
    "security.ssh_hardening",
    title="SSH daemon hardening",
    category="security",
    severity="high",
    needs=lambda p: {"sshd": ProbeCall.make("sshd_config", path=p["path"])},
    params=[
        Param("path", "string", "/etc/ssh/sshd_config", "sshd configuration file"),
        Param("allow_password_auth", "bool", False, "accept PasswordAuthentication yes"),
        Param(
            "allow_root_login",
            "string",
            "prohibit-password",
            "most permissive PermitRootLogin accepted",
            choices=("no", "prohibit-password", "yes"),
        ),
    ],
    remediation="In sshd_config set PermitRootLogin no (or prohibit-password), PasswordAuthentication no, "
    "PermitEmptyPasswords no; check with sshd -t and reload sshd. Keep a working session open.",
    description="One outcome per setting: fail on PermitEmptyPasswords yes or root password login beyond "
    "allow_root_login; warn on password authentication when not allowed. Unset keys use "
    "OpenSSH's defaults. Skipped when no sshd_config exists.",
)
def ssh_hardening(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    st = mapping(data, "sshd")["settings"]
    out = []
    order = ["no", "forced-commands-only", "prohibit-password", "yes"]  # least to most permissive
    root = st.get("permitrootlogin", "prohibit-password").lower()
    root = "prohibit-password" if root == "without-password" else root  # the old spelling of the same
    rank = order.index(root) if root in order else len(order)  # unknown values count as the most permissive
    if rank > order.index(p["allow_root_login"]):
        out.append(failed(f"PermitRootLogin {root}", subject="PermitRootLogin", value=root))
    else:
        out.append(passed(f"PermitRootLogin {root}", subject="PermitRootLogin", value=root))
    pw = st.get("passwordauthentication", "yes").lower()
    if pw == "yes" and not p["allow_password_auth"]:
        out.append(
            warned(
                "PasswordAuthentication yes (keys only is safer)", subject="PasswordAuthentication", value=pw
            )
        )
    else:
        out.append(passed(f"PasswordAuthentication {pw}", subject="PasswordAuthentication", value=pw))
    empty = st.get("permitemptypasswords", "no").lower()
    out.append(
        (failed if empty == "yes" else passed)(
            f"PermitEmptyPasswords {empty}", subject="PermitEmptyPasswords", value=empty
        )
    )
    return out


@check(
    "security.world_writable",
    title="World-writable sensitive files",
    category="security",
    severity="high",
    needs=lambda p: {"modes": ProbeCall.make("path_modes", paths=p["paths"], recursive=p["recursive"])},
    params=[
        Param("paths", "list", SENSITIVE, "files, directories or globs to inspect", items="string"),
        Param("recursive", "bool", False, "descend into directories"),
    ],
    remediation="Remove the write bit for others (chmod o-w PATH) and find out what changed it; a world-"
    "writable system file lets any local user take over the machine.",
    description="fail when any inspected file or directory (not symlink, not a sticky directory) is "
    "writable by others; evidence lists up to 20 of them.",
)
def world_writable(data: ProbeData, p: dict[str, Any]) -> Outcome:
    entries = mapping(data, "modes")["entries"]
    bad = [
        f"{e['path']} ({e['mode']})"
        for e in entries
        if e["type"] != "link"
        and int(e["mode"], 8) & 0o002
        and not (e["type"] == "dir" and int(e["mode"], 8) & 0o1000)
    ]
    if bad:
        return failed(
            f"{len(bad)} world-writable: {', '.join(bad[:5])}", paths=bad[:20], inspected=len(entries)
        )
    return passed(f"none of {len(entries)} inspected paths is world-writable", inspected=len(entries))


@check(
    "security.cert_expiry",
    title="Certificate files expiring",
    category="security",
    severity="high",
    needs=lambda p: {"certs": ProbeCall.make("cert_files", paths=p["paths"]), "now": ProbeCall.make("clock")},
    params=[
        Param("paths", "list", CERT_PATHS, "PEM files or globs", items="string"),
        Param("warn_days", "float", 30.0, "warn when a certificate expires within (days)"),
        Param("fail_days", "float", 7.0, "fail when a certificate expires within (days)"),
    ],
    remediation="Renew the certificate (certbot renew, your CA's process), install it and reload the "
    "services "
    "using it; remove files that are no longer used.",
    description="One outcome per certificate file: fail when expired or within fail_days, warn within "
    "warn_days; error when a file is not a readable PEM certificate.",
)
def cert_expiry(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    now = float(mapping(data, "now")["epoch"])
    certs = mapping(data, "certs")["certificates"]
    if not certs:
        return [Outcome(Status.SKIPPED, f"no certificate file matches {', '.join(p['paths'])}")]
    out = []
    for c in certs:
        if c["not_after"] is None:
            out.append(Outcome(Status.ERROR, f"{c['path']}: {c['error']}", {"path": c["path"]}, c["path"]))
            continue
        days = (c["not_after"] - now) / 86400
        ev = {"path": c["path"], "subject": c["subject"], "days_left": round(days, 1)}
        text = f"{c['path']} ({c['subject'] or 'no CN'}) " + (
            f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"
        )
        status = (
            Status.FAIL if days < p["fail_days"] else Status.WARN if days < p["warn_days"] else Status.PASS
        )
        out.append(Outcome(status, text, ev, c["path"]))
    return out
