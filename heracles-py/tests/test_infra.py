"""DNS, DHCP, sudo rules and SSH keys on both backends."""

from __future__ import annotations

import os
from typing import Callable

import pytest

import heracles

MakeUser = Callable[..., heracles.User]
Cleanup = Callable[[Callable[[], object]], None]

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R"


def octet() -> int:
    return os.getpid() % 200 + 20


def test_dns_zones_and_records(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    name = f"{tag}.test"
    zone = client.dns.create_zone(
        name, f"ns1.{name}", f"hostmaster@{name}", primaryNsAddress="10.0.0.1", ttl=600
    )
    cleanup(lambda: client.dns.delete_zone(name))
    assert (zone.zoneName, zone.zoneType, zone.ttl) == (name, "forward", 600)
    serial = zone.serial
    www = client.dns.create_record(name, "www", "A", "192.0.2.10")
    assert (www.name, www.type, www.value) == ("www", "A", "192.0.2.10")
    client.dns.create_record(name, "www", "A", "192.0.2.11")
    mail = client.dns.create_record(name, "mail", "A", "192.0.2.20", ttl=300)
    assert mail.ttl == 300
    with pytest.raises(heracles.ValidationError):
        client.dns.create_record(name, "www", "A", "192.0.2.12", ttl=60)  # one TTL per set
    client.dns.create_record(name, "@", "MX", "10 mail.example.com.")
    rs = client.dns.get_records(name, "www", "A")
    assert sorted(rs.values) == ["192.0.2.10", "192.0.2.11"]
    assert client.dns.get_zone(name).serial > serial
    page = client.dns.records(name, filter="type:eq:A")
    assert {r.value for r in page} == {"192.0.2.10", "192.0.2.11", "192.0.2.20", "10.0.0.1"}
    assert {r.name for r in client.dns.iter_records(name)} >= {"www", "@"}
    assert [z.zoneName for z in client.dns.zones(filter=f"zoneName:eq:{name}")] == [name]
    updated = client.dns.update_zone(name, adminEmail=f"dns@{name}")
    assert updated.adminEmail == f"dns@{name}"
    client.dns.delete_records(name, "www", "A", "192.0.2.11")
    assert client.dns.get_records(name, "www", "A").values == ["192.0.2.10"]
    with pytest.raises(heracles.ValidationError):
        client.dns.create_record(name, "bad", "A", "300.0.0.1")
    with pytest.raises(heracles.ValidationError):
        client.dns.create_record(name, "x", "MX", "mail.example.com.")  # no priority
    with pytest.raises(heracles.NotFoundError) as info:
        client.dns.get_zone(f"{tag}-none.test")
    assert info.value.code == "ZONE_NOT_FOUND"
    with pytest.raises(heracles.NotFoundError) as rec:
        client.dns.get_records(name, "nothing", "A")
    assert rec.value.code == "RECORD_NOT_FOUND"


def test_dhcp_tree(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    o = octet()
    svc = client.dhcp.create_service(
        tag, description="main", statements=["default-lease-time 3600"]
    )
    cleanup(lambda: client.dhcp.delete_service(tag, recursive=True))
    assert svc.cn == tag and svc.statements == ["default-lease-time 3600"]
    client.dhcp.create_shared_network(tag, "lan", description="office")
    sub = client.dhcp.create_subnet(tag, f"10.{o}.1.0", 24, shared_network="lan")
    assert (sub.network, sub.prefix, sub.sharedNetwork) == (f"10.{o}.1.0", 24, "lan")
    pool = client.dhcp.create_pool(tag, f"10.{o}.1.0", f"10.{o}.1.100 10.{o}.1.199")
    assert pool.size == 100
    host = client.dhcp.create_host(
        tag, "printer1", macAddress="00-11-22-33-44-66", fixedAddress=f"10.{o}.1.50"
    )
    assert host.macAddress == "00:11:22:33:44:66"
    tree = client.dhcp.get_service(tag)
    assert [s.cn for s in tree.sharedNetworks] == ["lan"]
    assert [s.network for s in tree.subnets] == [f"10.{o}.1.0"]
    assert [p.id for p in tree.subnets[0].pools] == [pool.id]
    assert [h.cn for h in tree.hosts] == ["printer1"]
    assert [s.cn for s in client.dhcp.services(filter=f"cn:eq:{tag}")] == [tag]
    assert [s.cn for s in client.dhcp.shared_networks(tag)] == ["lan"]
    assert [s.network for s in client.dhcp.subnets(tag, shared_network="lan")] == [f"10.{o}.1.0"]
    assert [p.range for p in client.dhcp.pools(tag, f"10.{o}.1.0")] == [pool.range]
    assert client.dhcp.get_pool(tag, f"10.{o}.1.0", pool.id) == pool
    assert client.dhcp.get_subnet(tag, f"10.{o}.1.0").network == f"10.{o}.1.0"
    assert client.dhcp.get_shared_network(tag, "lan").description == "office"
    assert client.dhcp.get_host(tag, "printer1") == host
    assert [h.cn for h in client.dhcp.hosts(tag)] == ["printer1"]
    client.dhcp.update_host(tag, "printer1", description="2nd floor")
    client.dhcp.update_subnet(tag, f"10.{o}.1.0", description="lan subnet")
    client.dhcp.update_shared_network(tag, "lan", description=None)
    client.dhcp.update_service(tag, options=['domain-name "example.com"'])
    updated = client.dhcp.update_pool(tag, f"10.{o}.1.0", pool.id, description="clients")
    assert (updated.id, updated.description) == (pool.id, "clients")
    with pytest.raises(heracles.ValidationError):
        client.dhcp.update_pool(tag, f"10.{o}.1.0", pool.id, range=f"10.{o}.1.100 10.{o}.1.149")
    with pytest.raises(heracles.ValidationError):
        client.dhcp.create_pool(tag, f"10.{o}.1.0", f"10.{o}.2.1 10.{o}.2.9")  # outside
    with pytest.raises(heracles.ValidationError):
        client.dhcp.create_host(tag, "bad", macAddress="zz:11")
    with pytest.raises(heracles.BusinessRuleError):
        client.dhcp.delete_subnet(tag, f"10.{o}.1.0")  # holds a pool
    client.dhcp.delete_pool(tag, f"10.{o}.1.0", updated.id)
    client.dhcp.delete_host(tag, "printer1")
    client.dhcp.delete_subnet(tag, f"10.{o}.1.0")
    client.dhcp.delete_shared_network(tag, "lan")
    with pytest.raises(heracles.NotFoundError) as info:
        client.dhcp.get_host(tag, "printer1")
    assert info.value.code == "DHCP_NOT_FOUND"


def test_sudo_rules(client: heracles.Client, make_user: MakeUser, tag: str, cleanup: Cleanup) -> None:
    make_user(tag)
    client.groups.create(f"{tag}wa")
    cleanup(lambda: client.groups.delete(f"{tag}wa"))
    rule = client.sudo.create(
        f"{tag}-web",
        sudoUser=[tag, f"%{tag}wa"],
        sudoHost="ALL",
        sudoCommand=["/usr/bin/systemctl restart nginx"],
        sudoOption=["!authenticate"],
    )
    cleanup(lambda: client.sudo.delete(f"{tag}-web"))
    assert sorted(rule.sudoUser) == sorted([tag, f"%{tag}wa"])
    with pytest.raises(heracles.ValidationError):
        client.sudo.create(f"{tag}-x", sudoUser="%no-such-group", sudoHost="ALL", sudoCommand="ALL")
    assert rule.sudoHost == ["ALL"]
    assert client.sudo.get(f"{tag}-web") == rule
    assert [r.cn for r in client.sudo.list(filter=f"cn:eq:{tag}-web")] == [f"{tag}-web"]
    assert [r.cn for r in client.sudo.iter(filter=f"cn:starts:{tag}")] == [f"{tag}-web"]
    rule = client.sudo.update(f"{tag}-web", sudoOption=None, description="web")
    assert rule.sudoOption == [] and rule.description == "web"
    with pytest.raises(heracles.ValidationError):
        client.sudo.create(f"{tag}-bad", sudoUser="ALL", sudoHost="ALL", sudoCommand="systemctl")
    with pytest.raises(heracles.NotFoundError) as info:
        client.sudo.get(f"{tag}-none")
    assert info.value.code == "SUDO_RULE_NOT_FOUND"


def test_ssh_keys(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    make_user(tag)
    key = client.users.add_ssh_key(tag, f"{ED25519} {tag}@laptop")
    assert key.type == "ssh-ed25519"
    assert key.comment == f"{tag}@laptop"
    assert key.fingerprint is not None and key.fingerprint.startswith("SHA256:")
    assert [k.id for k in client.users.ssh_keys(tag)] == [key.id]
    me = client.as_user(tag)
    assert [k.id for k in me.users.ssh_keys(tag)] == [key.id]  # self may read its keys
    with pytest.raises(heracles.AlreadyExistsError):
        client.users.add_ssh_key(tag, ED25519)
    with pytest.raises(heracles.ValidationError):
        client.users.add_ssh_key(tag, "ssh-ed25519 not-base64")
    me.users.delete_ssh_key(tag, key.id)
    assert len(client.users.ssh_keys(tag)) == 0
    with pytest.raises(heracles.NotFoundError) as info:
        client.users.delete_ssh_key(tag, key.id)
    assert info.value.code == "SSH_KEY_NOT_FOUND"


def test_system_with_dns_and_dhcp(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    o = octet()
    zone = f"{tag}.test"
    client.dns.create_zone(zone, f"ns1.{zone}", f"hostmaster@{zone}", primaryNsAddress="10.0.0.1")
    cleanup(lambda: client.dns.delete_zone(zone))
    client.dhcp.create_service(f"{tag}d")
    cleanup(lambda: client.dhcp.delete_service(f"{tag}d", recursive=True))
    client.dhcp.create_subnet(f"{tag}d", f"10.{o}.7.0", 24)
    system = client.systems.create(
        f"{tag}h",
        "workstation",
        ipAddress=f"10.{o}.7.20",
        macAddress="02:00:00:00:07:20",
        dns={"zone": zone},
        dhcp={"service": f"{tag}d"},
    )
    cleanup(lambda: client.systems.delete(f"{tag}h"))
    assert system.ipAddress == [f"10.{o}.7.20"]
    assert client.dns.get_records(zone, f"{tag}h", "A").values == [f"10.{o}.7.20"]
    assert client.dhcp.get_host(f"{tag}d", f"{tag}h").fixedAddress == f"10.{o}.7.20"
