//! Systems through the core, on both backends: types in their containers, addresses
//! validated, canonical and unique, the RFC 2307 classes following the addresses, ACL and
//! audit.

use heracles_core::service::dhcp::{NewService, NewSubnet};
use heracles_core::service::dns::NewZone;
use heracles_core::service::systems::{DhcpLink, DnsLink, NewSystem, SystemType, SystemUpdate};
use heracles_core::service::{Heracles, ListQuery, Principal};
use heracles_core::ErrorCode;

use crate::fixture::Target;

fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{label}{}z{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A distinct private address per call (tests share the slapd).
fn address(n: u32) -> String {
    let x = (std::process::id() % 200) + 10;
    format!("10.{x}.{}.{}", n / 250, n % 250 + 1)
}

pub async fn systems_round_trip(t: &Target) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    let s = h.systems();
    let (web, printer) = (unique("web"), unique("prn"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_micros()
        % 60_000;
    let (ip1, ip2) = (address(seed), address(seed + 1));
    let mac = format!("02:00:00:{:02x}:{:02x}:01", seed % 256, seed / 256 % 256);
    let created = s
        .create(
            &admin,
            &NewSystem {
                cn: web.clone(),
                system_type: "server".into(),
                ip_address: vec![ip1.clone(), "2001:DB8::10".into()],
                mac_address: vec![mac.to_uppercase().replace(':', "-")],
                description: Some("Web server".into()),
                dns: None,
                dhcp: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.system_type, SystemType::Server);
    assert!(created
        .dn
        .to_string()
        .starts_with(&format!("cn={web},ou=servers,ou=systems,")));
    assert_eq!(
        created.ip_address,
        vec![ip1.clone(), "2001:db8::10".to_owned()]
    );
    assert_eq!(created.mac_address, vec![mac.clone()], "canonical MAC");
    let entry = t.dir().get(&created.dn, &[]).await.unwrap().unwrap();
    for class in ["device", "ipHost", "ieee802Device"] {
        assert!(entry.has_value("objectClass", class), "{class}");
    }

    // Unique names across types, unique addresses across systems, validation naming values.
    let other = |cn: &str, kind: &str, ip: Option<&str>, m: Option<&str>| NewSystem {
        cn: cn.into(),
        system_type: kind.into(),
        ip_address: ip.map(|i| vec![i.into()]).unwrap_or_default(),
        mac_address: m.map(|x| vec![x.into()]).unwrap_or_default(),
        description: None,
        dns: None,
        dhcp: None,
    };
    let e = s
        .create(&admin, &other(&web, "printer", None, None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let e = s
        .create(&admin, &other(&printer, "printer", Some(&ip1), None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    assert_eq!(e.details()["field"], "ipAddress");
    let e = s
        .create(
            &admin,
            &other(&printer, "printer", None, Some(&mac.to_uppercase())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details()["field"], "macAddress");
    for (ip, m) in [(Some("10.0.0.300"), None), (None, Some("00:11:22:33:44"))] {
        let e = s
            .create(&admin, &other(&printer, "printer", ip, m))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(e.details()["value"], ip.or(m).unwrap());
    }
    let e = s
        .create(&admin, &other(&printer, "toaster", None, None))
        .await
        .unwrap_err();
    assert_eq!(e.details()["field"], "type");
    s.create(&admin, &other(&printer, "printer", Some(&ip2), None))
        .await
        .unwrap();

    // Lists: by type, with filters on the answer's field names.
    let q = ListQuery::default().filter(format!("cn:starts:{}", &web[..3]));
    let servers = s.list(&admin, Some("server"), &q).await.unwrap();
    assert!(servers.data.iter().any(|x| x.cn == web));
    assert!(servers
        .data
        .iter()
        .all(|x| x.system_type == SystemType::Server));
    let by_ip = s
        .list(
            &admin,
            None,
            &ListQuery::default().filter(format!("ipAddress:eq:{ip2}")),
        )
        .await
        .unwrap();
    assert_eq!(by_ip.data.len(), 1);
    assert_eq!(by_ip.data[0].cn, printer);

    // Update: addresses away drop their class; the freed address can be reused.
    let updated = s
        .update(
            &admin,
            &web,
            &SystemUpdate {
                ip_address: Some(None),
                description: Some(None),
                ..SystemUpdate::default()
            },
        )
        .await
        .unwrap();
    assert!(updated.ip_address.is_empty());
    assert_eq!(updated.description, None);
    let entry = t.dir().get(&created.dn, &[]).await.unwrap().unwrap();
    assert!(!entry.has_value("objectClass", "ipHost"));
    s.update(
        &admin,
        &printer,
        &SystemUpdate {
            ip_address: Some(Some(vec![ip2.clone(), ip1.clone()])),
            ..SystemUpdate::default()
        },
    )
    .await
    .unwrap();
    let e = s
        .update(
            &admin,
            &web,
            &SystemUpdate {
                system_type: Some("printer".into()),
                ..SystemUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);

    // ACL: a user without rights learns nothing; audit has the writes.
    let nobody = h
        .users()
        .create(
            &admin,
            serde_json::json!({"uid": unique("nob"), "cn": "N", "sn": "N"})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    let np = h.principal(&nobody.dn).await.unwrap();
    assert_eq!(
        s.get(&np, &web).await.unwrap_err().code(),
        ErrorCode::AclDenied
    );
    assert_eq!(
        s.list(&np, None, &ListQuery::default())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::AclDenied
    );
    let events = h
        .audit()
        .list(
            &admin,
            &ListQuery::default().filter(format!("target:eq:{}", created.dn)),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(events
        .data
        .iter()
        .any(|e| e.action == "create" && e.object_type == "system"));

    for cn in [&web, &printer] {
        s.delete(&admin, cn).await.unwrap();
        assert_eq!(
            s.get(&admin, cn).await.unwrap_err().code(),
            ErrorCode::SystemNotFound
        );
    }
    h.users().delete(&admin, &nobody.uid).await.unwrap();
}

/// A system created with its DNS records and DHCP host in one call; when a later step
/// fails, the earlier ones are undone.
pub async fn systems_link_dns_and_dhcp_all_or_nothing(t: &Target) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    let tag = unique("lnk");
    let octet = std::process::id() % 200
        + 20
        + (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 30);
    let zone = format!("{tag}.test");
    let reverse = format!("{octet}.10.in-addr.arpa");
    h.dns()
        .create_zone(
            &admin,
            &NewZone::new(&zone, "ns1.example.net.", "hostmaster@example.net"),
        )
        .await
        .unwrap();
    // The reverse zone may exist from a concurrent run on the shared slapd: fine.
    let own_reverse = h
        .dns()
        .create_zone(
            &admin,
            &NewZone::new(&reverse, "ns1.example.net.", "hostmaster@example.net"),
        )
        .await
        .is_ok();
    let service = format!("{tag}svc");
    h.dhcp()
        .create_service(
            &admin,
            &NewService {
                cn: service.clone(),
                ..NewService::default()
            },
        )
        .await
        .unwrap();
    h.dhcp()
        .create_subnet(
            &admin,
            &service,
            None,
            &NewSubnet {
                network: format!("10.{octet}.0.0"),
                prefix: Some(16),
                ..NewSubnet::default()
            },
        )
        .await
        .unwrap();
    let n = std::process::id() % 250 + 1;
    let ip = format!("10.{octet}.{}.{n}", std::process::id() % 200);
    let mac = format!("02:00:{:02x}:00:00:{:02x}", octet, n % 256);
    let body = |cn: &str, svc: &str| NewSystem {
        cn: cn.into(),
        system_type: "server".into(),
        ip_address: vec![ip.clone()],
        mac_address: vec![mac.clone()],
        description: None,
        dns: Some(DnsLink {
            zone: zone.clone(),
            name: None,
            reverse_zone: Some(reverse.clone()),
        }),
        dhcp: Some(DhcpLink {
            service: svc.into(),
            host: None,
        }),
    };

    // A failing last step (no such DHCP service) undoes the system and its records.
    let cn = format!("{tag}a");
    let e = h
        .systems()
        .create(&admin, &body(&cn, "no-such-service"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DhcpNotFound, "{e}");
    assert_eq!(
        h.systems().get(&admin, &cn).await.unwrap_err().code(),
        ErrorCode::SystemNotFound
    );
    let records = h
        .dns()
        .list_records(
            &admin,
            &zone,
            &ListQuery::default().filter(format!("name:eq:{cn}")),
        )
        .await
        .unwrap();
    assert_eq!(records.pagination.total, 0, "{records:?}");

    // All steps succeed: system, A, PTR, DHCP host.
    let system = h
        .systems()
        .create(&admin, &body(&cn, &service))
        .await
        .unwrap();
    assert_eq!(system.ip_address, vec![ip.clone()]);
    let a = h
        .dns()
        .list_records(
            &admin,
            &zone,
            &ListQuery::default().filter(format!("name:eq:{cn}")),
        )
        .await
        .unwrap();
    assert_eq!(a.data.len(), 1, "{a:?}");
    assert_eq!(a.data[0].value, ip);
    let ptr = h
        .dns()
        .list_records(
            &admin,
            &reverse,
            &ListQuery::default().filter("type:eq:PTR"),
        )
        .await
        .unwrap();
    assert!(
        ptr.data.iter().any(|r| r.value == format!("{cn}.{zone}.")),
        "{ptr:?}"
    );
    let host = h.dhcp().get_host(&admin, &service, &cn).await.unwrap();
    assert_eq!(host.mac_address.as_deref(), Some(mac.as_str()));
    assert_eq!(host.fixed_address.as_deref(), Some(ip.as_str()));

    // Clean up.
    h.systems().delete(&admin, &cn).await.unwrap();
    h.dhcp()
        .delete_service(&admin, &service, true)
        .await
        .unwrap();
    h.dns().delete_zone(&admin, &zone).await.unwrap();
    if own_reverse {
        h.dns().delete_zone(&admin, &reverse).await.unwrap();
    } else {
        h.dns()
            .delete_records(&admin, &reverse, &ip, "PTR", None)
            .await
            .unwrap();
    }
}
