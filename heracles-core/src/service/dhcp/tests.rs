//! The DHCP service on the embedded directory (the integration tests run the same kind of
//! scenario on slapd too).

#![allow(clippy::too_many_lines, clippy::many_single_char_names)]
use serde_json::json;

use super::*;
use crate::service::settings::testing::{admin, fixture, user};

fn service(cn: &str) -> NewService {
    serde_json::from_value(json!({
        "cn": cn, "description": "main",
        "statements": ["default-lease-time 3600"],
        "options": ["domain-name \"example.com\""]
    }))
    .unwrap()
}

fn subnet(network: &str, prefix: i64) -> NewSubnet {
    NewSubnet {
        network: network.into(),
        prefix: Some(prefix),
        ..Default::default()
    }
}

fn pool(range: &str) -> NewPool {
    NewPool {
        range: range.into(),
        ..Default::default()
    }
}

fn host(cn: &str, mac: &str, fixed: Option<&str>) -> NewHost {
    NewHost {
        cn: cn.into(),
        mac_address: Some(mac.into()),
        fixed_address: fixed.map(str::to_owned),
        ..Default::default()
    }
}

#[tokio::test]
async fn non_admins_are_denied() {
    let (_dir, h) = fixture();
    let adm = admin(&h);
    let d = h.dhcp();
    d.create_service(&adm, &service("dhcp1")).await.unwrap();
    d.create_subnet(&adm, "dhcp1", None, &subnet("10.0.0.0", 24))
        .await
        .unwrap();
    let u = user();
    for e in [
        d.list_services(&u, &ListQuery::default())
            .await
            .unwrap_err(),
        d.get_service(&u, "dhcp1").await.unwrap_err(),
        d.create_service(&u, &service("dhcp2")).await.unwrap_err(),
        d.delete_service(&u, "dhcp1", true).await.unwrap_err(),
        d.get_subnet(&u, "dhcp1", "10.0.0.0").await.unwrap_err(),
        d.create_pool(&u, "dhcp1", "10.0.0.0", &pool("10.0.0.10 10.0.0.20"))
            .await
            .unwrap_err(),
        d.create_host(&u, "dhcp1", &host("h1", "00:11:22:33:44:55", None))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::AclDenied, "{e}");
        assert!(e.details()["permission"]
            .as_str()
            .unwrap()
            .starts_with("dhcp:"));
    }
    assert!(d.get_service(&adm, "dhcp2").await.is_err());
}

