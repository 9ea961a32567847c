"""Where support teams meet secrets with no key beside them: protocol lines in logs (AUTH PLAIN, FTP PASS,
NickServ), clear-text password schemes, connect calls, `net use`, "the password is X" in notes, Windows answer
files, OpenVPN auth files, rsync and pgbouncer secrets, and tables whose header names a secret column.

Values are invented; each case also has look-alikes that must be kept.
"""

from __future__ import annotations

import base64

import pytest

from medic.agent.redact import Scrubber

pytestmark = pytest.mark.usefixtures("redact_engine")  # the compiled first pass and the pure-Python one alike
PW = "Kx7#mQ2vLp9w"


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@pytest.mark.parametrize(("text", "path"), [
    (f"Dec  7 10:00:01 mx postfix/smtpd[1]: C: AUTH PLAIN {_plain('alice', PW)}\n", "/var/log/mail.log"),
    (f'[pid 2] FTP command: Client "10.0.0.5", "PASS {PW}"\n', "/var/log/vsftpd.log"),
    (f"--> PASS {PW}\n", "/var/log/ftp.log"),
    (f"> PASS {PW}\n", "/home/a/curl-trace.txt"),
    (f"PRIVMSG NickServ :IDENTIFY {PW}\n", "/home/a/irc.log"),
    (f"/msg NickServ IDENTIFY alice {PW}\n", "/home/a/irc.log"),
    (f"alice:{{PLAIN}}{PW}:1000:1000::/home/alice::\n", "/etc/dovecot/users"),
    (f"userPassword: {{CLEARTEXT}}{PW}\n", "/tmp/export.ldif"),
    (f'conn = DriverManager.getConnection(url, "sa", "{PW}");\n', "/srv/Main.java"),
    (f"$link = mysqli_connect('db', 'app', '{PW}', 'shop');\n", "/srv/db.php"),
    (f"$db = new PDO($dsn, $user, '{PW}');\n", "/srv/db.php"),
    (f"ldap_bind($ds, 'cn=admin,dc=example,dc=org', \"{PW}\");\n", "/srv/ldap.php"),
    (f"net use Z: \\\\nas\\share {PW} /user:alice\n", "/srv/logon.bat"),
    (f"NET USE \\\\nas\\backup /user:corp\\svc {PW}\n", "/srv/logon.bat"),
    (f"The wifi password is {PW} and the door code is 4417.\n", "/home/a/notes.txt"),
    (f"new PIN was '{PW}'.\n", "/home/a/ticket.txt"),
    (f"<AdministratorPassword>\n    <Value>{PW}</Value>\n    <PlainText>true</PlainText>\n</AdministratorPassword>\n",
     "/srv/unattend.xml"),
    (f"<Password><Value>{PW}</Value><PlainText>true</PlainText></Password>\n", "/srv/autounattend.xml"),
    (f"vpnuser\n{PW}\n", "/etc/openvpn/auth.txt"),
    (f"vpnuser\n{PW}", "/etc/openvpn/client/login.creds"),
    (f"backup:{PW}\n", "/etc/rsyncd.secrets"),
    (f'"app" "{PW}"\n', "/etc/pgbouncer/userlist.txt"),
    (f"| host | user | password |\n|---|---|---|\n| db1 | root | {PW} |\n", "/home/a/hosts.md"),
    (f"Host | Login | Pwd\n:--- | :--- | :---\nweb1 | admin | {PW}\n", "/home/a/hand-over.md"),
    (f"host,user,password,enabled\ndb1,root,{PW},true\n", "/home/a/inventory.csv"),
    (f'name;"API Key"\nsvc;"{PW}"\n', "/home/a/keys.csv"),
    (f"host\tsecret\nweb\t{PW}\n", "/home/a/keys.tsv"),
    (f"I changed my password to {PW} yesterday.\n", "/home/a/ticket.txt"),
    # network devices' saved configurations
    (f"username ops password 7 {PW}\n", "/srv/backup/sw01.cfg"),
    (f"username admin privilege 15 secret 9 $9$abcdEFGH1234ij$/{PW}\n", "/srv/backup/sw01.cfg"),
    (f"enable secret 5 {PW}\n", "/srv/backup/sw01.cfg"), (f"tacacs-server key 7 {PW}\n", "/srv/backup/sw01.cfg"),
    (f"radius-server key {PW}\n", "/srv/backup/sw01.cfg"), (f"snmp-server community {PW} RO\n", "/srv/backup/sw.cfg"),
    (f"crypto isakmp key {PW} address 203.0.113.9\n", "/srv/backup/asa.cfg"),
    (f" ikev1 pre-shared-key {PW}\n", "/srv/backup/asa.cfg"),
    (f"/interface wireless security-profiles set default wpa2-pre-shared-key={PW}\n", "/srv/backup/mt.rsc"),
    (f"        set password ENC {PW}\n", "/srv/backup/fortigate.conf"),
    (f"  stats auth admin:{PW}\n", "/etc/haproxy/haproxy.cfg"),
    (f"  user alice insecure-password {PW} groups ops\n", "/etc/haproxy/haproxy.cfg"),
    (f"cache_peer p.example.org parent 3128 0 no-query login=alice:{PW}\n", "/etc/squid/squid.conf"),
    (f"wpa_passphrase home '{PW}' > /etc/wpa.conf\n", "/home/a/.bash_history"),
    (f"iwconfig wlan0 essid home key s:{PW}\n", "/home/a/.bash_history"),
    (f"openconnect --user alice --passwd-on-stdin vpn.example.org <<< '{PW}'\n", "/home/a/.bash_history"),
    (f"Name: mysql-server/root_password\nValue: {PW}\n", "/var/cache/debconf/passwords.dat"),
    (f"$config['smtp_pass'] = '{PW}';\n", "/srv/app/config.php"),
    (f"$db['default']['password'] = \"{PW}\";\n", "/srv/app/database.php"),
    (f"os.environ[\"DB_PASSWORD\"] = \"{PW}\"\n", "/srv/app/settings.py"),
    (f'<property name="hibernate.connection.password">{PW}</property>\n', "/srv/app/hibernate.cfg.xml"),
    (f'<entry key="db.password"> {PW} </entry>\n', "/srv/app/beans.xml"),
    (f"Work accounts:\ngmail: {PW}\nbank - {PW}x\n", "/home/a/Desktop/passwords.txt"),
    (f"wifi_key: {PW}\n", "/config/secrets.yaml"),
])
def test_the_secret_is_removed(text: str, path: str) -> None:
    out = Scrubber().scrub_text(text, path=path)
    assert PW not in out and _plain("alice", PW) not in out
    assert "[REDACTED:" in out


