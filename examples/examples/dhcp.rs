//! DHCP in the directory, in the layout ISC dhcpd's LDAP back-end reads: a service (with the
//! `dhcpServer` entry dhcpd finds itself by), a shared network, subnets, pools and hosts;
//! what the validation refuses; the entries as `ldapsearch` would show them; lists with
//! filters; a recursive delete.
//!
//! ```sh
//! cargo run -p heracles-examples --example dhcp
//! ```

use std::sync::Arc;

use heracles_core::directory::{EmbeddedDirectory, Scope, SearchRequest};
use heracles_core::dn::Dn;
use heracles_core::filter::Filter;
use heracles_core::service::dhcp::{NewHost, NewPool, NewService, NewSharedNetwork, NewSubnet};
use heracles_core::service::{Heracles, ListQuery, Principal};
use serde_json::json;

/// Two hosts: one with a fixed address, one without.
async fn add_hosts(h: &Heracles, admin: &Principal) -> Result<(), Box<dyn std::error::Error>> {
    let dhcp = h.dhcp();
    for (cn, mac, fixed) in [
        ("printer1", "00:11:22:33:44:66", Some("192.168.1.50")),
        ("laptop", "02-00-5E-10-00-01", None),
    ] {
        let host = dhcp
            .create_host(
                admin,
                "dhcp1",
                &NewHost {
                    cn: cn.into(),
                    mac_address: Some(mac.into()),
                    fixed_address: fixed.map(str::to_owned),
                    ..Default::default()
                },
            )
            .await?;
        println!(
            "host {}: {:?} {:?} in subnet {:?}",
            host.cn, host.mac_address, host.fixed_address, host.subnet
        );
    }
    Ok(())
}

/// What the rules refuse.
async fn show_refusals(h: &Heracles, admin: &Principal) -> Result<(), Box<dyn std::error::Error>> {
    let dhcp = h.dhcp();
    let refused = [
        dhcp.create_subnet(
            admin,
            "dhcp1",
            None,
            &NewSubnet {
                network: "192.168.1.7/24".into(),
                ..Default::default()
            },
        )
        .await
        .err(),
        dhcp.create_subnet(
            admin,
            "dhcp1",
            None,
            &NewSubnet {
                network: "192.168.0.0/16".into(),
                ..Default::default()
            },
        )
        .await
        .err(),
        dhcp.create_pool(
            admin,
            "dhcp1",
            "192.168.1.0",
            &NewPool {
                range: "192.168.1.150 192.168.1.250".into(),
                ..Default::default()
            },
        )
        .await
        .err(),
        dhcp.create_host(
            admin,
            "dhcp1",
            &NewHost {
                cn: "copy".into(),
                mac_address: Some("00:11:22:33:44:66".into()),
                ..Default::default()
            },
        )
        .await
        .err(),
        dhcp.create_host(
            admin,
            "dhcp1",
            &NewHost {
                cn: "far".into(),
                fixed_address: Some("172.16.0.1".into()),
                statements: vec!["filename \"pxelinux.0".into()],
                ..Default::default()
            },
        )
        .await
        .err(),
    ];
    for e in refused {
        let e = e.ok_or("the rules must refuse this")?;
        println!("refused: {} — {}", e.code(), e.message());
    }

    Ok(())
}

/// The entries, as dhcpd's LDAP back-end reads them (what `ldapsearch` would show).
async fn print_entries(h: &Heracles) -> Result<(), Box<dyn std::error::Error>> {
    let container = Dn::parse("ou=dhcp,dc=example,dc=com")?;
    let req = SearchRequest::new(container, Scope::Subtree, Filter::present("objectClass"));
    for e in h.directory().search(&req).await? {
        println!("dn: {}", e.dn);
        for a in e.attrs.iter() {
            for v in a.values() {
                println!("  {}: {}", a.name(), String::from_utf8_lossy(v));
            }
        }
    }

    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-dhcp-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    h.bootstrap(None).await?;
    let admin = Principal::system(&base);
    let dhcp = h.dhcp();

    // The SPEC bodies; `server` (default: the cn) names the dhcpServer entry — the host
    // name dhcpd looks itself up by, or its `ldap-dhcp-server-cn`.
    let body: NewService = serde_json::from_value(json!({
        "cn": "dhcp1", "description": "main", "server": "dhcp-host1",
        "statements": ["default-lease-time 3600", "authoritative"],
        "options": ["domain-name \"example.com\""]
    }))?;
    let service = dhcp.create_service(&admin, &body).await?;
    println!(
        "service {} served by {:?} ({:?})",
        service.service.dn,
        service.service.server,
        service.service.primary_dn.map(|d| d.to_string())
    );
    dhcp.create_shared_network(
        &admin,
        "dhcp1",
        &NewSharedNetwork {
            cn: "office".into(),
            ..Default::default()
        },
    )
    .await?;
    for (shared, network, prefix, router, range) in [
        (
            None,
            "192.168.1.0",
            24,
            "192.168.1.1",
            "192.168.1.100 192.168.1.199",
        ),
        (
            Some("office"),
            "10.10.0.0",
            16,
            "10.10.0.1",
            "10.10.1.1 10.10.1.254",
        ),
    ] {
        let subnet = NewSubnet {
            network: network.into(),
            prefix: Some(prefix),
            options: vec![format!("routers {router}")],
            ..Default::default()
        };
        dhcp.create_subnet(&admin, "dhcp1", shared, &subnet).await?;
        let pool = NewPool {
            range: range.into(),
            ..Default::default()
        };
        let pool = dhcp.create_pool(&admin, "dhcp1", network, &pool).await?;
        println!("pool {} ({} addresses)", pool.id, pool.size);
    }
    add_hosts(&h, &admin).await?;
    show_refusals(&h, &admin).await?;
    print_entries(&h).await?;

    // Lists take the same filters as everywhere else; MACs and addresses are computed
    // fields that accept every operator.
    let page = dhcp
        .list_hosts(
            &admin,
            "dhcp1",
            &ListQuery::default().filter("macAddress:starts:02-00-5e"),
        )
        .await?;
    println!(
        "hosts with a 02:00:5e MAC: {:?}",
        page.data.iter().map(|h| &h.cn).collect::<Vec<_>>()
    );

    // Not empty: refused unless recursive.
    let e = dhcp.delete_service(&admin, "dhcp1", false).await.err();
    println!("delete without recursive: {:?}", e.map(|e| e.code()));
    dhcp.delete_service(&admin, "dhcp1", true).await?;
    println!(
        "after the recursive delete: {} services",
        dhcp.list_services(&admin, &ListQuery::default())
            .await?
            .pagination
            .total
    );
    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
