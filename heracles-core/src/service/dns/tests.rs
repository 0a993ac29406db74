//! The DNS service on the embedded directory (the integration suite runs the same on
//! slapd).
#![allow(clippy::too_many_lines)]

use super::*;
use crate::service::settings::testing::{admin, fixture, user};

fn zone_body() -> NewZone {
    NewZone::new("example.com", "ns1.example.com", "hostmaster@example.com")
        .primary_ns_address("192.168.1.1")
}

async fn serial_of(h: &Heracles) -> u32 {
    h.dns()
        .get_zone(&admin(h), "example.com")
        .await
        .unwrap()
        .serial
}

#[tokio::test]
async fn zone_crud_and_layout() {
    let (_dir, h) = fixture();
    let a = admin(&h);
    let z = h.dns().create_zone(&a, &zone_body()).await.unwrap();
    assert_eq!(z.zone_name, "example.com");
    assert_eq!(z.zone_type, ZoneType::Forward);
    assert_eq!(z.primary_ns, "ns1.example.com.");
    assert_eq!(z.admin_email, "hostmaster@example.com");
    assert_eq!(
        (z.ttl, z.refresh, z.retry, z.expire, z.minimum),
        (3600, 3600, 900, 1_209_600, 3600)
    );
    assert_eq!(z.serial, serial::today() * 100);
    assert_eq!(z.record_count, 2);
    assert_eq!(
        z.dn.to_string(),
        "zoneName=example.com,ou=dns,dc=example,dc=com"
    );
    let apex = h
        .directory()
        .get(
            &Dn::parse("relativeDomainName=@,zoneName=example.com,ou=dns,dc=example,dc=com")
                .unwrap(),
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        apex.first_str("sOARecord").unwrap(),
        format!(
            "ns1.example.com. hostmaster.example.com. {} 3600 900 1209600 3600",
            z.serial
        )
    );
    assert_eq!(apex.strs("nSRecord"), ["ns1.example.com."]);
    assert_eq!(apex.first_str("dNSClass"), Some("IN"));
    assert_eq!(apex.first_str("dNSTTL"), Some("3600"));

    let e = h.dns().create_zone(&a, &zone_body()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let got = h.dns().get_zone(&a, "EXAMPLE.com.").await.unwrap();
    assert_eq!(got, z);

    let up = ZoneUpdate {
        refresh: Some(7200),
        ttl: Some(600),
        admin_email: Some("dns@example.com".into()),
        ..ZoneUpdate::default()
    };
    let changed = h.dns().update_zone(&a, "example.com", &up).await.unwrap();
    assert_eq!((changed.refresh, changed.ttl), (7200, 600));
    assert_eq!(changed.admin_email, "dns@example.com");
    assert!(changed.serial > z.serial);

    let page = h.dns().list_zones(&a, &ListQuery::default()).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].record_count, 2);
    h.dns().delete_zone(&a, "example.com").await.unwrap();
    let e = h.dns().get_zone(&a, "example.com").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ZoneNotFound);
    let left = h
        .directory()
        .search(&SearchRequest::new(
            h.container(Container::Dns).unwrap(),
            Scope::One,
            Filter::present("objectClass"),
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn zone_validation() {
    let (_dir, h) = fixture();
    let a = admin(&h);
    let cases: Vec<(NewZone, &str, &str)> = vec![
        (
            NewZone {
                zone_name: "bad name".into(),
                ..zone_body()
            },
            "zoneName",
            "invalid_character",
        ),
        (
            NewZone {
                zone_type: Some("reverse".into()),
                ..zone_body()
            },
            "zoneType",
            "zone_type_mismatch",
        ),
        (
            NewZone {
                zone_type: Some("sideways".into()),
                ..zone_body()
            },
            "zoneType",
            "invalid_zone_type",
        ),
        (
            NewZone {
                primary_ns: "ns_1.example.com".into(),
                ..zone_body()
            },
            "primaryNs",
            "invalid_character",
        ),
        (
            NewZone {
                admin_email: "nobody".into(),
                ..zone_body()
            },
            "adminEmail",
            "invalid_email",
        ),
        (
            NewZone {
                ttl: Some(-5),
                ..zone_body()
            },
            "ttl",
            "out_of_range",
        ),
        (
            NewZone {
                refresh: Some(0),
                ..zone_body()
            },
            "refresh",
            "out_of_range",
        ),
        (
            NewZone {
                expire: Some(60),
                ..zone_body()
            },
            "expire",
            "expire_too_short",
        ),
        (
            NewZone {
                primary_ns_address: None,
                ..zone_body()
            },
            "primaryNsAddress",
            "ns_target_without_address",
        ),
        (
            NewZone {
                primary_ns_address: Some("1.2.3".into()),
                ..zone_body()
            },
            "primaryNsAddress",
            "invalid_ipv4",
        ),
        (
            NewZone {
                primary_ns: "ns.other.org".into(),
                ..zone_body()
            },
            "primaryNsAddress",
            "ns_outside_zone",
        ),
    ];
    for (body, field, reason) in cases {
        let e = h.dns().create_zone(&a, &body).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{body:?}: {e}");
        assert_eq!(e.details()["field"], field, "{body:?}");
        assert_eq!(e.details()["reason"], reason, "{body:?}");
    }
    let rev = NewZone::new(
        "1.168.192.in-addr.arpa",
        "ns1.example.com",
        "admin@example.com",
    );
    let z = h.dns().create_zone(&a, &rev).await.unwrap();
    assert_eq!(z.zone_type, ZoneType::Reverse);
    assert_eq!(z.record_count, 1);
}

#[tokio::test]
async fn records_rules_and_serials() {
    let (_dir, h) = fixture();
    let a = admin(&h);
    let dns = h.dns();
    dns.create_zone(&a, &zone_body()).await.unwrap();
    let mut last = serial_of(&h).await;
    for (name, t, v) in [
        ("www", "A", "192.168.1.10"),
        ("www", "A", "192.168.1.11"),
        ("www", "AAAA", "2001:db8::10"),
        ("@", "MX", "10 mail.example.com."),
        ("mail", "A", "192.168.1.20"),
        ("_sip._tcp", "SRV", "10 5 5060 sip.example.com."),
        ("@", "TXT", "v=spf1 mx -all"),
        ("ftp", "CNAME", "www"),
        ("ns2", "A", "192.168.1.2"),
        ("@", "NS", "ns2"),
    ] {
        let r = dns
            .create_record(&a, "example.com", &NewRecord::new(name, t, v))
            .await
            .unwrap_or_else(|e| panic!("{name} {t} {v}: {e}"));
        assert_eq!(r.ttl, 3600);
        let now = serial_of(&h).await;
        assert!(now > last, "{name} {t}: serial {now} after {last}");
        last = now;
    }
    let r = dns
        .create_record(
            &a,
            "example.com",
            &NewRecord::new("ftp2", "CNAME", "host.other.org."),
        )
        .await
        .unwrap();
    assert_eq!(r.value, "host.other.org.");

    // Rules.
    for (body, code, reason) in [
        (
            NewRecord::new("www", "CNAME", "other.org."),
            ErrorCode::ValidationFailed,
            "cname_not_exclusive",
        ),
        (
            NewRecord::new("ftp", "A", "192.168.1.30"),
            ErrorCode::ValidationFailed,
            "cname_not_exclusive",
        ),
        (
            NewRecord::new("ftp", "CNAME", "other.org."),
            ErrorCode::ValidationFailed,
            "single_cname",
        ),
        (
            NewRecord::new("@", "CNAME", "other.org."),
            ErrorCode::ValidationFailed,
            "cname_at_apex",
        ),
        (
            NewRecord::new("ns2", "CNAME", "other.org."),
            ErrorCode::ValidationFailed,
            "cname_not_exclusive",
        ),
        (
            NewRecord::new("host", "PTR", "www.example.com."),
            ErrorCode::ValidationFailed,
            "ptr_in_forward_zone",
        ),
        (
            NewRecord::new("sip", "SRV", "1 1 1 sip.example.com."),
            ErrorCode::ValidationFailed,
            "srv_name",
        ),
        (
            NewRecord::new("@", "NS", "ns3.example.com."),
            ErrorCode::ValidationFailed,
            "ns_target_without_address",
        ),
        (
            NewRecord::new("www", "A", "192.168.1.12").ttl(60),
            ErrorCode::ValidationFailed,
            "rrset_ttl_mismatch",
        ),
        (
            NewRecord::new("www", "A", "192.168.1.300"),
            ErrorCode::ValidationFailed,
            "invalid_ipv4",
        ),
        (
            NewRecord::new("www", "HINFO", "x"),
            ErrorCode::ValidationFailed,
            "unsupported_type",
        ),
    ] {
        let e = dns
            .create_record(&a, "example.com", &body)
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{body:?}: {e}");
        assert_eq!(e.details()["reason"], reason, "{body:?}");
        assert!(e.details().contains_key("value"), "{body:?}");
    }
    let e = dns
        .create_record(
            &a,
            "example.com",
            &NewRecord::new("WWW", "a", "192.168.1.10"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let e = dns
        .create_record(
            &a,
            "nope.example",
            &NewRecord::new("www", "A", "192.168.1.10"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ZoneNotFound);

    // Another TTL for the same name: a second entry.
    let r = dns
        .create_record(
            &a,
            "example.com",
            &NewRecord::new("www", "TXT", "web").ttl(300),
        )
        .await
        .unwrap();
    assert_eq!(r.ttl, 300);
    assert_eq!(
        r.dn.to_string(),
        "relativeDomainName=www+dNSTTL=300,zoneName=example.com,ou=dns,dc=example,dc=com"
    );
    // Joining an existing set without a TTL takes the set's.
    let r = dns
        .create_record(&a, "example.com", &NewRecord::new("www", "TXT", "second"))
        .await
        .unwrap();
    assert_eq!(r.ttl, 300);

    // Lists.
    let all = dns
        .list_records(&a, "example.com", &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(all.pagination.total, 15);
    assert_eq!(all.data[0].name, "@");
    let www = dns
        .list_records(
            &a,
            "example.com",
            &ListQuery::default()
                .filter("name:eq:www")
                .filter("type:eq:a"),
        )
        .await
        .unwrap();
    let values: Vec<&str> = www.data.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values, ["192.168.1.10", "192.168.1.11"]);
    let page = dns
        .list_records(
            &a,
            "example.com",
            &ListQuery::default()
                .sort("-ttl")
                .page(crate::page::PageRequest::new(2, 0).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(page.pagination.has_more);
    assert_eq!(page.data[0].ttl, 3600);
    let e = dns
        .list_records(
            &a,
            "example.com",
            &ListQuery::default().filter("owner:eq:www"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFilter);
    let e = dns
        .list_records(&a, "example.com", &ListQuery::default().sort("bogus"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);

    let set = dns
        .get_record_set(&a, "example.com", "www", "A")
        .await
        .unwrap();
    assert_eq!(set.values, ["192.168.1.10", "192.168.1.11"]);

    // Deletes.
    let before = serial_of(&h).await;
    dns.delete_records(&a, "example.com", "www", "A", Some("192.168.1.11"))
        .await
        .unwrap();
    assert!(serial_of(&h).await > before);
    let set = dns
        .get_record_set(&a, "example.com", "www", "A")
        .await
        .unwrap();
    assert_eq!(set.values, ["192.168.1.10"]);
    let e = dns
        .delete_records(&a, "example.com", "www", "A", Some("192.168.1.99"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RecordNotFound);
    assert_eq!(e.details()["value"], "192.168.1.99");
    dns.delete_records(&a, "example.com", "www.example.com.", "TXT", None)
        .await
        .unwrap();
    // The +dNSTTL entry went with its last record.
    let gone = h
        .directory()
        .get(
            &Dn::parse(
                "relativeDomainName=www+dNSTTL=300,zoneName=example.com,ou=dns,dc=example,dc=com",
            )
            .unwrap(),
            &[],
        )
        .await
        .unwrap();
    assert!(gone.is_none());
    // Name servers keep their addresses, the apex its last NS.
    let e = dns
        .delete_records(&a, "example.com", "ns2", "A", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    dns.delete_records(&a, "example.com", "@", "NS", Some("ns2.example.com."))
        .await
        .unwrap();
    dns.delete_records(&a, "example.com", "ns2", "A", None)
        .await
        .unwrap();
    let e = dns
        .delete_records(&a, "example.com", "@", "NS", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    let e = dns
        .delete_records(&a, "example.com", "ns2", "A", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RecordNotFound);

    // If-Match on a record set.
    let stale = IfMatch::parse("\"00000000000000000000000000000000\"");
    let e = dns
        .if_match(Some(&stale))
        .delete_records(&a, "example.com", "mail", "A", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let set = dns
        .get_record_set(&a, "example.com", "mail", "A")
        .await
        .unwrap();
    let tag = IfMatch::parse(&crate::service::etag_of(&set).unwrap());
    dns.if_match(Some(&tag))
        .delete_records(&a, "example.com", "mail", "A", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn reverse_zones() {
    let (_dir, h) = fixture();
    let a = admin(&h);
    let dns = h.dns();
    dns.create_zone(
        &a,
        &NewZone::new(
            "1.168.192.in-addr.arpa",
            "ns1.example.com",
            "admin@example.com",
        ),
    )
    .await
    .unwrap();
    let r = dns
        .create_record(
            &a,
            "1.168.192.in-addr.arpa",
            &NewRecord::new("10", "PTR", "www.example.com."),
        )
        .await
        .unwrap();
    assert_eq!(r.name, "10");
    let r = dns
        .create_record(
            &a,
            "1.168.192.in-addr.arpa",
            &NewRecord::new("192.168.1.11", "PTR", "mail.example.com."),
        )
        .await
        .unwrap();
    assert_eq!(r.name, "11");
    for (name, reason) in [
        ("300", "malformed_reverse"),
        ("192.168.2.1", "outside_zone"),
    ] {
        let e = dns
            .create_record(
                &a,
                "1.168.192.in-addr.arpa",
                &NewRecord::new(name, "PTR", "x.example.com."),
            )
            .await
            .unwrap_err();
        assert_eq!(e.details()["reason"], reason, "{name}");
    }
    let z6 = "8.b.d.0.1.0.0.2.ip6.arpa";
    dns.create_zone(
        &a,
        &NewZone::new(z6, "ns1.example.com", "admin@example.com"),
    )
    .await
    .unwrap();
    let r = dns
        .create_record(
            &a,
            z6,
            &NewRecord::new("2001:db8::1", "PTR", "www.example.com."),
        )
        .await
        .unwrap();
    assert_eq!(r.name.split('.').count(), 24);
    let e = dns
        .create_record(&a, z6, &NewRecord::new("1.0", "PTR", "www.example.com."))
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "ptr_not_an_address");
}

#[tokio::test]
async fn access_is_checked() {
    let (_dir, h) = fixture();
    let a = admin(&h);
    h.dns().create_zone(&a, &zone_body()).await.unwrap();
    let u = user();
    let dns = h.dns();
    for e in [
        dns.list_zones(&u, &ListQuery::default()).await.unwrap_err(),
        dns.get_zone(&u, "example.com").await.unwrap_err(),
        dns.create_zone(
            &u,
            &NewZone {
                zone_name: "other.org".into(),
                ..zone_body()
            },
        )
        .await
        .unwrap_err(),
        dns.delete_zone(&u, "example.com").await.unwrap_err(),
        dns.list_records(&u, "example.com", &ListQuery::default())
            .await
            .unwrap_err(),
        dns.create_record(&u, "example.com", &NewRecord::new("x", "A", "1.2.3.4"))
            .await
            .unwrap_err(),
        dns.delete_records(&u, "example.com", "ns1", "A", None)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::AclDenied);
        assert!(e.details()["permission"]
            .as_str()
            .unwrap()
            .starts_with("dns:"));
    }
}