#[tokio::test]
async fn a_service_tree_round_trip() {
    let (_dir, h) = fixture();
    let adm = admin(&h);
    let d = h.dhcp();
    let created = d.create_service(&adm, &service("dhcp1")).await.unwrap();
    assert_eq!(
        created.service.dn.to_string(),
        "cn=dhcp1,ou=dhcp,dc=example,dc=com"
    );
    assert_eq!(created.service.server.as_deref(), Some("dhcp1"));
    // The server entry dhcpd looks itself up by points back at the service.
    let server_dn = created.service.primary_dn.clone().unwrap();
    assert_eq!(
        server_dn.to_string(),
        "cn=dhcp1,ou=servers,ou=dhcp,dc=example,dc=com"
    );
    let server = h.directory().get(&server_dn, &[]).await.unwrap().unwrap();
    assert!(server.has_value("objectClass", "dhcpServer"));
    assert_eq!(
        server.strs("dhcpServiceDN"),
        [created.service.dn.to_string()]
    );
    // A second service served by the same server is added to the same entry.
    let mut second = service("dhcp2");
    second.server = Some("dhcp1".into());
    d.create_service(&adm, &second).await.unwrap();
    let server = h.directory().get(&server_dn, &[]).await.unwrap().unwrap();
    assert_eq!(server.strs("dhcpServiceDN").len(), 2);

    d.create_shared_network(
        &adm,
        "dhcp1",
        &NewSharedNetwork {
            cn: "lan".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s = d
        .create_subnet(&adm, "dhcp1", Some("lan"), &subnet("192.168.1.0", 24))
        .await
        .unwrap();
    assert_eq!(s.shared_network.as_deref(), Some("lan"));
    assert_eq!(s.netmask, "255.255.255.0");
    d.create_subnet(&adm, "dhcp1", None, &subnet("10.0.0.0/8", 0).clone())
        .await
        .unwrap_err();
    d.create_subnet(
        &adm,
        "dhcp1",
        None,
        &NewSubnet {
            network: "10.0.0.0/8".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let p = d
        .create_pool(
            &adm,
            "dhcp1",
            "192.168.1.0",
            &pool("192.168.1.100 192.168.1.199"),
        )
        .await
        .unwrap();
    assert_eq!(p.id, "192.168.1.100-192.168.1.199");
    assert_eq!(p.size, 100);
    let hst = d
        .create_host(
            &adm,
            "dhcp1",
            &host("printer1", "00-11-22-33-44-66", Some("192.168.1.50")),
        )
        .await
        .unwrap();
    assert_eq!(hst.mac_address.as_deref(), Some("00:11:22:33:44:66"));
    assert_eq!(hst.subnet.as_deref(), Some("192.168.1.0"));
    let stored = h.directory().get(&hst.dn, &[]).await.unwrap().unwrap();
    assert_eq!(stored.strs("dhcpHWAddress"), ["ethernet 00:11:22:33:44:66"]);
    assert_eq!(
        stored.strs("dhcpStatements"),
        ["fixed-address 192.168.1.50"]
    );

    let tree = d.get_service(&adm, "dhcp1").await.unwrap();
    assert_eq!(tree.shared_networks.len(), 1);
    let nets: Vec<&str> = tree.subnets.iter().map(|s| s.network.as_str()).collect();
    assert_eq!(nets, ["10.0.0.0", "192.168.1.0"]);
    assert_eq!(tree.subnets[1].pools.len(), 1);
    assert_eq!(tree.hosts.len(), 1);

    // Not empty: 422 unless recursive; recursive removes everything and the server entry
    // keeps serving the other service.
    let e = d.delete_service(&adm, "dhcp1", false).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    d.delete_service(&adm, "dhcp1", true).await.unwrap();
    let e = d.get_service(&adm, "dhcp1").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::DhcpNotFound);
    assert_eq!(e.details()["service"], "dhcp1");
    let server = h.directory().get(&server_dn, &[]).await.unwrap().unwrap();
    assert_eq!(server.strs("dhcpServiceDN").len(), 1);
    d.delete_service(&adm, "dhcp2", false).await.unwrap();
    assert!(h.directory().get(&server_dn, &[]).await.unwrap().is_none());
}

#[tokio::test]
async fn rules_between_objects() {
    let (_dir, h) = fixture();
    let adm = admin(&h);
    let d = h.dhcp();
    d.create_service(&adm, &service("s")).await.unwrap();
    d.create_subnet(&adm, "s", None, &subnet("192.168.1.0", 24))
        .await
        .unwrap();
    let code = |r: Result<Subnet>| r.unwrap_err().code();
    assert_eq!(
        code(
            d.create_subnet(&adm, "s", None, &subnet("192.168.1.0", 25))
                .await
        ),
        ErrorCode::AlreadyExists
    );
    assert_eq!(
        code(
            d.create_subnet(&adm, "s", None, &subnet("192.168.0.0", 16))
                .await
        ),
        ErrorCode::BusinessRuleViolation
    );
    assert_eq!(
        code(
            d.create_subnet(&adm, "s", None, &subnet("192.168.1.1", 24))
                .await
        ),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        code(
            d.create_subnet(&adm, "nope", None, &subnet("10.0.0.0", 8))
                .await
        ),
        ErrorCode::DhcpNotFound
    );
    d.create_pool(&adm, "s", "192.168.1.0", &pool("192.168.1.10 192.168.1.20"))
        .await
        .unwrap();
    let pcode = |r: Result<Pool>| r.unwrap_err().code();
    for (range, want) in [
        ("192.168.1.10 192.168.1.20", ErrorCode::AlreadyExists),
        (
            "192.168.1.20 192.168.1.30",
            ErrorCode::BusinessRuleViolation,
        ),
        ("192.168.1.30 192.168.1.21", ErrorCode::ValidationFailed),
        ("192.168.1.0 192.168.1.5", ErrorCode::ValidationFailed),
        ("192.168.2.1 192.168.2.5", ErrorCode::ValidationFailed),
    ] {
        assert_eq!(
            pcode(d.create_pool(&adm, "s", "192.168.1.0", &pool(range)).await),
            want,
            "{range}"
        );
    }
    d.create_host(
        &adm,
        "s",
        &host("a", "00:11:22:33:44:55", Some("192.168.1.5")),
    )
    .await
    .unwrap();
    let hcode = |r: Result<Host>| r.unwrap_err().code();
    for (h_, want) in [
        (
            host("a", "00:11:22:33:44:56", None),
            ErrorCode::AlreadyExists,
        ),
        (
            host("b", "00:11:22:33:44:55", None),
            ErrorCode::AlreadyExists,
        ),
        (
            host("c", "00:11:22:33:44:57", Some("10.0.0.1")),
            ErrorCode::ValidationFailed,
        ),
        (
            host("c", "00:11:22:33:44:57", Some("192.168.1.255")),
            ErrorCode::ValidationFailed,
        ),
        (
            host("c", "ff:ff:ff:ff:ff:ff", None),
            ErrorCode::ValidationFailed,
        ),
        (
            host("c d", "00:11:22:33:44:57", None),
            ErrorCode::ValidationFailed,
        ),
    ] {
        assert_eq!(hcode(d.create_host(&adm, "s", &h_).await), want, "{h_:?}");
    }
    // One machine with two cards may share a fixed address.
    d.create_host(
        &adm,
        "s",
        &host("a-wifi", "00:11:22:33:44:58", Some("192.168.1.5")),
    )
    .await
    .unwrap();
    // A subnet holding a fixed address cannot shrink away from it, nor be deleted.
    let e = d
        .update_subnet(
            &adm,
            "s",
            "192.168.1.0",
            &SubnetUpdate {
                prefix: Some(29),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    let e = d
        .delete_subnet(&adm, "s", "192.168.1.0", true)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    assert_eq!(e.details()["hosts"], json!(["a", "a-wifi"]));
    // Growing is fine.
    let grown = d
        .update_subnet(
            &adm,
            "s",
            "192.168.1.0",
            &SubnetUpdate {
                prefix: Some(23),
                ..Default::default()
            },
        )
        .await;
    // 192.168.1.0 has host bits under /23.
    assert_eq!(grown.unwrap_err().code(), ErrorCode::ValidationFailed);
    // Hosts: moving the fixed address, removing the MAC.
    let upd: HostUpdate =
        serde_json::from_value(json!({"fixedAddress": "192.168.1.6", "macAddress": null})).unwrap();
    let a = d.update_host(&adm, "s", "a", &upd).await.unwrap();
    assert_eq!(a.fixed_address.as_deref(), Some("192.168.1.6"));
    assert_eq!(a.mac_address, None);
    // The pool's range cannot change.
    let upd: PoolUpdate =
        serde_json::from_value(json!({"range": "192.168.1.10 192.168.1.21"})).unwrap();
    let e = d
        .update_pool(&adm, "s", "192.168.1.0", "192.168.1.10-192.168.1.20", &upd)
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "immutable");
}

#[tokio::test]
async fn if_match_guards_writes() {
    let (_dir, h) = fixture();
    let adm = admin(&h);
    let d = h.dhcp();
    d.create_service(&adm, &service("s")).await.unwrap();
    d.create_subnet(&adm, "s", None, &subnet("10.1.0.0", 16))
        .await
        .unwrap();
    let current = d.get_subnet(&adm, "s", "10.1.0.0").await.unwrap();
    let tag = crate::service::etag_of(&current).unwrap();
    let stale = IfMatch::parse("\"0123\"");
    let upd: SubnetUpdate = serde_json::from_value(json!({"description": "x"})).unwrap();
    let e = d
        .if_match(Some(&stale))
        .update_subnet(&adm, "s", "10.1.0.0", &upd)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let ok = IfMatch::parse(&tag);
    let after = d
        .if_match(Some(&ok))
        .update_subnet(&adm, "s", "10.1.0.0", &upd)
        .await
        .unwrap();
    assert_eq!(after.description.as_deref(), Some("x"));
    // The service's tag covers its tree: a change below makes the old one stale.
    let tree = d.get_service(&adm, "s").await.unwrap();
    let tag = IfMatch::parse(&crate::service::etag_of(&tree).unwrap());
    d.create_pool(&adm, "s", "10.1.0.0", &pool("10.1.0.10 10.1.0.20"))
        .await
        .unwrap();
    let e = d
        .if_match(Some(&tag))
        .delete_service(&adm, "s", true)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
}
