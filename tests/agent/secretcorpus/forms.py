"""Secrets recognisable only by the words around them: key-name forms in many syntaxes, command lines and
service files (credential maps, .pgpass, .netrc, sasl_passwd, htpasswd, shadow, SSSD/LDAP, keystores).

Each form is a template with ``{v}`` (the secret) and the file it lives in; ``{b}`` is base64("user:{v}").
"""
# ruff: noqa: E501 - one form per line

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Form:
    name: str
    template: str
    path: str  # the file it is found in; decides the surrounding lines
    value: str = "password"  # "password", "license" (XXXXX-XXXXX-...), "hash" (crypt), "token", "b64"
    by_path: bool = False  # its lines say nothing without the file's name: not quoted in a log line


_LOG = "/var/log/app/app.log"
_CONF = "/etc/app/app.conf"
_PY, _JS, _JAVA, _PHP, _C, _GO, _RB, _CS, _PS1, _SH, _SQL = (
    "/srv/app/settings.py", "/srv/app/config.js", "/srv/app/Db.java", "/var/www/config.php", "/src/fetch.c",
    "/src/main.go", "/srv/app/config/database.rb", "/src/App/Db.cs", "C:/deploy/setup.ps1", "/opt/deploy.sh",
    "/srv/db/init.sql")
_PS = "ps-auxww.txt"