@pytest.mark.parametrize(("text", "path"), [
    ("AUTH PLAIN\n", "/var/log/mail.log"),  # the client sends the credentials on the next line
    ("PASS  src/app.test.js (5.2 s)\n", "/var/log/ci.log"),  # jest: two blanks after PASS
    ("--- PASS: TestLogin (0.00s)\n", "/var/log/ci.log"),
    ("PASS\n", "/var/log/ci.log"),
    ("the password is incorrect\n", "/home/a/notes.txt"),
    ("Your password was changed.\n", "/var/log/auth.log"),
    ("the password is ${DB_PASSWORD}\n", "/home/a/notes.txt"),
    ("ping 10.0.0.1 is fine\n", "/home/a/notes.txt"),
    ('conn = DriverManager.getConnection(url, user, password);\n', "/srv/Main.java"),  # variables, not values
    ("net use Z: \\\\nas\\share /persistent:yes\n", "/srv/logon.bat"),
    ("net use Z: \\\\nas\\share * /user:alice\n", "/srv/logon.bat"),  # `*`: asks for it
    ("<Username>\n  <Value>alice</Value>\n</Username>\n", "/srv/unattend.xml"),
    ("port 1194\nproto udp\n", "/etc/openvpn/server.conf"),
    ("| host | user | role |\n|---|---|---|\n| db1 | root | primary |\n", "/home/a/hosts.md"),
    ("| host | password |\n|---|---|\n| db1 | ${DB1_PASSWORD} |\n| db2 | **** |\n", "/home/a/hosts.md"),
    ("a | b\nno delimiter row | password\n", "/home/a/x.md"),
    ("host,user,role\ndb1,root,primary\n", "/home/a/inventory.csv"),
    ("host,password\ndb1,password\n", "/home/a/inventory.txt"),  # not a CSV by its name: the key rules' say
    ("interface Gi0/1\n description uplink 5 to core\n speed 1000\n", "/srv/backup/sw01.cfg"),
    ("set hostname fw01\nset timezone 26\n", "/srv/backup/fortigate.conf"),
    ("listen stats\n  bind :8404\n  stats uri /stats\n", "/etc/haproxy/haproxy.cfg"),
    ("cache_peer p.example.org parent 3128 0 no-query login=PASSTHRU\n", "/etc/squid/squid.conf"),
    ('<property name="password.length">12</property>\n<property name="user">app</property>\n', "/srv/h.xml"),
    ('<property name="db.password">${DB_PW}</property>\n', "/srv/h.xml"),
    ("$config['base_url'] = 'https://example.org';\n", "/srv/app/config.php"),
    ("apiVersion: v1\nkind: Secret\n", "/srv/k8s/secrets.yaml"),
    ("Work accounts:\n# comment\n", "/home/a/passwords.txt"),
    ("build 123456-234567-345678-456789-567890-678901-789012-890123\n", "/var/log/ci.log"),  # no "recovery" here
    ("set key operation that lack one step\n", "/usr/share/doc/nettle/nettle.html"),  # prose, not FortiOS
    ('but "git add -u :/" would add\n', "/usr/share/doc/git/RelNotes/1.7.6.txt"),
    ('printf("Password is %s\\n");\n', "/srv/a.c"), ("the default password is C<password>.\n", "/srv/a.pod"),
    ("| Op | generateKey | Secret |\n|---|---|---|\n| RSA | x | used to sign things |\n", "/srv/doc.md"),
])
def test_look_alikes_are_kept(text: str, path: str) -> None:
    assert Scrubber().scrub_text(text, path=path) == text


