"""Secret-named values are masked where medic writes settings down."""

from __future__ import annotations

from medic.kernel.masking import is_secret_name, masked
from medic.plugins.targets.local import LocalTarget


def test_secret_names() -> None:
    for name in ("password", "DB_PASSWORD", "api_token", "client_secret", "ApiKey", "ssh_passphrase"):
        assert is_secret_name(name), name
    for name in ("passphrase_env", "key_file", "backup_dir", "tokens_per_second_file", "user"):
        assert not is_secret_name(name), name


def test_masked_at_any_depth_and_target_descriptions_use_it() -> None:
    assert masked({"user": "app", "db": {"password": "pw", "port": 5432}}) == \
        {"user": "app", "db": {"password": "***", "port": 5432}}
    described = LocalTarget({}, variables={"api_token": "t0k", "site": "lab"}).describe()
    assert described["vars"]["api_token"] == "***" and described["vars"]["site"] == "lab"
