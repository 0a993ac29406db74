"""Groups, departments, templates, settings and systems on both backends."""

from __future__ import annotations

from typing import Callable

import pytest

import heracles

MakeUser = Callable[..., heracles.User]
Cleanup = Callable[[Callable[[], object]], None]


# ---- groups ------------------------------------------------------------------------------


def test_groups(client: heracles.Client, make_user: MakeUser, tag: str, cleanup: Cleanup) -> None:
    make_user(f"{tag}a")
    b = make_user(f"{tag}b")
    g = client.groups.create(f"{tag}g", description="Developers", members=[f"{tag}a"])
    cleanup(lambda: client.groups.delete(f"{tag}g"))
    assert (g.cn, g.groupType, g.members, g.memberCount) == (f"{tag}g", "ldap", [f"{tag}a"], 1)
    assert g.gidNumber is None
    g = client.groups.add_member(f"{tag}g", b.dn)  # by DN
    assert sorted(g.members) == [f"{tag}a", f"{tag}b"]
    assert client.users.get(f"{tag}a").groups == [f"{tag}g"]
    g = client.groups.remove_member(f"{tag}g", f"{tag}a")
    assert g.members == [f"{tag}b"]
    g = client.groups.update(f"{tag}g", description=None)
    assert g.description is None
    with pytest.raises(heracles.NotFoundError) as info:
        client.groups.add_member(f"{tag}g", f"{tag}-nobody")
    assert info.value.code == "USER_NOT_FOUND"
    with pytest.raises(heracles.AlreadyExistsError):
        client.groups.create(f"{tag}g")
    posix = client.groups.create(f"{tag}p", groupType="posix")
    cleanup(lambda: client.groups.delete(f"{tag}p"))
    assert isinstance(posix.gidNumber, int)
    mixed = client.groups.create(f"{tag}m", groupType="mixed")
    cleanup(lambda: client.groups.delete(f"{tag}m"))
    mixed = client.groups.add_members(f"{tag}m", [f"{tag}a", f"{tag}b"])
    assert mixed.memberCount == 2
    page = client.groups.list(filter=f"cn:starts:{tag}", sort="cn")
    assert [x.cn for x in page] == [f"{tag}g", f"{tag}m", f"{tag}p"]
    projected = client.groups.list(filter=f"cn:eq:{tag}m", attributes="member")
    assert set(projected[0].to_dict()) == {"dn", "members"}
    assert [x.cn for x in client.groups.iter(filter=f"cn:starts:{tag}", page_size=1)] == [
        f"{tag}g",
        f"{tag}m",
        f"{tag}p",
    ]
    with pytest.raises(heracles.ValidationError):
        client.groups.create(f"{tag}x", groupType="weird")
    client.groups.delete(f"{tag}p")
    assert not client.groups.exists(f"{tag}p")


# ---- departments -------------------------------------------------------------------------


def test_departments(client: heracles.Client, make_user: MakeUser, tag: str, cleanup: Cleanup) -> None:
    top = client.departments.create(f"{tag}Eng", description="Engineering")
    cleanup(lambda: client.departments.delete(top.dn, recursive=True))
    sub = client.departments.create("Backend", parent=top.dn)
    assert heracles.Dn(sub.parent or "") == heracles.Dn(top.dn)
    assert client.departments.get(f"{tag}Eng").children_count == 1
    assert client.departments.get("Backend", parent=top.dn) == sub
    assert client.departments.get(sub.dn).ou == "Backend"
    updated = client.departments.update(f"{tag}Eng", description=None)
    assert updated.description is None
    nodes = [n for n in client.departments.tree() if n.department.ou == f"{tag}Eng"]
    assert len(nodes) == 1
    assert [(d, dep.ou) for d, dep in nodes[0].walk()] == [(0, f"{tag}Eng"), (1, "Backend")]
    assert nodes[0].to_dict()["children"][0]["department"]["ou"] == "Backend"
    make_user(tag, department=sub.dn)
    with pytest.raises(heracles.BusinessRuleError) as info:
        client.departments.delete(sub.dn)
    assert info.value.code == "BUSINESS_RULE_VIOLATION"
    page = client.departments.list(filter=f"ou:starts:{tag}")
    assert [d.ou for d in page] == [f"{tag}Eng"]
    client.departments.delete(top.dn, recursive=True)
    with pytest.raises(heracles.NotFoundError):
        client.departments.get(top.dn)
    assert not client.users.exists(tag)


