"""Access control through ``as_user``: the core's checks apply to Python callers too."""

from __future__ import annotations

from typing import Callable

import pytest

import heracles

MakeUser = Callable[..., heracles.User]
Cleanup = Callable[[Callable[[], object]], None]


def test_default_principal(client: heracles.Client, backend: str) -> None:
    p = client.principal
    assert p.admin is True
    assert p.uid is None
    if backend == "embedded":
        assert heracles.Dn(p.dn) == heracles.Dn(client.base_dn)


def test_a_user_sees_and_writes_only_what_its_acl_allows(
    client: heracles.Client, make_user: MakeUser, tag: str
) -> None:
    make_user(f"{tag}me", mail=f"{tag}@example.com")
    make_user(f"{tag}other")
    me = client.as_user(f"{tag}me")
    assert me.principal.uid == f"{tag}me"
    assert me.principal.admin is False
    # `self`: its own entry only.
    page = me.users.list(filter=f"uid:starts:{tag}")
    assert [u.uid for u in page] == [f"{tag}me"]
    assert page.total == 1
    with pytest.raises(heracles.AclDeniedError) as denied:
        me.users.get(f"{tag}other")
    assert denied.value.code == "ACL_DENIED"
    assert denied.value.details["permission"] == "user:read"
    assert me.users.update(f"{tag}me", telephoneNumber="+1 555 0101").telephoneNumber == (
        "+1 555 0101"
    )
    with pytest.raises(heracles.AclDeniedError) as attr:
        me.users.update(f"{tag}me", mail="new@example.com")
    assert attr.value.details["attribute"] == "mail"
    with pytest.raises(heracles.AclDeniedError) as create:
        me.users.create(uid=f"{tag}x", cn="x", sn="x")
    assert create.value.details["permission"] == "user:create"
    with pytest.raises(heracles.AclDeniedError):
        me.acl.policies()
    with pytest.raises(heracles.AclDeniedError):
        me.audit.list()
    assert not me.acl.check("delete", "user", client.users.get(f"{tag}other").dn)
    assert me.acl.check("read", "user", client.users.get(f"{tag}me").dn).allowed
    # Its own permissions need no acl:read.
    assert "user:read" in me.acl.permissions(f"{tag}me").permissions


def test_delegation_through_a_group_over_a_department(
    client: heracles.Client, make_user: MakeUser, tag: str, cleanup: Cleanup
) -> None:
    sales = client.departments.create(f"{tag}Sales")
    cleanup(lambda: client.departments.delete(sales.dn, recursive=True))
    other = client.departments.create(f"{tag}Other")
    cleanup(lambda: client.departments.delete(other.dn, recursive=True))
    make_user(f"{tag}hd")
    client.groups.create(f"{tag}helpdesk", members=[f"{tag}hd"])
    cleanup(lambda: client.groups.delete(f"{tag}helpdesk"))
    a = client.acl.create_assignment(
        "user-manager", f"{tag}helpdesk", subject_type="group", scope_type="subtree", scope=sales.dn
    )
    cleanup(lambda: client.acl.delete_assignment(a.id))
    assert a.policy == "user-manager" and a.scope_type == "subtree"
    hd = client.as_user(f"{tag}hd")
    made = hd.users.create(uid=f"{tag}s1", cn="S", sn="S", department=sales.dn)
    assert heracles.Dn(made.dn).parent == heracles.Dn(sales.dn)
    with pytest.raises(heracles.AclDeniedError):
        hd.users.create(uid=f"{tag}o1", cn="O", sn="O", department=other.dn)
    # Moving out of its subtree needs user:create where it goes.
    with pytest.raises(heracles.AclDeniedError):
        hd.users.move(f"{tag}s1", other.dn)
    perms = client.acl.permissions(f"{tag}hd")
    assert "user:create" in perms.permissions
    assert any(g.policy == "user-manager" for g in perms.grants)
    # The assignment gone, so is the right (this instance: at once).
    client.acl.delete_assignment(a.id)
    with pytest.raises(heracles.AclDeniedError):
        hd.users.create(uid=f"{tag}s2", cn="S", sn="S", department=sales.dn)


def test_policies_and_attribute_rules(
    client: heracles.Client, make_user: MakeUser, tag: str, cleanup: Cleanup
) -> None:
    make_user(f"{tag}reader")
    make_user(f"{tag}target", mail=f"{tag}@example.com", telephoneNumber="+1 555 0102")
    policy = client.acl.create_policy(
        f"{tag}-phone-book",
        ["user:read", "user:write"],
        description="names and phones",
        attributes={"user": {"read": ["cn", "telephoneNumber"], "write": ["telephoneNumber"]}},
    )
    cleanup(lambda: client.acl.delete_policy(policy.name))
    assert policy.permissions == ["user:read", "user:write"]
    assert policy.builtin is False
    a = client.acl.create_assignment(policy.name, f"{tag}reader")
    cleanup(lambda: client.acl.delete_assignment(a.id))
    reader = client.as_user(f"{tag}reader")
    seen = reader.users.get(f"{tag}target")
    assert seen.telephoneNumber == "+1 555 0102"
    assert "mail" not in seen  # not readable: left out
    reader.users.update(f"{tag}target", telephoneNumber="+1 555 0103")
    with pytest.raises(heracles.AclDeniedError):
        reader.users.update(f"{tag}target", description="x")
    decision = reader.acl.check("write", "user", seen.dn, attribute="mail")
    assert not decision.allowed and "mail" in decision.reason
    updated = client.acl.update_policy(policy.name, description=None)
    assert updated.description is None
    assert client.acl.get_policy(policy.name).name == policy.name
    names = [p.name for p in client.acl.iter_policies()]
    assert "admin" in names and policy.name in names
    assert [x.id for x in client.acl.assignments(filter=f"id:eq:{a.id}")] == [a.id]
    assert client.acl.get_policy("admin").builtin is True
    with pytest.raises(heracles.HeraclesError) as builtin:
        client.acl.update_policy("admin", description="mine")
    assert builtin.value.code == "BUSINESS_RULE_VIOLATION"
    with pytest.raises(heracles.NotFoundError) as nf:
        client.acl.get_policy(f"{tag}-none")
    assert nf.value.code == "POLICY_NOT_FOUND"


def test_as_user_errors(client: heracles.Client, tag: str) -> None:
    with pytest.raises(heracles.NotFoundError):
        client.as_user(f"{tag}-nobody")
    with pytest.raises(heracles.NotFoundError):
        client.as_user(f"uid={tag}-nobody,ou=people,{client.base_dn}")
    with pytest.raises(heracles.ValidationError):
        client.as_user("uid=,bad")