FORMS: list[Form] = [
    # key = value, key: value and their spellings
    Form("password_equals", "password={v}", _CONF),
    Form("password_colon_space", "Password: {v}", "/home/bob/notes.txt"),
    Form("password_colon_nospace", "Password:{v}", "/home/bob/notes.txt"),
    Form("password_space_colon", "Password : {v}", "/home/bob/notes.txt"),
    Form("password_whitespace", "Password {v}", "/home/bob/notes.txt"),
    Form("password_tab_directive", "password\t{v}", "/etc/msmtprc"),
    Form("pw_colon", "pw: {v}", "/home/bob/notes.txt"),
    Form("pw_colon_nospace", "pw:{v}", "/home/bob/notes.txt"),
    Form("pwd_colon", "pwd: {v}", "/home/bob/notes.txt"),
    Form("pwd_equals_semicolon", "uid=sa;pwd={v};", _LOG),
    Form("passwd_equals", "passwd = {v}", _CONF),
    Form("pass_equals", "pass = {v}", "/home/bob/.config/rclone/rclone.conf"),
    Form("pass_colon", "Pass: {v}", "/home/bob/wifi.txt"),
    Form("id_pw_comma", "ID:master,PW:{v}", "/home/bob/notes.txt"),
    Form("user_pw_semicolon", "user=admin;pw={v}", _LOG),
    Form("login_password_slash", "login: admin / password: {v}", "/home/bob/notes.txt"),
    Form("passphrase_colon", "passphrase: {v}", "/etc/app/gpg.yaml"),
    Form("secret_colon", "secret: {v}", "/etc/app/app.yaml"),
    Form("secret_equals_radius", "client 10.0.0.0/8 {{\n\tsecret = {v}\n\tshortname = lan\n}}", "/etc/freeradius/clients.conf"),
    Form("shared_secret_words", "shared secret: {v}", "/home/bob/notes.txt"),
    Form("credential_colon", "credential: {v}", "/etc/app/app.yaml"),
    Form("credentials_equals", "credentials={v}", _LOG),
    Form("authtok_sssd", "[domain/corp]\nldap_default_bind_dn = cn=svc,dc=corp\nldap_default_authtok_type = password\nldap_default_authtok = {v}", "/etc/sssd/sssd.conf"),
    Form("activation_key_spaced", "Activation key : {v}", "/home/bob/licenses.txt", "license"),
    Form("license_key_colon", "License key: {v}", "/home/bob/licenses.txt", "license"),
    Form("product_key_equals", "ProductKey={v}", "C:/unattend.ini", "license"),
    Form("serial_key", "Serial Key: {v}", "/home/bob/licenses.txt", "license"),
    Form("registration_code", "Registration code = {v}", "/home/bob/licenses.txt", "license"),
    # fat arrows, function calls and options in source code
    Form("php_fat_arrow", "'password' => '{v}',", _PHP),
    Form("ruby_symbol_arrow", "  :password => \"{v}\",", _RB),
    Form("ruby_keyword_arg", "  password: '{v}',", _RB),
    Form("puppet_arrow", "  password => '{v}',", "/etc/puppet/manifests/site.pp"),
    Form("curl_setopt_password", "curl_easy_setopt(curl, CURLOPT_PASSWORD, \"{v}\");", _C),
    Form("curl_setopt_userpwd", "curl_easy_setopt(curl, CURLOPT_USERPWD, \"admin:{v}\");", _C),
    Form("php_curl_setopt", "curl_setopt($ch, CURLOPT_USERPWD, 'admin:{v}');", _PHP),
    Form("java_set_password", "dataSource.setPassword(\"{v}\");", _JAVA),
    Form("java_property_put", "props.put(\"mail.smtp.password\", \"{v}\");", _JAVA),
    Form("python_kwarg", "conn = psycopg2.connect(host=\"db\", user=\"app\", password=\"{v}\")", _PY),
    Form("python_passwd_kwarg", "db = MySQLdb.connect(host='db', user='app', passwd='{v}')", _PY),
    Form("python_dict_get_default", "PASSWORD = os.environ.get(\"DB_PASSWORD\", \"{v}\")", _PY),
    Form("js_object", "  password: '{v}',", _JS),
    Form("js_assignment", "const dbPassword = \"{v}\";", _JS),
    Form("go_short_decl", "\tpassword := \"{v}\"", _GO),
    Form("csharp_field", "private const string DbPassword = \"{v}\";", _CS),
    Form("csharp_network_credential", "var cred = new NetworkCredential(\"admin\", \"{v}\");", _CS),
    Form("powershell_securestring", "$pw = ConvertTo-SecureString \"{v}\" -AsPlainText -Force", _PS1),
    Form("powershell_variable", "$password = \"{v}\"", _PS1),
    Form("php_variable", "$db_pass = '{v}';", _PHP),
    Form("shell_variable", "DB_PASS=\"{v}\"", _SH),
    Form("dockerfile_env", "ENV DB_PASSWORD {v}", "/srv/app/Dockerfile"),
    Form("sql_identified_by", "CREATE USER 'app'@'%' IDENTIFIED BY '{v}';", _SQL),
    Form("sql_with_password", "ALTER ROLE app WITH LOGIN PASSWORD '{v}';", _SQL),
    Form("xml_password_element", "<password>{v}</password>", "/home/bob/.m2/settings.xml"),
    Form("xml_password_attribute", "<user username=\"admin\" password=\"{v}\" roles=\"manager-gui\"/>", "/etc/tomcat9/tomcat-users.xml"),
    Form("xml_property_name_value", "<property name=\"hibernate.connection.password\" value=\"{v}\"/>", "/srv/app/hibernate.cfg.xml"),
    Form("xml_nuget_cleartext", "<add key=\"ClearTextPassword\" value=\"{v}\" />", "/home/bob/.nuget/NuGet/NuGet.Config"),
    Form("filezilla_pass_b64", "<Pass encoding=\"base64\">{b}</Pass>", "/home/bob/.config/filezilla/sitemanager.xml", "b64"),
    Form("http_form_body", "POST /login body: username=bob&password={v}&remember=1", _LOG),
    Form("json_log_pwd", "{{\"ts\":\"2026-12-01T10:00:00Z\",\"pwd\":\"{v}\",\"msg\":\"login\"}}", _LOG),
    Form("yaml_db_pass", "database:\n  db_pass: {v}\n  port: 5432", "/etc/app/app.yaml"),
    Form("ansible_become_pass", "ansible_become_pass: {v}", "/etc/ansible/host_vars/web1.yml"),
    Form("keepalived_auth_pass", "authentication {{\n    auth_type PASS\n    auth_pass {v}\n}}", "/etc/keepalived/keepalived.conf"),
    Form("bitcoin_rpcpassword", "rpcpassword={v}", "/home/bob/.bitcoin/bitcoin.conf"),
    Form("redis_requirepass", "requirepass {v}", "/etc/redis/redis.conf"),
    Form("redis_masterauth", "masterauth {v}", "/etc/redis/redis.conf"),
    Form("fetchmail_password_quoted", "poll mail.example.com protocol imap user \"bob\" password \"{v}\"", "/home/bob/.fetchmailrc"),
    Form("muttrc_set", "set imap_pass = \"{v}\"", "/home/bob/.muttrc"),
    Form("ipsec_psk", "%any 10.0.0.1 : PSK \"{v}\"", "/etc/ipsec.secrets"),
    Form("hostapd_passphrase", "wpa_passphrase={v}", "/etc/hostapd/hostapd.conf"),
    Form("wpa_supplicant_psk", "network={{\n\tssid=\"home\"\n\tpsk=\"{v}\"\n}}", "/etc/wpa_supplicant/wpa_supplicant.conf"),
    Form("networkmanager_psk", "[wifi-security]\nkey-mgmt=wpa-psk\npsk={v}", "/etc/NetworkManager/system-connections/home.nmconnection"),
    Form("snmp_rocommunity", "rocommunity {v} default", "/etc/snmp/snmpd.conf"),
    Form("snmp_create_user", "createUser admin SHA \"{v}\" AES \"{v}\"", "/var/lib/snmp/snmpd.conf"),
    Form("java_keystore_password", "javax.net.ssl.keyStorePassword={v}", "/srv/app/application.properties"),
    Form("spring_keystore_password", "server.ssl.key-store-password={v}", "/srv/app/application.properties"),
    Form("gradle_signing_password", "signing.password={v}", "/home/bob/.gradle/gradle.properties"),
    Form("android_store_password", "storePassword={v}", "/srv/app/keystore.properties"),
    Form("url_userinfo_https", "index-url = https://bob:{v}@pypi.corp.example/simple", "/etc/pip.conf"),
    Form("jdbc_query_password", "jdbc:mysql://db:3306/app?user=app&password={v}&useSSL=true", "/srv/app/application.properties"),
    Form("ado_connection_string", "Server=db;Database=app;User Id=sa;Password={v};TrustServerCertificate=True", "/src/App/appsettings.txt"),
    Form("odbc_pwd_braces", "Driver={{ODBC Driver 18}};Server=db;Uid=sa;Pwd={{{v}}};", "/etc/odbc.ini"),
    Form("basic_auth_header", "Authorization: Basic {b}", _LOG, "b64"),
    Form("token_auth_header", "\"Authorization\": \"Token {v}\"", _LOG, "token"),
    Form("cookie_session", "Cookie: lang=en; SESSIONID={v}", _LOG, "token"),
    # command lines (process listings, shell history, cron)
    Form("cli_long_option", "bob  4242  0.0  0.1 backup-agent --password {v} --host db", _PS),
    Form("cli_long_option_equals", "bob  4243  0.0  0.1 /usr/bin/app --db-password={v}", _PS),
    Form("cli_java_system_property", "app  901  2.1  9.0 java -Ddb.password={v} -jar app.jar", _PS),
    Form("cli_java_keystore_property", "app  902  2.1  9.0 java -Djavax.net.ssl.trustStorePassword={v} -jar app.jar", _PS),
    Form("cli_sshpass", "sshpass -p {v} ssh admin@db01", "/home/bob/.bash_history"),
    Form("cli_sshpass_attached", "sshpass -p{v} scp f admin@db01:", "/home/bob/.bash_history"),
    Form("cli_mysql_attached", "0 3 * * * mysqldump -uroot -p{v} --all-databases > /backup/all.sql", "/var/spool/cron/crontabs/root"),
    Form("cli_redis_cli_a", "redis-cli -h cache -a {v} ping", "/home/bob/.bash_history"),
    Form("cli_ldapsearch_w", "ldapsearch -x -D cn=admin,dc=corp -w {v} -b dc=corp", "/home/bob/.bash_history"),
    Form("cli_sqlcmd_P", "sqlcmd -S db -U sa -P {v} -Q \"select 1\"", "/home/bob/.bash_history"),
    Form("cli_openssl_passin", "openssl pkcs12 -in a.p12 -passin pass:{v} -nodes", "/home/bob/.bash_history"),
    Form("cli_smbclient_percent", "smbclient //nas/share -U bob%{v}", "/home/bob/.bash_history"),
    Form("cli_htpasswd_b", "htpasswd -b /etc/nginx/.htpasswd bob {v}", "/home/bob/.bash_history"),
    Form("cli_wget_password", "wget --user=bob --password={v} https://example.com/f", "/home/bob/.bash_history"),
    Form("cli_pgpassword_env", "PGPASSWORD={v} psql -h db -U app", "/home/bob/.bash_history"),
    Form("cli_docker_env", "docker run -e MYSQL_ROOT_PASSWORD={v} -d mysql:8", "/home/bob/.bash_history"),
    Form("cli_net_user", "net user admin {v} /add", "C:/deploy/setup.cmd"),
    Form("cli_cmdkey_pass", "cmdkey /add:fileserver /user:corp\\bob /pass:{v}", "C:/deploy/setup.cmd"),
    Form("cli_curl_user", "curl -u admin:{v} https://api.example.com", "/home/bob/.bash_history"),
    Form("cli_mongosh", "mongosh \"mongodb://db\" --username app --password {v}", "/home/bob/.bash_history"),
    Form("cli_vault_login_token", "vault login -method=token token={v}", "/home/bob/.bash_history", "token"),
    # service files, recognised by their path
    Form("pgpass", "db01:5432:app:app:{v}", "/home/bob/.pgpass", by_path=True),
    Form("netrc_one_line", "machine api.example.com login bob password {v}", "/home/bob/.netrc"),
    Form("netrc_multi_line", "machine ftp.example.com\n  login bob\n  password {v}", "/home/bob/.netrc"),
    Form("sasl_passwd", "[smtp.example.com]:587 bob@example.com:{v}", "/etc/postfix/sasl_passwd", by_path=True),
    Form("exim_passwd_client", "*.example.com:bob:{v}", "/etc/exim4/passwd.client", by_path=True),
    Form("chap_secrets", "bob * {v} *", "/etc/ppp/chap-secrets", by_path=True),
    Form("davfs_secrets", "https://dav.example.com/files bob {v}", "/etc/davfs2/secrets", by_path=True),
    Form("htpasswd_plain", "bob:{v}", "/etc/nginx/.htpasswd", by_path=True),
    Form("htpasswd_hash", "bob:{v}", "/etc/apache2/.htpasswd", "hash", by_path=True),
    Form("shadow_hash", "bob:{v}:20000:0:99999:7:::", "/etc/shadow", "hash", by_path=True),
    Form("ldap_secret_file", "{v}", "/etc/ldap.secret", by_path=True),
    Form("nslcd_bindpw", "binddn cn=svc,dc=corp\nbindpw {v}", "/etc/nslcd.conf"),
    Form("slapd_rootpw", "rootpw {v}", "/etc/ldap/slapd.conf"),
    Form("olc_root_pw", "olcRootPW: {v}", "/etc/ldap/slapd.d/cn=config/olcDatabase={1}mdb.ldif"),
    Form("smb_credentials_file", "username=bob\npassword={v}\ndomain=CORP", "/root/.smbcredentials"),
    Form("mysql_client_cnf", "[client]\nuser=debian-sys-maint\npassword = {v}", "/etc/mysql/debian.cnf"),
    Form("docker_config_auth", "{{\"auths\": {{\"registry.example.com\": {{\"auth\": \"{b}\"}}}}}}", "/home/bob/.docker/config.json", "b64"),
    Form("git_credentials", "https://bob:{v}@git.example.com", "/home/bob/.git-credentials"),
    Form("npmrc_password", "//registry.example.com/:_password={b}", "/home/bob/.npmrc", "b64"),
    Form("npmrc_auth", "//registry.example.com/:_auth={b}", "/home/bob/.npmrc", "b64"),
    Form("k8s_secret_data", "apiVersion: v1\nkind: Secret\ndata:\n  password: {b}", "/srv/k8s/secret.yaml", "b64"),
    Form("k8s_env_value", "env:\n  - name: DB_PASSWORD\n    value: \"{v}\"", "/srv/k8s/deploy.yaml"),
    Form("systemd_environment", "[Service]\nEnvironment=\"DB_PASSWORD={v}\"", "/etc/systemd/system/app.service"),
    Form("fstab_cifs", "//nas/share /mnt/share cifs username=bob,password={v},uid=1000 0 0", "/etc/fstab"),
]