# ---- templates ---------------------------------------------------------------------------


def test_templates(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    t = client.templates.create(
        f"{tag}t",
        description="Staff",
        defaults={"loginShell": "/bin/zsh", "homeDirectory": "/srv/home/{{uid}}"},
    )
    cleanup(lambda: client.templates.delete(f"{tag}t"))
    assert t.defaults["loginShell"] == "/bin/zsh"
    user = client.users.create(uid=f"{tag}u", cn="T", sn="T", template=f"{tag}t", posix={})
    cleanup(lambda: client.users.delete(f"{tag}u"))
    assert user.loginShell == "/bin/zsh"
    assert user.homeDirectory == f"/srv/home/{tag}u"
    t = client.templates.update(f"{tag}t", description=None)
    assert t.description is None
    assert client.templates.get(f"{tag}t").name == f"{tag}t"
    assert [x.name for x in client.templates.list(filter=f"name:eq:{tag}t")] == [f"{tag}t"]
    with pytest.raises(heracles.ValidationError):
        client.templates.create("Not a valid name!")
    with pytest.raises(heracles.NotFoundError) as info:
        client.templates.get(f"{tag}-none")
    assert info.value.code == "TEMPLATE_NOT_FOUND"


# ---- settings (only read on the shared slapd; written on a private directory) -------------


def test_settings_read(client: heracles.Client) -> None:
    s = client.settings.get("uid_range")
    assert set(s.value) == {"min", "max"}
    assert isinstance(s.default, bool)
    keys = [x.key for x in client.settings.iter()]
    assert "password_hash" in keys and "uid_range" in keys
    with pytest.raises(heracles.NotFoundError) as info:
        client.settings.get("no_such_setting")
    assert info.value.code == "SETTING_NOT_FOUND"


def test_settings_write(fresh: heracles.Client) -> None:
    s = fresh.settings.set("default_login_shell", "/bin/zsh")
    assert (s.value, s.default) == ("/bin/zsh", False)
    assert fresh.settings.value("default_login_shell") == "/bin/zsh"
    user = fresh.users.create(uid="shell", cn="S", sn="S", posix={})
    assert user.loginShell == "/bin/zsh"
    with pytest.raises(heracles.ValidationError):
        fresh.settings.set("uid_range", {"min": 10, "max": 5})
    reset = fresh.settings.reset("default_login_shell")
    assert reset.default is True
    assert fresh.settings.get("default_login_shell").value == "/bin/bash"


# ---- systems -----------------------------------------------------------------------------


def test_systems(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    srv = client.systems.create(
        f"{tag}srv", "server", ipAddress=["192.0.2.10", "2001:DB8::10"], macAddress="00-11-22-33-44-AA"
    )
    cleanup(lambda: client.systems.delete(f"{tag}srv"))
    assert srv.type == "server"
    assert srv.ipAddress == ["192.0.2.10", "2001:db8::10"]
    assert srv.macAddress == ["00:11:22:33:44:aa"]
    pr = client.systems.create(f"{tag}prn", "printer", description="Floor 2")
    cleanup(lambda: client.systems.delete(f"{tag}prn"))
    assert [s.cn for s in client.systems.list(filter=f"cn:starts:{tag}", type="printer")] == [
        f"{tag}prn"
    ]
    assert [s.cn for s in client.systems.iter(filter=f"cn:starts:{tag}")] == [
        f"{tag}prn",
        f"{tag}srv",
    ]
    pr = client.systems.update(f"{tag}prn", description=None, ipAddress="192.0.2.99")
    assert pr.description is None and pr.ipAddress == ["192.0.2.99"]
    with pytest.raises(heracles.AlreadyExistsError):
        client.systems.create(f"{tag}dup", "workstation", ipAddress="192.0.2.10")
    with pytest.raises(heracles.ValidationError):
        client.systems.create(f"{tag}bad", "server", ipAddress="300.1.1.1")
    with pytest.raises(heracles.NotFoundError) as info:
        client.systems.get(f"{tag}-none")
    assert info.value.code == "SYSTEM_NOT_FOUND"
