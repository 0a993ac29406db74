"""Users on both backends: CRUD, lists, paging, passwords, locking, moves, versions."""

from __future__ import annotations

from typing import Callable

import pytest

import heracles
from conftest import USER_PASSWORD

MakeUser = Callable[..., heracles.User]


def test_create_get_and_model(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    user = make_user(tag, cn="John Doe", sn="Doe", givenName="John", mail=f"{tag}@example.com")
    assert user.uid == tag
    assert user.cn == "John Doe"
    assert user.mail == f"{tag}@example.com"
    assert user.givenName == "John"
    assert user.telephoneNumber is None  # declared, unset
    assert user.locked is False
    assert user.groups == []
    assert "inetOrgPerson" in user.objectClass
    assert heracles.Dn(user.dn) == heracles.Dn(f"uid={tag},ou=people,{client.base_dn}")
    assert user.etag is not None
    got = client.users.get(tag)
    assert got == user
    assert got.to_dict() == user.to_dict()
    assert "userPassword" not in got.to_dict()
    assert got["cn"] == "John Doe"
    assert got.get("nothing", 3) == 3
    assert "mail" in got
    assert repr(got).startswith(f"User(uid='{tag}'")
    with pytest.raises(AttributeError):
        got.no_such_field
    with pytest.raises(AttributeError):
        got.cn = "x"
    assert client.users.exists(tag)
    assert not client.users.exists(f"{tag}-nope")


def test_posix_allocation(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    a = make_user(f"{tag}a", posix={"uidNumber": None})
    b = make_user(f"{tag}b", posix={"uidNumber": None, "loginShell": "/bin/zsh"})
    assert isinstance(a.uidNumber, int) and isinstance(b.uidNumber, int)
    assert a.uidNumber != b.uidNumber
    assert a.homeDirectory == f"/home/{tag}a"
    assert b.loginShell == "/bin/zsh"


def test_list_filter_sort_attributes_paging(
    client: heracles.Client, make_user: MakeUser, tag: str
) -> None:
    for i in range(5):
        make_user(f"{tag}u{i}", cn=f"Member {tag} {4 - i}", mail=f"{tag}{i}@example.com")
    page = client.users.list(filter=[f"uid:starts:{tag}u"], limit=2, offset=0, sort="cn")
    assert isinstance(page, heracles.Page)
    assert (page.total, page.limit, page.offset, page.has_more) == (5, 2, 0, True)
    assert len(page) == 2
    assert [u.uid for u in page] == [f"{tag}u4", f"{tag}u3"]  # by cn
    assert page[0].uid == f"{tag}u4"
    last = client.users.list(filter=f"uid:starts:{tag}u", limit=2, offset=4, sort="cn")
    assert [u.uid for u in last] == [f"{tag}u0"]
    assert not last.has_more
    desc = client.users.list(filter=f"uid:starts:{tag}u", sort="-uid")
    assert [u.uid for u in desc][0] == f"{tag}u4"
    only = client.users.list(
        filter=[heracles.Filter.starts("uid", f"{tag}u"), "mail:contains:example"],
        attributes=["mail"],
    )
    assert only.total == 5
    assert set(only[0].to_dict()) == {"dn", "mail"}
    assert only[0].uid is None  # left out by attributes=
    assert only.to_dict()["pagination"]["total"] == 5
    assert client.users.list(filter=f"uid:eq:{tag}-none").total == 0


def test_iter_streams_page_by_page(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    for i in range(7):
        make_user(f"{tag}i{i}")
    it = client.users.iter(filter=f"uid:starts:{tag}i", page_size=3)
    first = next(it)
    assert first.uid == f"{tag}i0"
    rest = list(it)
    assert [u.uid for u in rest] == [f"{tag}i{i}" for i in range(1, 7)]
    with pytest.raises(ValueError):
        list(client.users.iter(page_size=0))


def test_update_and_none_removes(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    make_user(tag, mail=f"{tag}@example.com")
    user = client.users.update(tag, telephoneNumber="+1 555 0100", mail=None)
    assert user.telephoneNumber == "+1 555 0100"
    assert user.mail is None
    assert "mail" not in user
    user = client.users.update(tag, posix={"uidNumber": None})
    assert user.uidNumber is not None
    with pytest.raises(heracles.ValidationError) as info:
        client.users.update(tag, noSuchAttribute="x")
    assert info.value.code == "VALIDATION_FAILED"
    with pytest.raises(heracles.ValidationError):
        client.users.update(tag, uid="other")


def test_if_match(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    user = make_user(tag)
    assert user.etag is not None
    changed = client.users.update(tag, if_match=user.etag, description="one")
    with pytest.raises(heracles.PreconditionFailedError) as info:
        client.users.update(tag, if_match=user.etag, description="two")
    assert info.value.code == "PRECONDITION_FAILED"
    assert client.users.get(tag).description == "one"
    with pytest.raises(heracles.PreconditionFailedError):
        client.users.delete(tag, if_match=user.etag)
    assert changed.etag is not None
    client.users.delete(tag, if_match=changed.etag)
    assert not client.users.exists(tag)


def test_errors(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    with pytest.raises(heracles.NotFoundError) as nf:
        client.users.get(f"{tag}-missing")
    assert nf.value.code == "USER_NOT_FOUND"
    assert nf.value.details["uid"] == f"{tag}-missing"
    assert isinstance(nf.value, LookupError)
    assert str(nf.value).startswith("USER_NOT_FOUND: ")
    make_user(tag)
    with pytest.raises(heracles.AlreadyExistsError) as ae:
        client.users.create(uid=tag, cn="x", sn="y")
    assert ae.value.code == "ALREADY_EXISTS"
    with pytest.raises(heracles.ValidationError) as bad_uid:
        client.users.create(uid="Not Valid!", cn="x", sn="y")
    assert bad_uid.value.details.get("field") == "uid"
    with pytest.raises(heracles.ValidationError):
        client.users.create(uid=f"{tag}p", cn="x", sn="y", userPassword="short")
    with pytest.raises(heracles.InvalidFilterError) as bad:
        client.users.list(filter=["uid:eq:x", "loginShell:contains:bash"])
    assert bad.value.details["index"] == 1
    with pytest.raises(heracles.InvalidFilterError):
        client.users.list(filter="noSuchAttr:eq:x")
    with pytest.raises(heracles.ValidationError) as pg:
        client.users.list(limit=0)
    assert pg.value.code == "INVALID_PAGINATION"
    with pytest.raises(heracles.ValidationError):
        client.users.list(limit=1001)
    with pytest.raises(heracles.ValidationError):
        client.users.list(sort="noSuchAttr")
    with pytest.raises(heracles.ValidationError):
        client.users.list(attributes=["noSuchAttr"])
    with pytest.raises(TypeError):
        client.users.update(tag, description=object())


def test_password_lock_unlock(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    make_user(tag, userPassword=USER_PASSWORD)
    client.users.set_password(tag, "Another-Passw0rd-7")
    with pytest.raises(heracles.ValidationError):
        client.users.set_password(tag, "weak")
    me = client.as_user(tag)
    with pytest.raises(heracles.ValidationError):
        # One's own password needs the current one.
        me.users.set_password(tag, "Third-Passw0rd-99")
    with pytest.raises(heracles.InvalidCredentialsError):
        me.users.set_password(tag, "Third-Passw0rd-99", current_password="wrong-one")
    me.users.set_password(tag, "Third-Passw0rd-99", current_password="Another-Passw0rd-7")
    locked = client.users.lock(tag)
    assert locked.locked is True
    assert client.users.get(tag).locked is True
    assert client.users.unlock(tag).locked is False


def test_delete(client: heracles.Client, tag: str) -> None:
    client.users.create(uid=tag, cn="x", sn="y")
    client.users.delete(tag)
    with pytest.raises(heracles.NotFoundError):
        client.users.delete(tag)


def test_move_between_departments(
    client: heracles.Client,
    make_user: MakeUser,
    tag: str,
    cleanup: Callable[[Callable[[], object]], None],
) -> None:
    a = client.departments.create(f"{tag}A")
    cleanup(lambda: client.departments.delete(a.dn, recursive=True))
    b = client.departments.create(f"{tag}B")
    cleanup(lambda: client.departments.delete(b.dn, recursive=True))
    make_user(tag, department=a.dn)
    group = client.groups.create(f"{tag}g", groupType="mixed", members=[tag])
    cleanup(lambda: client.groups.delete(group.cn))
    moved = client.users.move(tag, b.dn)
    assert heracles.Dn(moved.dn).parent == heracles.Dn(b.dn)
    assert moved.groups == [f"{tag}g"]
    assert client.groups.get(f"{tag}g").members == [tag]
    assert client.groups.get(f"{tag}g").memberCount == 1
    back = client.users.move(tag, None)
    assert heracles.Dn(back.dn).parent == heracles.Dn(f"ou=people,{client.base_dn}")
    same = client.users.move(tag, None)
    assert same.dn == back.dn
    with pytest.raises(heracles.NotFoundError) as info:
        client.users.move(tag, f"{tag}-nowhere")
    assert info.value.code == "DEPARTMENT_NOT_FOUND"
