//! DNS zones and records: a forward and a reverse zone, every record type, the validation
//! rules (with the bad value in the error), the serial that increases on every change, and
//! the entries as bind's LDAP readers (ldap2zone, the sdb/dlz `ldap` back-ends) see them.
//!
//! ```sh
//! cargo run -p heracles-examples --example dns
//! ```

use std::sync::Arc;

use heracles_core::directory::{EmbeddedDirectory, Scope, SearchRequest};
use heracles_core::dn::Dn;
use heracles_core::filter::Filter;
use heracles_core::service::dns::{NewRecord, NewZone, ZoneUpdate};
use heracles_core::service::{Container, Heracles, ListQuery, Principal};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-dns-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    h.bootstrap(Some("An-admin-passw0rd")).await?;
    let admin = Principal::system(&base);
    let dns = h.dns();

    // A zone: SOA timers default to 3600/900/1209600/3600; the primary name server is
    // inside the zone, so it needs its address (bind refuses the zone otherwise).
    let zone = dns
        .create_zone(
            &admin,
            &NewZone::new("example.com", "ns1.example.com", "hostmaster@example.com")
                .primary_ns_address("192.168.1.1"),
        )
        .await?;
    println!(
        "zone {} ({}), serial {}, {} records",
        zone.zone_name,
        zone.zone_type.as_str(),
        zone.serial,
        zone.record_count
    );

    for (name, kind, value, ttl) in [
        ("www", "A", "192.168.1.10", None),
        ("www", "AAAA", "2001:db8::10", None),
        ("mail", "A", "192.168.1.20", Some(300)),
        ("@", "MX", "10 mail", None), // relative: stored as mail.example.com.
        ("@", "TXT", "v=spf1 mx -all", None),
        ("_sip._tcp", "SRV", "10 5 5060 www.example.com.", None),
        ("ftp", "CNAME", "www", None),
    ] {
        let mut r = NewRecord::new(name, kind, value);
        if let Some(ttl) = ttl {
            r = r.ttl(ttl);
        }
        let rec = dns.create_record(&admin, "example.com", &r).await?;
        println!(
            "  + {:<10} {:>5} {:<5} {}",
            rec.name, rec.ttl, rec.record_type, rec.value
        );
    }

    show_rules(&h, &admin).await?;

    // Lists filter like every list; the serial went up with every change.
    let a_records = dns
        .list_records(
            &admin,
            "example.com",
            &ListQuery::default().filter("type:eq:A"),
        )
        .await?;
    println!("A records: {}", a_records.pagination.total);
    let soa = dns
        .update_zone(
            &admin,
            "example.com",
            &ZoneUpdate {
                refresh: Some(7200),
                ..ZoneUpdate::default()
            },
        )
        .await?;
    println!("serial now {} (was {})", soa.serial, zone.serial);

    // One value of a set, then the set.
    dns.delete_records(&admin, "example.com", "www", "AAAA", Some("2001:db8::10"))
        .await?;

    // A reverse zone: PTR names may be given as addresses.
    dns.create_zone(
        &admin,
        &NewZone::new(
            "1.168.192.in-addr.arpa",
            "ns1.example.com",
            "hostmaster@example.com",
        ),
    )
    .await?;
    let ptr = dns
        .create_record(
            &admin,
            "1.168.192.in-addr.arpa",
            &NewRecord::new("192.168.1.10", "PTR", "www.example.com."),
        )
        .await?;
    println!("PTR {} -> {}", ptr.name, ptr.value);

    show_entries(&h).await?;

    for z in dns.list_zones(&admin, &ListQuery::default()).await?.data {
        println!(
            "zone {}: {} records, serial {}",
            z.zone_name, z.record_count, z.serial
        );
        dns.delete_zone(&admin, &z.zone_name).await?;
    }
    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}

/// What bind's LDAP readers get: a subtree search for the zone's entries.
async fn show_entries(h: &Heracles) -> Result<(), Box<dyn std::error::Error>> {
    println!("entries of example.com below ou=dns:");
    let entries = h
        .directory()
        .search(&SearchRequest::new(
            h.container(Container::Dns)?,
            Scope::Subtree,
            Filter::eq("zoneName", "example.com"),
        ))
        .await?;
    for e in &entries {
        let records: Vec<String> = e
            .attrs
            .iter()
            .filter(|a| a.name().to_ascii_lowercase().ends_with("record"))
            .flat_map(|a| {
                a.values()
                    .iter()
                    .map(move |v| format!("{}: {}", a.name(), String::from_utf8_lossy(v)))
            })
            .collect();
        println!("  {}  [{}]", e.dn, records.join("; "));
    }

    Ok(())
}

/// The rules: each refusal names the field and the bad value.
async fn show_rules(h: &Heracles, admin: &Principal) -> Result<(), Box<dyn std::error::Error>> {
    for (name, kind, value) in [
        ("www", "CNAME", "other.example."),     // CNAME beside other data
        ("host", "PTR", "www.example.com."),    // PTR in a forward zone
        ("x", "A", "192.168.1.300"),            // not an IPv4 address
        ("x", "MX", "70000 mail.example.com."), // preference > 65535
        ("x", "CNAME", "www.example.com"),      // missing trailing dot
    ] {
        let e = h
            .dns()
            .create_record(admin, "example.com", &NewRecord::new(name, kind, value))
            .await
            .err()
            .ok_or("the record must be refused")?;
        println!(
            "  refused {kind} {value:?}: {} ({}: {})",
            e.code(),
            e.details()["reason"],
            e.message()
        );
    }

    Ok(())
}
