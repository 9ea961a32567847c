"""Text scrubbing (agent/redact/text.py): the exact output and counts of each syntax the scrubber reads."""

from __future__ import annotations

import pytest

from medic.agent.redact.text import TextScrubber

pytestmark = pytest.mark.usefixtures("redact_engine")  # both first passes: compiled and pure Python

CERT = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe5Xj8QbYkq3bT0Zr7wVhW1kJm4IwCgYIKoZIzj0EAwIw\n"
        "-----END CERTIFICATE-----\n")
P1 = "[REDACTED:password#1]"


@pytest.mark.parametrize(("text", "path", "expected", "counts"), [
    ("hello world", "", "hello world", {}),
    ("password=hunter2", "", f"password={P1}", {"password": 1}),
    ("\u0130 password=hunter2\nx token=abc123", "", f"\u0130 password={P1}\nx token=[REDACTED:token#2]",
     {"password": 1, "token": 1}),  # lower() changes the length: every line is looked at
    (CERT + "password=hunter2", "", CERT + f"password={P1}", {"password": 1}),  # a public PEM block is kept
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", "",
     "[REDACTED:private_key#1]", {"private_key": 1}),
    ("mysql -uroot -phunter2 db", "", f"mysql -uroot -p{P1} db", {"password": 1}),
    ("tool -phunter2", "", "tool -phunter2", {}),  # -p is a password only on a mysql/mariadb line
    ("mysql -p$MYSQL_PWD", "", "mysql -p$MYSQL_PWD", {}), (f"mysql -p{P1}", "", f"mysql -p{P1}", {}),
    ("password = hunter2", "", f"password = {P1}", {"password": 1}),
    ("export DB_PASSWORD=hunter2", "", f"export DB_PASSWORD={P1}", {"password": 1}),
    ("password='hunter2'", "", f"password='{P1}'", {"password": 1}),  # the quotes stay
    ('{"password": "hunter2", "port": 5}', "", f'{{"password": "{P1}", "port": 5}}', {"password": 1}),
    ('{"password": 12345}', "", f'{{"password": "{P1}"}}', {"password": 1}),  # a number becomes a JSON string
    ('{"password": true}', "", '{"password": true}', {}),
    ('ds.setPassword("hunter2");', "", f'ds.setPassword("{P1}");', {"password": 1}),
    ('CURLOPT_PASSWORD, "hunter2"', "", f'CURLOPT_PASSWORD, "{P1}"', {"password": 1}),
    ('os.environ.get("DB_PASSWORD", "hunter2")', "", f'os.environ.get("DB_PASSWORD", "{P1}")', {"password": 1}),
    ('<add key="DbPassword" value="hunter2" />', "", f'<add key="DbPassword" value="{P1}" />', {"password": 1}),
    ("<password>hunter2</password>", "", f"<password>{P1}</password>", {"password": 1}),
    ("Server=db;Password=hunter2;Encrypt=yes;", "", f"Server=db;Password={P1};Encrypt=yes;", {"password": 1}),
    ("log user=bob password=hunter2 host=db", "", f"log user=bob password={P1} host=db", {"password": 1}),
    ("auth:session x", "", "auth:session x", {}), ("pass:5", "", "pass:5", {}), ("id pass: 5", "", "id pass: 5", {}),
    ("pwd:/home/x", "", "pwd:/home/x", {}),
    ("x password={{ vault_pw }} y", "", "x password={{ vault_pw }} y", {}),
    ("x password=${PW} y", "", "x password=${PW} y", {}),
    ("requirepass hunter2", "", f"requirepass {P1}", {"password": 1}),
    ("machine h login u password hunter2", "", f"machine h login u password {P1}", {"password": 1}),
    ("password hunter2", "", f"password {P1}", {"password": 1}),
    ("ENV DB_PASSWORD hunter2", "", f"ENV DB_PASSWORD {P1}", {"password": 1}),
    ("kpasswd 464/tcp", "", "kpasswd 464/tcp", {}), ('getent passwd "$user"', "", 'getent passwd "$user"', {}),
    ("pwd -P", "", "pwd -P", {}), ("password: -x", "", "password: -x", {}),
    ("password = <your-password>", "", "password = <your-password>", {}),
    ("backup --password hunter2 --verbose", "", f"backup --password {P1} --verbose", {"password": 1}),
    ("x --session 12 y", "", "x --session 12 y", {}),
    ("api_key=abc", "", "api_key=[REDACTED:api_key#1]", {"api_key": 1}),
    ("app_key: hello", "", "app_key: hello", {}), ("Password: Hunter2", "", f"Password: {P1}", {"password": 1}),
    ("curl -u admin:hunter2 https://x", "", f"curl -u admin:{P1} https://x", {"password": 1}),
    ("sshpass -p hunter2 ssh h", "", f"sshpass -p {P1} ssh h", {"password": 1}),
    ("redis-cli -a hunter2 ping", "", f"redis-cli -a {P1} ping", {"password": 1}),
    ("name: DB_PASSWORD\nvalue: hunter2", "", f"name: DB_PASSWORD\nvalue: {P1}", {"password": 1}),
    ("db:\n  password: |\n    line1\n    line2\n\n  port: 5", "", f"db:\n  password: |\n    {P1}\n\n  port: 5",
     {"password": 1}),  # a block scalar becomes one redacted line
    (f"db:\n  password: |\n    {P1}\n  port: 5", "", f"db:\n  password: |\n    {P1}\n  port: 5", {}),
    ("db:5432:app:bob:pw1", "/home/bob/.pgpass", f"db:5432:app:bob:{P1}", {"password": 1}),
    ("passwd:  files", "/etc/nsswitch.conf", "passwd:  files", {}),
    ("aws wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f", "", "aws [REDACTED:aws_secret_access_key#1]",
     {"aws_secret_access_key": 1}),
    ("x wjalrxutnfemik7mdengbpxrficy0a9b8c7d6e5f", "", "x wjalrxutnfemik7mdengbpxrficy0a9b8c7d6e5f", {}),
    ("Authorization: Bearer [REDACTED:token#1]", "", "Authorization: Bearer [REDACTED:token#1]", {}),
    ("token ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", "", "token [REDACTED:github_token#1]", {"github_token": 1}),
    # a quoted value ends at its closing quote: what follows it on the line is not the secret
    ('password="hunter2" user=bob', "", f'password="{P1}" user=bob', {"password": 1}),
    ("password: 'hunter2' # rotated", "", f"password: '{P1}' # rotated", {"password": 1}),
    ('password="x" user=bob', "", 'password="x" user=bob', {}),  # "x" is a mask (passwd)
    ('password="a b" c=1', "", f'password="{P1}" c=1', {"password": 1}),
    ("  password: 'hunter2',", "", f"  password: '{P1}',", {"password": 1}),  # JavaScript, Ruby
    ('PASSWORD = "hunter2"  # rotated', "", f'PASSWORD = "{P1}"  # rotated', {"password": 1}),
    ('password="x9fj3k" y', "", f'password="{P1}" y', {"password": 1}),  # a blank and a word after it: kept
    ("password='x9fj3k' and more", "", f"password='{P1}' and more", {"password": 1}),
    ('password="aB3dE5" "fG7hJ9"', "", 'password="[REDACTED:password#2]"', {"password": 2}),  # adjacent: all of it
    ('password="ab"cd', "", "password=[REDACTED:password#2]", {"password": 2}),  # no blank after it: all of it
    ('secret = "aB3dE5" + "fG7hJ9"', "", 'secret = "[REDACTED:secret#1]"', {"secret": 1}),  # concatenated: all of it
    ('PASSWORD = "aB3dE5".strip()', "", "PASSWORD = [REDACTED:password#2]", {"password": 2}),
    ('password="it\'s"', "", f'password="{P1}"', {"password": 1}),
    # one blank and a plain word after "password" is a sentence, not a directive and its value
    ("Password changed.", "", "Password changed.", {}), ("password expired", "", "password expired", {}),
    ("password reset for bob", "", "password reset for bob", {}),
    ("password 1234", "", f"password {P1}", {"password": 1}),  # a PIN, not a word
    ("password\tletmein", "", f"password\t{P1}", {"password": 1}),  # a tab: a directive (msmtprc)
    ("requirepass foobared", "", f"requirepass {P1}", {"password": 1}),  # never an English word
    ("password: changed", "", f"password: {P1}", {"password": 1}),  # a separator: an assignment
    ("\tfastcgi_pass unix:/run/php/php8.2-fpm.sock;", "", "\tfastcgi_pass unix:/run/php/php8.2-fpm.sock;", {}),
    ("uwsgi_pass 127.0.0.1:3031;", "", "uwsgi_pass 127.0.0.1:3031;", {}),  # nginx upstreams, not passwords
    ("smtp_pass Zq9vX2kT7w", "", f"smtp_pass {P1}", {"password": 1}),
    # a quoted string followed by a colon is the next JSON key, not the value of a call
    ('{"name":"DB_PASSWORD","value":"x"}', "", '{"name":"DB_PASSWORD","value":"x"}', {}),
    ('{"name":"DB_PASSWORD","value":"hunter2"}', "", f'{{"name":"DB_PASSWORD","value":"{P1}"}}', {"password": 1}),
    ('get("DB_PASSWORD", "hunter2") ? a : b', "", f'get("DB_PASSWORD", "{P1}") ? a : b', {"password": 1}),
    # mongo, mongosh and the Go tools: -p X and -pX
    ("mongo -u bob -p hunter2 admin", "", f"mongo -u bob -p {P1} admin", {"password": 1}),
    ("mongosh -p 'hunter 2'", "", f"mongosh -p '{P1}'", {"password": 1}),
    ("mongodump -phunter2 --db app", "", f"mongodump -p{P1} --db app", {"password": 1}),
    ("mongosh -u admin -p --authenticationDatabase admin", "", "mongosh -u admin -p --authenticationDatabase admin",
     {}),  # -p alone prompts
    ("mongod --port 27017 -p x1", "", "mongod --port 27017 -p x1", {}), ("tool -p hunter2", "", "tool -p hunter2", {}),
])
def test_scrub(text: str, path: str, expected: str, counts: dict[str, int]) -> None:
    scrubber = TextScrubber()
    assert scrubber.scrub(text, path) == expected
    assert dict(scrubber.counts) == counts