H = "/home/a/.bash_history"


@pytest.mark.parametrize("line", [
    "docker login -u alice -p {s} registry.example.org", "podman login -p '{s}' quay.example.org",
    "az login -u alice@example.org -p {s}",
    "7z a -p{s} backup.7z /srv", "unrar x -p{s} a.rar", "zip -P {s} -r backup.zip /srv", "unzip -P '{s}' b.zip",
    "sqlplus system/{s}@ORCL", "sqlplus -s scott/{s}", "expdp userid=system/{s}@db schemas=app",
    "xfreerdp /u:alice /p:{s} /v:10.0.0.9", "rdesktop -u alice -p {s} 10.0.0.9",
    "ipmitool -I lanplus -H 10.0.0.8 -U admin -P {s} power status", "racadm -r idrac -u root -p {s} getsysinfo",
    "mosquitto_pub -h broker -u alice -P {s} -t x -m y", "psexec \\\\srv01 -u corp\\admin -p {s} cmd",
    "ssh-keygen -t ed25519 -N '{s}' -f key", "ssh-keygen -p -P {s} -N {s} -f key",
    "snmpwalk -v3 -u admin -l authPriv -a SHA -A {s} -x AES -X {s} 10.0.0.1",
    "rabbitmqctl add_user alice {s}", "rabbitmqctl change_password alice '{s}'",
    "schtasks /create /tn backup /tr b.bat /ru corp\\svc /rp {s}", "lftp -u alice,{s} sftp://files",
    "echo {s} | sudo -S systemctl restart app", "echo 'alice:{s}' | chpasswd", "printf '%s' | x; echo {s} | kinit",
    "keytool -importkeystore -srcstorepass {s} -deststorepass {s}",
    '1:M 07 Dec 10:00:01 "AUTH" "{s}"', "client sent: AUTH alice {s}", "WIFI:S:home;T:WPA;P:{s};;",
    "smtp.login('alice@example.org', '{s}')", "conn.simple_bind_s('cn=admin,dc=x', \"{s}\")",
])
def test_client_options_and_arguments(line: str) -> None:
    text = line.format(s=PW) + "\n"
    assert PW not in Scrubber().scrub_text(text, path=H)


