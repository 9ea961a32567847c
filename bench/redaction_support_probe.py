# ruff: noqa: E501  (a table of cases, one format a line)
"""Secrets in the formats support teams meet on machines, one line or file each: service files, protocol lines in
logs, client command lines, notes and tickets, tables (issue 17; a probe written after the public corpora).

    .venv/bin/python bench/redaction_support_probe.py [--seed N] [--probe 1|2]

Each case is scrubbed alone, as one file of a bundle, with the path it would have; a secret counts as removed when
no 8 characters of it are left. Values are random for every seed; the formats are fixed. Prints the misses and
"removed N/M" per probe. Probe 1 (90 formats) and probe 2 (78 formats) were written before the rules that now
remove them (session 17): 96/111 and 50/84 at that time.
"""

from __future__ import annotations

import argparse
import base64
import random
import string

from medic.agent.redact import Scrubber, scan_text


def _probe(number: int, rnd: random.Random) -> list[tuple[str, str, tuple[str, ...]]]:
    def pw(n: int = 14) -> str:
        a = string.ascii_letters + string.digits
        s = [rnd.choice(string.ascii_lowercase), rnd.choice(string.ascii_uppercase), rnd.choice(string.digits)]
        s += [rnd.choice(a + "!@#%^*-_") for _ in range(n - 3)]
        rnd.shuffle(s)
        return "".join(s)

    def tok(n: int = 40, a: str = string.ascii_letters + string.digits) -> str:
        return "".join(rnd.choice(a) for _ in range(n))

    cases: list[tuple[str, str, tuple[str, ...]]] = []

    def c(path: str, tmpl: str, *secrets: str) -> None:
        cases.append((path, tmpl, secrets))

    if number == 1:
        P = [pw() for _ in range(80)]
        c("/etc/openvpn/auth.txt", "vpnuser\n{0}\n", P[0])
        c("/etc/ppp/chap-secrets", "# client server secret IP addresses\nalice * {0} *\n", P[1])
        c("/etc/ppp/pap-secrets", "bob\tmyisp\t\"{0}\"\n", P[2])
        c("/etc/ipsec.secrets", ": PSK \"{0}\"\n10.0.0.1 10.0.0.2 : PSK '{1}'\n", P[3], P[4])
        c("/etc/davfs2/secrets", "https://dav.example.org/remote.php/webdav alice {0}\n", P[5])
        c("/home/a/.fetchmailrc", "poll mail.example.org protocol imap user 'alice' password '{0}'\n", P[6])
        c("/home/a/.muttrc", "set imap_pass=\"{0}\"\nset smtp_pass = '{1}'\n", P[7], P[8])
        c("/home/a/.msmtprc", "account default\nhost smtp.example.org\nuser alice\npassword {0}\n", P[9])
        c("/var/lib/cloud/instance/user-data.txt", "#cloud-config\nchpasswd:\n  list: |\n    root:{0}\n    ubuntu:{1}\n  expire: False\n", P[10], P[11])
        c("/var/log/mail.log", "Dec  7 10:00:01 mx postfix/smtpd[123]: AUTH PLAIN {0}\n", base64.b64encode(b"\0alice\0" + P[12].encode()).decode())
        c("/var/log/vsftpd.log", "Mon Dec  7 10:00:01 2026 [pid 2] FTP command: Client \"10.0.0.5\", \"PASS {0}\"\n", P[13])
        c("/var/log/irc.log", "PRIVMSG NickServ :IDENTIFY {0}\n", P[14])
        c("/var/lib/jenkins/credentials.xml", "<password>{{{0}}}</password>\n", "AQAAABAAAAAQ" + tok(44, string.ascii_letters + string.digits + "+/"))
        c("/etc/tomcat9/tomcat-users.xml", "<user username=\"admin\" password=\"{0}\" roles=\"manager-gui\"/>\n", P[15])
        c("/home/a/.pgpass", "db.example.org:5432:*:app:{0}\n", P[16])
        c("/home/a/.git-credentials", "https://alice:{0}@github.com\n", "ghp_" + tok(36))
        c("/home/a/.npmrc", "//registry.npmjs.org/:_authToken={0}\n", "npm_" + tok(36))
        c("/home/a/.config/pip/pip.conf", "[global]\nindex-url = https://alice:{0}@pypi.example.org/simple\n", P[17])
        c("/home/a/.pypirc", "[pypi]\nusername = __token__\npassword = {0}\n", "pypi-AgEIcHlwaS5vcmc" + tok(60, string.ascii_letters + string.digits + "-_"))
        c("/home/a/.m2/settings.xml", "<server>\n  <id>nexus</id>\n  <username>deploy</username>\n  <password>{0}</password>\n</server>\n", P[18])
        c("/home/a/.gradle/gradle.properties", "signing.password={0}\nnexusPassword={1}\n", P[19], P[20])
        c("/home/a/.config/rclone/rclone.conf", "[remote]\ntype = sftp\nuser = alice\npass = {0}\n", tok(40, string.ascii_letters + string.digits + "-_"))
        c("/home/a/.s3cfg", "[default]\naccess_key = AKIA{0}\nsecret_key = {1}\n", tok(16, string.ascii_uppercase + "234567"), tok(40, string.ascii_letters + string.digits + "+/"))
        c("/etc/fstab", "//nas/share /mnt/share cifs username=alice,password={0},uid=1000 0 0\n", P[21])
        c("/home/a/.smbcredentials", "username=alice\npassword={0}\ndomain=WORKGROUP\n", P[22])
        c("/etc/systemd/system/app.service", "[Service]\nEnvironment=\"DB_PASS={0}\" \"MODE=prod\"\nExecStart=/usr/bin/app\n", P[23])
        c("/var/spool/cron/crontabs/root", "0 2 * * * mysqldump -uroot -p{0} --all-databases > /backup/all.sql\n", P[24])
        c("/var/log/ps.txt", "root 1234 0.0 0.1 java -Djavax.net.ssl.keyStorePassword={0} -jar app.jar\n", P[25])
        c("/var/log/ps2.txt", "app 99 0.0 0.1 /usr/bin/python3 worker.py --db-password {0} --verbose\n", P[26])
        c("/var/log/nginx/access.log", "10.0.0.1 - - [07/Dec/2026:10:00:00 +0000] \"GET /api/v1/items?access_token={0}&page=2 HTTP/1.1\" 200 512\n", tok(40))
        c("/var/log/app/http.log", "Cookie: sessionid={0}; csrftoken={1}\n", tok(32, string.ascii_lowercase + string.digits), tok(64))
        c("/var/log/app/http2.log", "Set-Cookie: JSESSIONID={0}; Path=/; HttpOnly\n", tok(32, "0123456789ABCDEF"))
        c("/etc/wpa_supplicant/wpa_supplicant.conf", "network={{\n  ssid=\"home\"\n  psk=\"{0}\"\n}}\n", P[27])
        c("/etc/NetworkManager/system-connections/home.nmconnection", "[wifi-security]\nkey-mgmt=wpa-psk\npsk={0}\n", P[28])
        c("/home/a/.docker/config.json", "{{\n  \"auths\": {{\n    \"registry.example.org\": {{\n      \"auth\": \"{0}\"\n    }}\n  }}\n}}\n", base64.b64encode(b"alice:" + P[29].encode()).decode())
        c("/home/a/.kube/config", "users:\n- name: admin\n  user:\n    token: {0}\n", tok(60, string.ascii_letters + string.digits + "._-"))
        c("/etc/sssd/sssd.conf", "[domain/example]\nldap_default_bind_dn = cn=svc,dc=example,dc=org\nldap_default_authtok = {0}\n", P[30])
        c("/etc/postfix/sasl_passwd", "[smtp.example.org]:587 alice@example.org:{0}\n", P[31])
        c("/etc/mysql/debian.cnf", "[client]\nhost = localhost\nuser = debian-sys-maint\npassword = {0}\n", P[32])
        c("/var/www/html/wp-config.php", "define( 'DB_PASSWORD', '{0}' );\ndefine('AUTH_KEY', '{1}');\n", P[33], tok(64, string.ascii_letters + string.digits + "!@#%^&*()-_[]{}<>~+=,.;:/?|"))
        c("/srv/app/.env", "SECRET_KEY_BASE={0}\nSTRIPE_SECRET_KEY=sk_live_{1}\n", tok(128, "0123456789abcdef"), tok(24))
        c("/srv/app/config/database.yml", "production:\n  adapter: postgresql\n  password: <%= ENV['DB_PASSWORD'] %>\n  username: app\n  password_old: {0}\n", P[34])
        c("/srv/app/appsettings.json", "{{\n  \"ConnectionStrings\": {{\n    \"Default\": \"Server=db;Database=app;User Id=sa;Password={0};\"\n  }}\n}}\n", P[35])
        c("/srv/app/web.config", "<add key=\"SmtpPassword\" value=\"{0}\" />\n", P[36])
        c("/srv/app/application.properties", "spring.datasource.password={0}\nspring.mail.password = {1}\n", P[37], P[38])
        c("/var/log/syslog", "Dec  7 10:00:01 host app[1]: connecting with user=alice password={0} to db\n", P[39])
        c("/var/log/syslog2", "Dec  7 10:00:01 host app[1]: login failed for alice (password '{0}' rejected)\n", P[40])
        c("/var/log/app.json", "{{\"level\":\"info\",\"msg\":\"login\",\"user\":\"alice\",\"passwd\":\"{0}\"}}\n", P[41])
        c("/home/a/.bash_history", "export GITHUB_TOKEN={0}\nsshpass -p '{1}' ssh root@10.0.0.9\nmysql -u root -p{2} app\n", "ghp_" + tok(36), P[42], P[43])
        c("/home/a/.bash_history2", "curl -H \"X-Api-Key: {0}\" https://api.example.org/v1\n", tok(32))
        c("/home/a/.bash_history3", "psql \"postgresql://app:{0}@db/app\"\nredis-cli -a {1} ping\n", P[44], P[45])
        c("/etc/nginx/htpasswd", "alice:$apr1$abcdefgh${0}\n", tok(22, string.ascii_letters + string.digits + "./"))
        c("/etc/shadow", "alice:$6$saltsalt${0}:19000:0:99999:7:::\n", tok(86, string.ascii_letters + string.digits + "./"))
        c("/etc/ldap/slapd.conf", "rootpw {{SSHA}}{0}\n", tok(32, string.ascii_letters + string.digits + "+/"))
        c("/etc/ansible/hosts", "web1 ansible_host=10.0.0.5 ansible_user=root ansible_password={0} ansible_become_pass={1}\n", P[46], P[47])
        c("/etc/openldap/ldap.conf", "BINDPW {0}\n", P[48])
        c("/etc/grafana/grafana.ini", "[security]\nadmin_password = {0}\nsecret_key = {1}\n", P[49], tok(20))
        c("/etc/redis/redis.conf", "requirepass {0}\nmasterauth {1}\n", P[50], P[51])
        c("/etc/zabbix/zabbix_server.conf", "DBPassword={0}\n", P[52])
        c("/etc/snmp/snmpd.conf", "rocommunity {0} 10.0.0.0/8\ncreateUser admin SHA \"{1}\" AES \"{2}\"\n", P[53], P[54], P[55])
        c("/etc/freeradius/clients.conf", "client lan {{\n  ipaddr = 10.0.0.0/8\n  secret = {0}\n}}\n", P[56])
        c("/etc/keepalived/keepalived.conf", "authentication {{\n  auth_type PASS\n  auth_pass {0}\n}}\n", pw(8))
        c("/etc/rsyncd.secrets", "backup:{0}\n", P[57])
        c("/etc/exim4/passwd.client", "*.example.org:alice:{0}\n", P[58])
        c("/etc/dovecot/users", "alice:{{PLAIN}}{0}:1000:1000::/home/alice::\n", P[59])
        c("/etc/pgbouncer/userlist.txt", "\"app\" \"{0}\"\n", P[60])
        c("/var/log/teamcity.log", "[2026-12-07 10:00:01] DEBUG - using token={0}\n", tok(40))
        c("/etc/docker/daemon.json", "{{\"registry-mirrors\": [], \"auths\": {{}}, \"pass\": \"{0}\"}}\n", P[61])
        c("/home/a/.netrc", "machine api.heroku.com\n  login alice@example.org\n  password {0}\n", tok(36, "0123456789abcdef-"))
        c("/home/a/.aws/credentials", "[default]\naws_access_key_id = AKIA{0}\naws_secret_access_key = {1}\naws_session_token = {2}\n", tok(16, string.ascii_uppercase + "234567"), tok(40, string.ascii_letters + string.digits + "+/"), "IQoJb3JpZ2luX2Vj" + tok(200, string.ascii_letters + string.digits + "+/"))
        c("/home/a/.azure/config", "[storage]\nconnection_string = DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={0};EndpointSuffix=core.windows.net\n", tok(86, string.ascii_letters + string.digits + "+/") + "==")
        c("/home/a/.config/gh/hosts.yml", "github.com:\n    oauth_token: {0}\n    user: alice\n", "gho_" + tok(36))
        c("/home/a/.terraformrc", "credentials \"app.terraform.io\" {{\n  token = \"{0}\"\n}}\n", tok(14) + ".atlasv1." + tok(67))
        c("/var/log/app/trace.log", "Authorization: Basic {0}\n", base64.b64encode(b"alice:" + P[62].encode()).decode())
        c("/var/log/app/trace2.log", "headers={{'Authorization': 'Token {0}'}}\n", tok(40, "0123456789abcdef"))
        c("/home/a/notes.txt", "The wifi password is {0} and the alarm code is 4417.\n", P[63])
        c("/home/a/notes2.txt", "admin / {0}\n", P[64])
        c("/home/a/notes3.md", "| host | user | password |\n|---|---|---|\n| db1 | root | {0} |\n", P[65])
        c("/srv/app/settings.py", "DATABASES = {{'default': {{'PASSWORD': '{0}'}}}}\nSECRET_KEY = '{1}'\n", P[66], tok(50, string.ascii_letters + string.digits + "!@#$%^&*(-_=+)"))
        c("/srv/app/config.go", "const dbPassword = \"{0}\"\n", P[67])
        c("/srv/app/Main.java", "String password = \"{0}\";\nconn = DriverManager.getConnection(url, \"sa\", \"{1}\");\n", P[68], P[69])
        c("/srv/app/index.js", "const client = new Client({{ user: 'app', password: '{0}' }});\n", P[70])
        c("/srv/app/deploy.ps1", "$secpasswd = ConvertTo-SecureString \"{0}\" -AsPlainText -Force\n", P[71])
        c("/srv/app/unattend.xml", "<AdministratorPassword>\n  <Value>{0}</Value>\n  <PlainText>true</PlainText>\n</AdministratorPassword>\n", P[72])
        c("/srv/app/run.bat", "net use Z: \\\\nas\\share {0} /user:alice\n", P[73])
        c("/srv/app/docker-compose.yml", "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={0}\n      - MYSQL_ROOT_PASSWORD: {1}\n", P[74], P[75])
        c("/var/log/kern.log", "Dec 7 10:00 host kernel: wireguard: PrivateKey = {0}\n", tok(43, string.ascii_letters + string.digits + "+/") + "=")
        c("/etc/wireguard/wg0.conf", "[Interface]\nPrivateKey = {0}\n[Peer]\nPresharedKey = {1}\n", tok(43, string.ascii_letters + string.digits + "+/") + "=", tok(43, string.ascii_letters + string.digits + "+/") + "=")
    else:
        P = [pw() for _ in range(80)]
        H = "/home/a/.bash_history"
        c(H, "docker login -u alice -p {0} registry.example.org\n", P[0])
        c(H, "docker run -d -e MYSQL_ROOT_PASSWORD={0} mysql:8\n", P[1])
        c(H, "git clone https://alice:{0}@git.example.org/team/app.git\n", P[2])
        c(H, "az login -u alice@example.org -p {0}\n", P[3])
        c(H, "aws configure set aws_secret_access_key {0}\n", tok(40, string.ascii_letters + string.digits + "+/"))
        c(H, "kubectl create secret generic db --from-literal=password={0}\n", P[4])
        c(H, "helm install db bitnami/postgresql --set auth.postgresPassword={0}\n", P[5])
        c(H, "openssl enc -aes-256-cbc -pass pass:{0} -in a -out b\n", P[6])
        c(H, "7z a -p{0} backup.7z /srv\n", P[7])
        c(H, "zip -P {0} -r backup.zip /srv\n", P[8])
        c(H, "unzip -P {0} backup.zip\n", P[9])
        c(H, "sqlplus system/{0}@ORCL\n", P[10])
        c(H, "mysqladmin -uroot -p{0} status\n", P[11])
        c(H, "PGPASSWORD={0} pg_dump -h db -U app app > app.sql\n", P[12])
        c(H, "wget --http-user=alice --http-password={0} https://files.example.org/x\n", P[13])
        c(H, "curl -d \"username=alice&password={0}\" https://example.org/login\n", P[14])
        c(H, "curl -X POST -H 'Content-Type: application/json' -d '{{\"user\":\"alice\",\"password\":\"{0}\"}}' https://example.org/api\n", P[15])
        c(H, "xfreerdp /u:alice /p:{0} /v:10.0.0.9\n", P[16])
        c(H, "rdesktop -u alice -p {0} 10.0.0.9\n", P[17])
        c(H, "smbclient //nas/share -U alice%{0}\n", P[18])
        c(H, "keytool -importkeystore -srcstorepass {0} -deststorepass {1}\n", P[19], P[20])
        c(H, "ssh-keygen -t ed25519 -N '{0}' -f key\n", P[21])
        c(H, "mount -t cifs //nas/share /mnt -o username=alice,password={0}\n", P[22])
        c(H, "ipmitool -I lanplus -H 10.0.0.8 -U admin -P {0} power status\n", P[23])
        c(H, "snmpwalk -v3 -u admin -l authPriv -a SHA -A {0} -x AES -X {1} 10.0.0.1\n", P[24], P[25])
        c(H, "mosquitto_pub -h broker -u alice -P {0} -t x -m y\n", P[26])
        c(H, "rabbitmqctl add_user alice {0}\n", P[27])
        c(H, "rabbitmqctl change_password alice {0}\n", P[28])
        c(H, "echo {0} | sudo -S systemctl restart app\n", P[29])
        c(H, "echo \"alice:{0}\" | chpasswd\n", P[30])
        c(H, "useradd -m -p '{0}' alice\n", "$6$" + tok(8) + "$" + tok(86, string.ascii_letters + string.digits + "./"))
        c(H, "vault login {0}\n", "hvs." + tok(90, string.ascii_letters + string.digits + "_-"))
        c(H, "vault write auth/userpass/users/alice password={0}\n", P[31])
        c(H, "cmdkey /add:fileserver /user:corp\\alice /pass:{0}\n", P[32])
        c(H, "schtasks /create /tn backup /tr backup.bat /ru corp\\svc /rp {0}\n", P[33])
        c(H, "sc config app obj= corp\\svc password= {0}\n", P[34])
        c(H, "psexec \\\\srv01 -u corp\\admin -p {0} cmd\n", P[35])
        c(H, "x11vnc -passwd {0} -display :0\n", P[36])
        c(H, "htpasswd -bc /etc/nginx/.htpasswd alice {0}\n", P[37])
        c(H, "net user alice {0} /add\n", P[38])
        c(H, "$cred = New-Object System.Management.Automation.PSCredential(\"alice\", (ConvertTo-SecureString \"{0}\" -AsPlainText -Force))\n", P[39])
        c(H, "Invoke-RestMethod -Uri $u -Headers @{{Authorization=\"Bearer {0}\"}}\n", tok(48))
        c("/var/log/redis/redis.log", "1:M 07 Dec 10:00:01.000 * client 10.0.0.5 sent: AUTH {0}\n", P[40])
        c("/var/log/cowrie/cowrie.log", "2026-12-07T10:00:01 login attempt [root/{0}] failed\n", P[41])
        c("/var/log/app/app.log", "2026-12-07 10:00:01 INFO Connecting with User=alice;Password={0};Host=db\n", P[42])
        c("/var/log/jupyter.log", "    http://127.0.0.1:8888/lab?token={0}\n", tok(48, "0123456789abcdef"))
        c("/srv/app/.env", "export ADMIN_PASSWORD='{0}'\n", P[43])
        c("/srv/app/grafana.env", "GF_SECURITY_ADMIN_PASSWORD={0}\n", P[44])
        c("/home/a/wifi.txt", "WIFI:S:home;T:WPA;P:{0};;\n", P[45])
        c("/srv/sa.json", "{{\n  \"type\": \"service_account\",\n  \"private_key_id\": \"{0}\",\n  \"client_email\": \"x@p.iam.gserviceaccount.com\"\n}}\n", tok(40, "0123456789abcdef"))
        c("/srv/sp.json", "{{\n  \"appId\": \"7f1c0a8e-1111-2222-3333-444455556666\",\n  \"password\": \"{0}\",\n  \"tenant\": \"x\"\n}}\n", tok(34, string.ascii_letters + string.digits + "~._-"))
        c("/etc/ansible/group_vars/all.yml", "ansible_become_password: {0}\nvault_db_password: \"{1}\"\n", P[46], P[47])
        c("/etc/nagios/resource.cfg", "$USER3$={0}\n", P[48])
        c("/etc/bacula/bacula-dir.conf", "Director {{\n  Name = dir\n  Password = \"{0}\"\n}}\n", P[49])
        c("/etc/nut/upsd.users", "[monuser]\n  password = {0}\n  upsmon master\n", P[50])
        c("/etc/mosquitto/passwd", "alice:$7$101${0}\n", tok(88, string.ascii_letters + string.digits + "+/="))
        c("/etc/proftpd/ftpd.passwd", "alice:{0}:1001:1001::/home/alice:/bin/false\n", "$1$" + tok(8) + "$" + tok(22, string.ascii_letters + string.digits + "./"))
        c("/var/log/auth.log", "Dec  7 10:00:01 host sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/mysql -uroot -p{0}\n", P[51])
        c("/var/log/syslog", "Dec  7 10:00:01 host CRON[1]: (root) CMD (/usr/bin/rsync -a /srv rsync://backup@nas/srv --password-file=/etc/rsync.pw; echo {0} > /dev/null)\n", "x")
        c("/srv/app/config.ini", "[smtp]\nhost = smtp.example.org\nuser = alice\npass = {0}\n", P[52])
        c("/srv/app/config.toml", "[database]\npassword = \"{0}\"\n[api]\nkey = \"{1}\"\n", P[53], tok(32))
        c("/srv/app/settings.yaml", "smtp:\n  credentials:\n    username: alice\n    password: >-\n      {0}\n", P[54])
        c("/srv/app/app.conf", "<Connector port=\"8443\" keystorePass=\"{0}\" truststorePass=\"{1}\"/>\n", P[55], P[56])
        c("/srv/app/log4j.xml", "<param name=\"password\" value=\"{0}\"/>\n", P[57])
        c("/srv/app/Dockerfile", "ENV DB_PASSWORD={0}\nARG NPM_TOKEN={1}\n", P[58], "npm_" + tok(36))
        c("/srv/app/.travis.yml", "env:\n  global:\n    - secure: \"{0}\"\n", tok(340, string.ascii_letters + string.digits + "+/") + "=")
        c("/srv/app/deploy.sh", "sshpass -p\"{0}\" scp a b:\n", P[59])
        c("/srv/app/app.py", "client = Client('alice', '{0}')\nsmtp.login('alice@example.org', '{1}')\n", P[60], P[61])
        c("/srv/app/app.rb", "Net::SMTP.start('smtp', 25, 'x', 'alice', '{0}', :plain)\n", P[62])
        c("/srv/app/app.cs", "var cred = new NetworkCredential(\"alice\", \"{0}\");\n", P[63])
        c("/srv/app/Web.config", "<add name=\"db\" connectionString=\"Data Source=db;Initial Catalog=app;User ID=sa;Password={0}\" />\n", P[64])
        c("/srv/app/app.go", "db, err := sql.Open(\"postgres\", \"user=app password={0} dbname=app sslmode=disable\")\n", P[65])
        c("/home/a/ticket.txt", "User reports: I changed my password to {0} yesterday and now outlook keeps asking.\n", P[66])
        c("/home/a/ticket2.txt", "login: alice\npassword: {0}\n", P[67])
        c("/home/a/ticket3.txt", "Credentials -> alice / {0}\n", P[68])
        c("/home/a/ticket4.txt", "pw {0}\n", P[69])
        c("/home/a/email.eml", "Subject: new account\n\nHi Bob,\nyour temporary password: {0}\nPlease change it.\n", P[70])
        c("/home/a/email2.eml", "Your one-time code is {0}\n", "".join(rnd.choice(string.digits) for _ in range(6)))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--probe", type=int, choices=(1, 2), action="append")
    args = parser.parse_args()
    for number in args.probe or (1, 2):
        missed = total = 0
        for path, template, secrets in _probe(number, random.Random(args.seed)):
            text = template.format(*secrets)
            out = Scrubber().scrub_text(text, path=path)
            for secret in secrets:
                if len(secret) < 4:
                    continue
                total += 1
                if any(secret[i:i + 8] in out for i in range(max(1, len(secret) - 7))):
                    missed += 1
                    line = next((x for x in text.splitlines() if secret[:8] in x), "")
                    scanned = "flagged" if scan_text(out, path) else "not flagged"
                    print(f"{'partly left' if secret not in out else 'missed':11} {path}: {line[:110]!r} "
                          f"(leak scan: {scanned})")
        print(f"probe {number}: removed {total - missed}/{total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
