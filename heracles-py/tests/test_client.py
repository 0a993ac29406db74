"""Opening, connecting, closing; the bootstrap; models and pages; pending areas."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import heracles
from conftest import ADMIN_PASSWORD, connect_slapd, slapd_env


def test_open_bootstraps_and_reopens(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with heracles.open(folder, admin_password="First-Passw0rd-1") as client:
        report = client.bootstrap_report
        assert report is not None
        assert report.admin_created is True
        assert report.generated_password is None
        assert report.created > 10
        assert "First-Passw0rd-1" not in repr(report)
        admin = client.users.get("admin")
        assert admin.cn == "Heracles Administrator"
        client.users.create(uid="kept", cn="Kept", sn="K")
        assert client.target.startswith("embedded:")
        assert client.base_dn == "dc=example,dc=com"
        assert "embedded:" in repr(client)
    assert client.closed
    assert repr(client) == "<heracles.Client closed>"
    with pytest.raises(ValueError):
        client.users.get("kept")
    client.close()  # idempotent
    # Reopened: the data is there, nothing created again.
    with heracles.open(folder) as again:
        assert again.users.get("kept").cn == "Kept"
        report = again.bootstrap_report
        assert report is not None and report.created == 0 and not report.admin_created


def test_generated_admin_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERACLES_ADMIN_PASSWORD", raising=False)
    with heracles.open(tmp_path / "gen", "o=acme") as client:
        report = client.bootstrap_report
        assert report is not None and report.generated_password
        assert client.base_dn == "o=acme"
        # The generated password passes the policy and is the administrator's.
        admin = client.as_user("admin")
        admin.users.set_password(
            "admin", "Changed-Passw0rd-1", current_password=report.generated_password
        )


def test_open_twice_shares_the_directory(tmp_path: Path) -> None:
    a = heracles.open(tmp_path / "d")
    b = heracles.open(tmp_path / "d")
    a.users.create(uid="shared", cn="S", sn="S")
    assert b.users.get("shared").uid == "shared"
    a.close()
    assert b.users.exists("shared")
    b.close()
    with pytest.raises(heracles.HeraclesError) as info:
        with heracles.open(tmp_path / "d"):
            heracles.open(tmp_path / "d", "dc=other,dc=org")
    assert info.value.code == "INVALID_CONFIG"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(heracles.ValidationError):
        heracles.open(tmp_path / "x", "not a dn")
    with pytest.raises(heracles.ValidationError):
        heracles.open(tmp_path / "y", admin_password="weak")
    with pytest.raises(heracles.HeraclesError) as info:
        heracles.connect("http://localhost", "cn=x,dc=example,dc=com", "pw", "dc=example,dc=com")
    assert info.value.code == "INVALID_CONFIG"


def test_unreachable_server() -> None:
    with pytest.raises(heracles.DirectoryUnavailableError) as info:
        heracles.connect(
            "ldap://127.0.0.1:1", "cn=x,dc=example,dc=com", "pw", "dc=example,dc=com", timeout=2
        )
    assert info.value.code in ("DIRECTORY_UNAVAILABLE", "TIMEOUT")


def test_slapd_credentials_and_bind_identity(tag: str) -> None:
    env = slapd_env()
    if env is None:
        pytest.skip("no test slapd")
    with pytest.raises(heracles.HeraclesError) as info:
        heracles.connect(env["LDAP_URI"], env["SERVICE_DN"], "wrong", env["BASE_DN"])
    # A bind refused at connect is a configuration error of the caller (as for the server).
    assert info.value.code == "INVALID_CONFIG"
    assert info.value.details["ldap_result_code"] == 49
    with connect_slapd(env) as owner:
        assert owner.principal.admin
        assert heracles.Dn(owner.principal.dn) == heracles.Dn(env["SERVICE_DN"])
        owner.users.create(uid=tag, cn="Bind", sn="B", userPassword="Bind-Passw0rd-77")
        try:
            user = owner.users.get(tag)
            # A user binding acts with its own ACL.
            with heracles.connect(env["LDAP_URI"], user.dn, "Bind-Passw0rd-77", env["BASE_DN"]) as me:
                assert me.principal.uid == tag
                assert not me.principal.admin
                with pytest.raises(heracles.AclDeniedError):
                    me.users.create(uid=f"{tag}x", cn="x", sn="x")
                assert me.users.get(tag).uid == tag
        finally:
            owner.users.delete(tag)
    # TLS with the test CA.
    if env.get("LDAPS_URI") and env.get("TLS_CA"):
        with heracles.connect(
            env["LDAPS_URI"], env["SERVICE_DN"], env["SERVICE_PW"], env["BASE_DN"], env["TLS_CA"]
        ) as tls:
            assert tls.users.get("admin").uid == "admin"


def test_models_and_pages(embedded_client: heracles.Client, tag: str) -> None:
    user = embedded_client.users.create(uid=tag, cn="Model", sn="M", mail=f"{tag}@example.com")
    try:
        same = heracles.User(user.to_dict())
        assert same == user  # equality compares type and fields, not the version
        assert same.etag is None
        assert same != heracles.Group(user.to_dict())
        d = user.to_dict()
        d["cn"] = "changed"
        assert user.cn == "Model"  # to_dict is a copy
        assert pickle.loads(pickle.dumps(user)) == user
        assert "mail" in dir(user)
        assert sorted(user.keys()) == sorted(d)
        page = embedded_client.users.list(filter=f"uid:eq:{tag}")
        assert page == embedded_client.users.list(filter=f"uid:eq:{tag}")
        assert bool(page) and page[0] == user
        assert page[0:1] == [user]
        assert page.next_offset == 1
        assert "total=1" in repr(page)
        empty = embedded_client.users.list(filter=f"uid:eq:{tag}-none")
        assert not empty and len(empty) == 0
    finally:
        embedded_client.users.delete(tag)


def test_errors_carry_code_and_details() -> None:
    e = heracles.HeraclesError("boom", "ACL_DENIED", {"permission": "user:read"})
    assert (e.code, e.message, e.details) == ("ACL_DENIED", "boom", {"permission": "user:read"})
    assert str(e) == "ACL_DENIED: boom"
    copy = pickle.loads(pickle.dumps(heracles.NotFoundError("gone", "USER_NOT_FOUND")))
    assert isinstance(copy, heracles.NotFoundError) and copy.code == "USER_NOT_FOUND"
    assert issubclass(heracles.InvalidFilterError, heracles.ValidationError)
    for cls in (
        heracles.NotFoundError,
        heracles.AlreadyExistsError,
        heracles.ValidationError,
        heracles.InvalidFilterError,
        heracles.AclDeniedError,
        heracles.DirectoryUnavailableError,
    ):
        assert issubclass(cls, heracles.HeraclesError)


def test_admin_password_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERACLES_ADMIN_PASSWORD", ADMIN_PASSWORD)
    with heracles.open(tmp_path / "env") as client:
        report = client.bootstrap_report
        assert report is not None and report.admin_created and report.generated_password is None
        client.as_user("admin").users.set_password(
            "admin", "Changed-Passw0rd-2", current_password=ADMIN_PASSWORD
        )


def test_every_operation_is_wired(tmp_path: Path) -> None:
    from heracles._heracles import OPERATIONS

    with heracles.open(tmp_path / "ops") as client:
        for op in OPERATIONS:
            try:
                client._core.call(op, {})
            except heracles.HeraclesError as e:
                # Missing arguments are fine; an unknown operation is not.
                assert "operation" not in e.details, op
        with pytest.raises(heracles.NotFoundError) as info:
            client._core.call("users.fly", {})
        assert info.value.details["operation"] == "users.fly"