@pytest.mark.parametrize("line", [
    "snmpd -A -Lf /var/log/snmpd.log", "zip -r backup.zip /srv", "7z x archive.7z -o/tmp",
    "docker login -u alice --password-stdin registry.example.org", "docker run -p 8080:80 nginx",
    "rabbitmqctl list_users", "AUTH failed for alice", "250 AUTH OK", "ssh-keygen -N '' -f key",
    "sqlplus / as sysdba", "sqlplus /nolog", "psexec \\\\srv01 -s cmd",
    "ipmitool -I lanplus -H 10.0.0.8 -U admin -E power status", "az login --identity",
    "WIFI:S:home;T:nopass;;", "keytool -list -keystore app.jks", "echo done | tee -a log",
    "mosquitto_sub -h broker -p 1883 -t x",
    "docker login -u alice --password-stdin r.example.org && docker run -p 8080:80 nginx",  # another command
])
def test_client_look_alikes_are_kept(line: str) -> None:
    assert Scrubber().scrub_text(line + "\n", path=H) == line + "\n"


def test_a_bitlocker_recovery_key_in_a_text_that_names_it() -> None:
    key = "-".join(f"{n:06d}" for n in (402259, 113300, 608476, 320914, 575091, 183744, 694771, 218350))
    out = Scrubber().scrub_text(f"Hi, BitLocker asks for the recovery key, it is\n{key}\n", path="/home/a/t.txt")
    assert key not in out and "[REDACTED:recovery_key#1]" in out


def test_table_cells_keep_the_table_and_get_the_same_number_for_the_same_value() -> None:
    text = f"| host | password |\n|------|----------|\n| db1  | {PW} |\n| db2  | {PW} |\n"
    out = Scrubber().scrub_text(text, path="/home/a/hosts.md")
    assert out == ("| host | password |\n|------|----------|\n| db1  | [REDACTED:password#1] |\n"
                   "| db2  | [REDACTED:password#1] |\n")


def test_a_quoted_csv_cell_is_removed_whole_and_the_row_still_parses() -> None:
    import csv
    import io
    text = f'host,password,note\ndb1,"{PW},""x""",ok\n'
    out = Scrubber().scrub_text(text, path="/srv/a.csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == "db1" and rows[1][2] == "ok" and rows[1][1].startswith("[REDACTED:password")


# Sized so that a quadratic (or worse) pass over one line would take minutes: each must finish in seconds.
PATHOLOGICAL = {
    "repeat-class-name": ("password = Ab" + "1" * 60_000 + "!\n", ""),
    "auth": ("AUTH " + "a" * 100_000 + "\n", ""),
    "prose": ("The password is " + "A1" * 50_000 + "\n", ""),
    "pipes": ("| password |\n|---|\n" + "|" * 100_000 + "\n", ""),
    "csv-quotes": ("password\n" + '"' * 100_001 + "\n", "/x/a.csv"),
    "docker": ("docker login" + " -p" * 30_000 + "\n", ""),
    "sqlplus": ("sqlplus a/" + "@" * 100_000 + "\n", ""),
    "echo": ("echo " + "x" * 100_000 + " |\n", ""),
    "wifi": ("WIFI:" + "\\;" * 50_000 + "\n", ""),
    "login-call": ("smtp.login(" + "a," * 50_000 + "\n", ""),
    "connect-call": ("getConnection(" + "'a'," * 30_000 + "\n", ""),
    "net-use": ("net use \\\\x " * 20_000 + "\n", ""),
    "openvpn": ("u\n" + "x" * 200_000, "/etc/openvpn/auth.txt"),
}


@pytest.mark.parametrize(("text", "path"), PATHOLOGICAL.values(), ids=list(PATHOLOGICAL))
def test_pathological_input_stays_fast(text: str, path: str) -> None:
    import time

    started = time.perf_counter()
    Scrubber().scrub_text(text, path=path)
    assert time.perf_counter() - started < 30  # bounds a hang (catastrophic backtracking), not a speed
