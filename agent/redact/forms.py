"""Secrets in forms no ``key=value`` syntax covers: client command lines, SQL, calls in source code, license keys.

Each form captures the secret as ``val`` (and ``val2``); it runs only when one of its hints (lower case)
occurs in the lower-cased text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "password 7 ", "secret 5 "...: Cisco's typed secrets ("password" and "key" lines need keyspots' spot for it too)
_TYPED = tuple(f"{word} {digit} " for word in ("password", "secret", "key", "md5") for digit in "05789")
_CALL_ARG = r"(?:\"[^\"\n]*\"|'[^'\n]*'|[^,()\n\"']+)"  # an argument before the one that is read
_ARG = r"(?P<q>[\"']?)(?P<val>(?<=[\"'])[^\"'\n]+|[^\s\"']+)(?P=q)"  # a quoted or bare argument
_OPT_ARG = r"(?P<q>[\"']?)(?P<val>(?<=[\"'])[^\"'\n]+|(?!-)[^\s\"']+)(?P=q)"  # an option's argument: not "-x"
# what a password written in prose looks like: a digit, a symbol or a capital inside it ("Summer2024", not "expired")
_WRITTEN_OUT = r"(?=[^\s\"'`]*?(?:\d|[!@#$%^&*+=~|<>{}\[\]/\\]|(?-i:[a-z][A-Z])))"


@dataclass(frozen=True)
class Form:
    rule: str
    pattern: re.Pattern[str]
    hints: tuple[str, ...]
    # Every match holds one of ``needs`` (as written) and, on an ASCII line, one of ``words`` (lower case):
    # a line without them is skipped before the regular expression runs (``words`` only on ASCII lines: (?i)
    # also matches the long s and the Kelvin sign)
    needs: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


def _f(rule: str, pattern: str, *hints: str, needs: tuple[str, ...] = (), words: tuple[str, ...] = ()) -> Form:
    return Form(rule, re.compile(pattern), hints, needs, words)


_QUOTES = ('"', "'")
_SECRET_NAME = r"(?:passw(?:or)?d|pass|pwd|secret|token|api[_-]?key|credentials?)"  # noqa: S105 (the key words, not a password)


FORMS: tuple[Form, ...] = (
    # command-line clients whose password option has a short or unusual name
    _f("password", r"\bredis-cli\b[^\n]*?\s-a\s+" + _ARG, "redis-cli"),
    # mongo, mongosh and the Go tools (mongodump...): -p X and -pX (mongod and mongos have no -p)
    _f("password", r"\bmongo(?:sh|dump|restore|export|import|stat|top|files)?\b[^\n]*?\s-p(?:\s+(?!-)|(?=[^\s-]))"
       + _ARG, "mongo"),
    _f("password", r"\bldap\w*\b[^\n]*?\s-w\s+" + _ARG, "ldap"),
    _f("password", r"(?i)\b(?:sqlcmd|bcp|osql|isql)\b[^\n]*?\s-P(?!assword\b)\s*" + _ARG,
       "sqlcmd", "bcp", "osql", "isql"),
    _f("password", r"-pass(?:in|out|word)?\s+pass:" + _ARG, "pass:"),
    _f("password", r"\b(?:smbclient|rpcclient|smbmap|net\s+(?:rpc|ads))\b[^\n]*?\s(?:-U\s*|--user(?:=|\s+))[^\s%]*%"
       + _ARG, "smbclient", "rpcclient", "smbmap", "net rpc", "net ads"),
    _f("password", r"\bhtpasswd\b(?:\s+-\w+)*\s+-\w*b\w*(?:\s+-\w+)*\s+\S+\s+\S+\s+" + _ARG, "htpasswd"),
    _f("password", r"(?i)\bnet\s+user\s+\S+\s+(?P<q>[\"']?)(?P<val>(?![/*])[^\s\"']+)(?P=q)", "net user"),
    _f("password", r"(?i)(?<!\S)/pass(?:word)?:" + _ARG, "/pass"),
    _f("password", r"\bsshpass\s+(?:-\w+\s+)*-p\s*" + _ARG, "sshpass"),
    _f("password", r"(?i)\bConvertTo-SecureString\s+(?:-String\s+)?(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)",
       "convertto-securestring", needs=_QUOTES),
    _f("password", r"\bNetworkCredential\(\s*\"[^\"\n]*\"\s*,\s*(?P<q>\")(?P<val>[^\"\n]+)(?P=q)", "networkcredential",
       needs=_QUOTES),
    # Bundler's credentials for a gem host: BUNDLE_GEMS__EXAMPLE__COM=user:password (env, .bundle/config)
    _f("password", r"\bBUNDLE_[A-Z0-9_]+__[A-Z0-9]+[\"']?[ \t]*[:=][ \t]*"
       r"(?P<q>[\"']?)(?P<val>[^\s\"':]*:[^\s\"']+)(?P=q)", "bundle_", needs=(":", "=")),
    # SQL
    _f("password", r"(?i)\bIDENTIFIED\s+(?:WITH\s+\w+\s+)?BY\s+(?:PASSWORD\s+)?(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)",
       "identified", needs=_QUOTES),
    _f("password", r"(?i)(?<![\"'\w])PASSWORD(?:\s+|\s*=\s*)(?:PASSWORD\s*\(\s*)?(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)",
       "password", needs=_QUOTES),
    # license and activation keys written as words ("Activation key : XXXXX-...")
    _f("license_key", r"(?i)\b(?:activation|license|licence|product|serial|registration|cd|unlock)[ _-]?"
       r"(?:key|code)s?\b[ \t]*[:=][ \t]*(?P<q>[\"']?)(?P<val>[\w-]{5,}(?:[ \t]*-[ \t]*[\w]{4,})*)(?P=q)",
       "key", "code", needs=(":", "="),
       words=("activation", "license", "licence", "product", "serial", "registration", "cd", "unlock")),
    # SNMP community strings and USM passphrases
    _f("community", r"(?im)(?:^|(?<=: ))[ \t]*(?:snmp-server[ \t]+)?(?:[rw][ow]community6?|community)[ \t]+"
       r"(?P<q>[\"']?)(?P<val>[^\s\"'=:][^\s\"']*)(?P=q)",
       "community"),
    _f("password", r"(?i)\bcreateUser\s+(?:-e\s+\S+\s+)?\S+\s+(?:MD5|SHA[-\w]*)\s+" + _ARG, "createuser"),
    _f("password", r"(?i)\bcreateUser\b[^\n]*?\s(?:DES|AES[-\w]*)\s+" + _ARG, "createuser"),
    # protocol lines in logs and traces: SMTP/IMAP AUTH PLAIN (base64 of \0user\0password), FTP's PASS command
    # (quoted, or alone after a prompt or a direction mark; "PASS  tests/x" with two blanks is a test runner's),
    # IRC's NickServ IDENTIFY [account] password
    _f("password", r"(?i)\bAUTH(?:ENTICATE)?[ \t]+PLAIN[ \t]+(?P<val>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])", "plain"),
    _f("password", r"(?:(?<=[\"'])|^|(?<=[<>] )|(?<=-> )|(?<=\] )|(?<=C: ))PASS (?P<val>[^\s\"']+)"
       r"(?=[\"']|[ \t]*$)", "pass ",
       needs=("PASS ",)),
    _f("password", r"(?i)\bNickServ\b[^\n]*?\bIDENTIFY[ \t]+(?:[^\s\"']+[ \t]+)?(?P<val>[^\s\"']+)", "nickserv"),
    # a password stored in clear behind its scheme (Dovecot's passwd-file, LDAP): {PLAIN}x, {CLEARTEXT}x
    _f("password", r"\{(?:PLAIN|CLEARTEXT|CLEAR|PLAIN-TRUNC)\}(?P<val>[^\s:\"']+)", "plain", "clear"),
    # calls whose third argument is the password (JDBC, PHP's database, LDAP, FTP, IMAP and SSH functions)
    _f("password", r"\b(?:getConnection|mysqli?_connect|mysqli|PDO|ldap_bind|ftp_login|imap_open|ssh2_auth_password)"
       r"[ \t]*\([ \t]*" + _CALL_ARG + r",[ \t]*" + _CALL_ARG + r",[ \t]*(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)",
       "getconnection", "mysql", "pdo", "ldap_bind", "ftp_login", "imap_open", "ssh2_auth", needs=_QUOTES),
    # Windows: net use [X:] \\server\share password [/user:name], the password positional
    _f("password", r"(?i)\bnet[ \t]+use[ \t]+(?:(?:[a-z]:|\*)[ \t]+)?\\\\\S+[ \t]+(?:/user:\S+[ \t]+)?"
       r"(?P<q>[\"']?)(?P<val>(?![/*])[^\s\"']+)(?P=q)", "net use"),
    # prose in notes and tickets: "the wifi password is X", "I changed my password to X" (X with a digit, a
    # symbol or an inner capital: not "the password is incorrect")
    _f("password", r"(?i)\b(?:password|passwd|passcode|passphrase|pin|pwd)[ \t]+(?:is|was|to)[ \t]*:?[ \t]+"
       r"(?P<q>[\"'`]?)(?P<val>(?![%&${<\\(])" + _WRITTEN_OUT + r"[^\s\"'`<>]{6,64}?)(?P=q)"
       r"(?=[.,;:!?)]*(?:\s|$))", "password", "passwd", "passcode", "passphrase", "pwd", "pin is", "pin was",
       needs=(" is", " was", " to", " IS", " WAS", " TO", " Is", " Was", " To")),
    # clients' own password options and arguments (--password and -Dx.password= are keys, read by the key rules)
    _f("password", r"\b(?:docker|podman|buildah|skopeo|nerdctl|oras|helm(?:[ \t]+registry)?)[ \t]+login\b[^\n;|&]*?\s-p"
       r"[ \t]+" + _OPT_ARG, "docker login", "podman login", "buildah login", "skopeo login", "nerdctl login",
       "oras login", "registry login", needs=(" -p",)),
    _f("password", r"\baz[ \t]+login\b[^\n;|&]*?\s-p[ \t]+" + _OPT_ARG, "az login"),
    _f("password", r"\b(?:7z[ar]?|rar|unrar)\b[^\n;|&]*?\s-p" + _ARG, "7z", "rar", needs=(" -p",)),  # -pSECRET
    _f("password", r"\b(?:zip|unzip|zipcloak)\b[^\n;|&]*?\s-P[ \t]+" + _OPT_ARG, "zip", needs=(" -P",)),
    _f("password", r"\b(?:sqlplus|rman|expdp|impdp|sqlldr|dgmgrl)[ \t]+(?:-\w+[ \t]+)*[\w$#]+/"
       r"(?P<q>[\"']?)(?P<val>[^\s\"'/]+?)(?P=q)(?=@[^\s@\"']*(?:[\s\"']|$)|[\s\"']|$)",
       "sqlplus", "rman", "expdp", "impdp", "sqlldr", "dgmgrl"),
    _f("password", r"(?i)\buserid=[\w$#]+/(?P<q>[\"']?)(?P<val>[^\s@\"'/]+)(?P=q)", "userid="),
    _f("password", r"\b\w*freerdp\b[^\n;|&]*?(?<!\S)/p:" + _ARG, "freerdp"),
    _f("password", r"\b(?:rdesktop|racadm|psexec|paexec)(?:64)?\b[^\n;|&]*?\s-p[ \t]+" + _OPT_ARG,
       "rdesktop", "racadm", "psexec", "paexec", needs=(" -p",)),
    _f("password", r"\b(?:ipmitool|mosquitto_(?:pub|sub|rr))\b[^\n;|&]*?\s-P[ \t]+" + _OPT_ARG,  # (-p: the port)
       "ipmitool", "mosquitto_", needs=(" -P",)),
    _f("password", r"\bssh-keygen\b[^\n;|&]*?\s-[NP][ \t]*" + _OPT_ARG, "ssh-keygen", needs=(" -N", " -P")),
    _f("password", r"(?<!\S)-[AX][ \t]*" + _OPT_ARG, "snmp", needs=(" -A", " -X"),
       words=("snmpwalk", "snmpget", "snmpset", "snmpbulk", "snmptrap", "snmpinform", "snmptable", "snmpdelta")),
    _f("password", r"\brabbitmqctl[ \t]+(?:-\S+[ \t]+)*(?:add_user|change_password)[ \t]+\S+[ \t]+" + _ARG,
       "rabbitmqctl"),
    _f("password", r"\bschtasks\b[^\n;|&]*?\s/r?p[ \t]+" + _OPT_ARG, "schtasks"),
    _f("password", r"\blftp\b[^\n;|&]*?\s-u[ \t]+[^,\s]+," + _ARG, "lftp"),
    # network devices' saved configurations: Cisco IOS/ASA/NX-OS "password 7 x", "secret 5 x", "key 7 x" (the
    # digit names the encoding), TACACS+/RADIUS keys, ISAKMP keys, FortiOS "set password ENC x"
    _f("password", r"(?i)(?<![\w-])(?:password|secret|key|key-string|authentication-key|md5)[ \t]+[05789][ \t]+"
       r"(?P<val>[^\s\"']{4,})", *_TYPED, needs=("password", "secret", "key", "md5")),
    _f("secret", r"(?i)\b(?:tacacs-server|radius-server|tacacs|radius)\b[^\n]*?\bkey[ \t]+(?:[07][ \t]+)?"
       r"(?P<val>[^\s\"']+)", "tacacs", "radius"),
    _f("secret", r"(?i)\bisakmp[ \t]+key[ \t]+(?:[06][ \t]+)?(?P<val>[^\s\"']+)", "isakmp"),
    _f("password", r"(?i)^[ \t]*set[ \t]+(?:password|passwd|psksecret|secret|key|passphrase)[ \t]+(?:ENC[ \t]+|"
       + _WRITTEN_OUT + r")(?P<q>[\"']?)(?P<val>(?<=[\"'])[^\"'\n]+|[^\s\"']+)(?P=q)[ \t]*$", "set ", needs=("set",)),
    # proxies and load balancers: HAProxy "stats auth user:pw", "insecure-password pw", Squid "login=user:pw"
    _f("password", r"\bstats[ \t]+auth[ \t]+[^:\s]+:(?P<val>\S+)", "stats auth"),
    _f("password", r"\binsecure-password[ \t]+(?P<val>\S+)", "insecure-password"),
    _f("password", r"\blogin=[^:\s]+:(?P<val>\S+)", "login="),
    # Wi-Fi: wpa_passphrase SSID pw, iwconfig ... key s:pw
    _f("password", r"\bwpa_passphrase[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\S+)[ \t]+" + _ARG, "wpa_passphrase"),
    _f("password", r"\biwconfig\b[^\n;|&]*?\bkey[ \t]+(?:s:)?(?P<val>[^\s\"']+)", "iwconfig"),
    # a here-string to a program that reads a password from its input
    _f("password", r"(?:--passwd-on-stdin|--password-stdin|\bsmbpasswd\b|\bpasswd\b|\bchpasswd\b|\bkinit\b|"
       r"\bsudo[ \t]+-S\b)[^\n]*?<<<[ \t]*\$?" + _ARG, "<<<"),
    # a password piped to a program that reads it from its input
    _f("password", r"\b(?:echo|printf)[ \t]+(?:-[neE]+[ \t]+)?(?P<q>[\"']?)(?P<val>(?<=[\"'])[^\"'\n]+|[^\s\"'|;]+)"
       r"(?P=q)[ \t]*\|[ \t]*(?:sudo\b[^\n|]*?[ \t]-S\b|passwd[ \t]+--stdin|chpasswd\b|kinit\b|"
       r"(?:docker|podman|helm)[ \t]+(?:registry[ \t]+)?login\b[^\n|]*--password-stdin)", "echo", "printf",
       needs=("|",)),
    # Redis' AUTH [user] password (MONITOR output, logs), Wi-Fi QR codes (WIFI:...;P:password;;)
    _f("password", r"(?:^|(?<=[\"'\s]))AUTH[\"']?[ \t]+(?:[\"']?[^\s\"']+[\"']?[ \t]+)?[\"']?(?P<q>)"
       r"(?P<val>(?!PLAIN\b|LOGIN\b|CRAM-MD5\b|XOAUTH|OK\b|failed\b)" + _WRITTEN_OUT + r"[^\s\"']{6,})[\"']?[ \t]*$",
       "auth ", "auth\t", 'auth"', "auth'", needs=("AUTH",)),
    _f("password", r"\bWIFI:[^\n]*?(?<=[:;])P:(?P<val>(?:\\.|[^;\\\n])+)", "wifi:", needs=("WIFI:",)),
    # two-argument logins in code: smtp.login(user, "x"), imap.login, ftp.login, ldap's simple_bind_s(dn, "x")
    _f("password", r"\.(?:login|simple_bind_s|bind_s|authenticate)[ \t]*\([ \t]*" + _CALL_ARG
       + r",[ \t]*(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)", "login(", "bind_s(", "authenticate(", needs=_QUOTES),
)

# session 18 (issue 17): support formats of probes 2-4
_W = _WRITTEN_OUT + r"[^\s\"'`<>]{6,64}"  # a written-out password: a digit, a symbol or an inner capital in it
SUPPORT_FORMS: tuple[Form, ...] = (
    # honeypots' and IMAP's logins: cowrie's "login attempt [user/pw]", IMAP's "tag LOGIN user pw"
    _f("password", r"\blogin attempt[ \t]+\[[^/\s\]]{1,64}/(?P<val>[^\]\n]{1,128})\]", "login attempt"),
    _f("password", r"(?m)^(?:C:[ \t]*)?[\w.]{1,16}[ \t]+LOGIN[ \t]+\"?[^\s\"]{1,128}\"?[ \t]+(?P<q>\"?)(?P<val>"
       + _W + r")(?P=q)[ \t]*$", " login ", needs=("LOGIN",)),
    # notes: "Credentials -> alice / pw", "login: admin / pw" (a word naming the line; never every "a / b")
    _f("password", r"(?i)\b(?:credentials?|creds|login|logon|password|passwd|pwd|pw)\b[ \t]*(?:->|=>|:|-|=)?[ \t]*"
       r"[\w.@\\-]{1,64}[ \t]+/[ \t]+(?P<val>" + _W + r")(?=[.,;]?(?:\s|$))", " / "),
    # comments and prose that name the user, then the password: "# user app pw x", "login is alice and pass x"
    _f("password", r"(?i)\b(?:user|login)[ \t]+(?:is[ \t]+)?(?!(?:to|and|or|can|could|may|might|must|should|will|"
       r"would|shall|the|an?|is|was|has|had|does|did|not|needs?|wants?)\b)[\w.@-]{1,64}[ \t,]+(?:and[ \t]+)?"
       r"(?:pw|pwd|pass|password)[ \t]*:?[ \t]+(?P<val>" + _W + r")(?=[.,;]?(?:\s|$))",
       "pw ", "pwd ", "pass ", "password "),
    # calls: Client('alice', 'pw') (a client/login/connect callee with two quoted strings), Ruby's
    # Net::SMTP.start(host, port, helo, user, pw, :auth), requests' auth=('alice', 'pw')
    _f("password", r"(?i)\b\w{0,40}(?:client|login|connect|connection|session|credentials?)[ \t]*\([ \t]*"
       r"(?P<q0>[\"'])[^\"'\n]{1,128}(?P=q0)[ \t]*,[ \t]*(?P<q>[\"'])(?P<val>" + _WRITTEN_OUT
       + r"[^\"'\n]{4,128})(?P=q)[ \t]*\)", "client(", "login(", "connect(", "connection(", "session(",
       "credentials(", "credential(", needs=_QUOTES),
    _f("password", r"\b(?:DBI->connect|FTP(?:_TLS)?)[ \t]*\([ \t]*" + _CALL_ARG + r",[ \t]*" + _CALL_ARG
       + r",[ \t]*(?P<q>[\"'])(?P<val>[^\"'\n]+)(?P=q)", "dbi->connect", "ftp(", "ftp_tls(", needs=_QUOTES),
    _f("password", r"\bNet::SMTP\.start[ \t]*\([ \t]*(?:" + _CALL_ARG + r",[ \t]*){4}(?P<q>[\"'])(?P<val>[^\"'\n]+)"
       r"(?P=q)", "net::smtp", needs=_QUOTES),
    _f("password", r"\bauth[ \t]*=[ \t]*\([ \t]*(?P<q0>[\"'])[^\"'\n]{1,128}(?P=q0)[ \t]*,[ \t]*(?P<q>[\"'])"
       r"(?P<val>[^\"'\n]+)(?P=q)", "auth=(", "auth =", needs=_QUOTES),
    # Consul's gossip key (encrypt = "base64" in HCL, "encrypt": "..." in JSON)
    _f("secret", r"(?m)^[ \t]*\"?encrypt\"?[ \t]*[=:][ \t]*\"(?P<val>[A-Za-z0-9+/]{22,86}={0,2})\"", "encrypt"),
    # a support PIN in notes ("support PIN: 12345678")
    _f("password", r"(?i)\b(?:support|account|security|customer|service|phone|callback)[ \t]+PIN(?:[ \t]+code)?"
       r"[ \t]*[:=#-]?[ \t]*(?P<val>\d{4,12})\b", " pin"),
    # Thunderbird's and Firefox's logins.json: the encrypted user name and password, whole
    _f("password", r"\"encrypted(?:Username|Password)\"[ \t]*:[ \t]*\"(?P<val>[A-Za-z0-9+/=]{8,})\"",
       "encryptedusername", "encryptedpassword"),
    # Redis Sentinel's auth-pass master pw; mbsync's "Pass pw"; NUT's MONITOR line; sendmail's authinfo "P:pw";
    # HP ProCurve's "plaintext pw"; PowerShell's -Password 'pw'
    _f("password", r"\bsentinel[ \t]+auth-pass[ \t]+\S+[ \t]+" + _ARG, "auth-pass"),
    _f("password", r"(?m)^[ \t]*Pass[ \t]+" + _ARG + r"[ \t]*$", "pass ", needs=("Pass ",)),
    _f("password", r"(?m)^[ \t]*MONITOR[ \t]+\S+[ \t]+\d+[ \t]+\S+[ \t]+(?P<q>[\"']?)(?P<val>[^\s\"']+)(?P=q)"
       r"[ \t]+(?:master|slave|primary|secondary)\b", "monitor "),
    _f("password", r"\"P:(?P<val>[^\"\n]+)\"", "\"p:", words=("authinfo",)),
    _f("password", r"\buser-name[ \t]+\S+[ \t]+plaintext[ \t]+" + _ARG, "plaintext"),
    _f("password", r"(?i)(?<!\S)-Password[ \t]+" + _OPT_ARG, "-password"),
    # Wi-Fi keys shown by nmcli --show-secrets and by netsh wlan show profile key=clear
    _f("password", r"(?m)^[ \t]*(?:802-11-wireless-security|wifi-sec)\.(?:psk|wep-key\d|leap-password):[ \t]+"
       r"(?P<val>(?!--[ \t]*$|<hidden>)\S[^\n]*?)[ \t\r]*$", "802-11-wireless-security.", "wifi-sec."),
    _f("password", r"(?m)^[ \t]*Key Content[ \t]*:[ \t]*(?P<val>\S[^\n]*?)[ \t\r]*$", "key content"),
    # HashiCorp Vault's init output: "Unseal Key 1: x"; Huawei's "password irreversible-cipher x"
    _f("secret", r"(?m)^[ \t]*(?:Unseal|Recovery) Key \d{1,2}:[ \t]*(?P<val>[A-Za-z0-9+/=_-]{16,})", "unseal key",
       "recovery key"),
    _f("password", r"\bpassword[ \t]+(?:irreversible-cipher|cipher)[ \t]+(?P<val>[^\s\"']+)", "cipher"),
    # Discord's webhook URL (its last part is the token); Drupal's hash salt
    _f("token", r"\bdiscord(?:app)?\.com/api/webhooks/\d{1,20}/(?P<val>[\w-]{40,100})", "discord"),
    _f("secret", r"\$settings\[[\"']hash_salt[\"']\][ \t]*=[ \t]*(?P<q>[\"'])(?P<val>[^\"'\n]{8,})(?P=q)",
       "hash_salt"),
    # prose with the password quoted: "the default password is 'blooberry'" (a quoted word is the value itself)
    _f("password", r"(?i)\b(?:password|passwd|passcode|passphrase|pwd)[ \t]+(?:is|was)[ \t]*:?[ \t]+(?P<q>[\"'`])"
       r"(?P<val>(?![%&${<\\(])[^\s\"'`<>]{4,64})(?P=q)", "password", "passwd", "passcode", "passphrase", "pwd",
       needs=(" is", " was", " IS", " WAS", " Is", " Was")),
    # Vault's unseal command with the key share on its line
    _f("secret", r"\bvault[ \t]+operator[ \t]+unseal[ \t]+(?:-\S+[ \t]+)*(?P<val>[A-Za-z0-9+/]{20,}={0,2})", "unseal"),
    # escaped once more: JSON in an HTML or XML attribute (&quot;password&quot;: &quot;x&quot;), and a query string
    # URL-encoded again (?q=user%3Dbob%26password%3Dx)
    _f("password", r"(?i)(?P<e>&quot;|&#34;)[\w.-]{0,40}" + _SECRET_NAME + r"[\w.-]{0,40}(?P=e)[ \t]*:[ \t]*(?P=e)"
       r"(?P<val>(?:(?!&quot;|&#34;)[^\s<>\"'])+)(?P=e)", "&quot;", "&#34;"),
    _f("password", r"(?i)(?:(?<=%26)|(?<=%3F)|(?<![\w%]))[\w.-]{0,40}" + _SECRET_NAME + r"%3D(?P<val>"
       r"(?=(?:%[0-9a-f]{2}|[^\s&\"'<>%+])*?(?:\d|%[0-9a-f]{2}|(?-i:[a-z][A-Z])))(?:(?!%26)(?:%[0-9a-f]{2}|[^\s&\"'<>%+]))+)"
       r"(?=%26|[\s&\"'<>]|$)", "%3d"),
    # k3s' join token (K10<ca hash>::<user>:<password>)
    _f("token", r"\b(?P<val>K10[0-9a-f]{64}::[\w.-]{1,32}:[0-9a-f]{32})\b", "k10"),
)
FORMS = FORMS + SUPPORT_FORMS
