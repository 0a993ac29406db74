//! DNS zones and records through the core on both backends, and the consumer check: the
//! entries Heracles writes are read by bind's tools exactly as the API reports them.
//!
//! - [`dns_zone_file_passes_named_checkzone`] (both backends) renders the zone from the raw
//!   directory entries the way bind's LDAP readers do (every `dNSZone` entry with the
//!   `zoneName`, its `relativeDomainName`, `dNSTTL` and `<type>Record` values) and loads it
//!   with `named-checkzone` (bind9-utils) in strict mode; bind's canonical dump must hold
//!   exactly the records the API lists.
//! - [`ldap2zone_reads_what_heracles_writes`] (a private slapd) runs Debian's `ldap2zone`,
//!   the dNSZone extractor of GOsa, against the directory and checks its zone file the
//!   same way.
//!
//! Without `named-checkzone` / `ldap2zone` these skip with a message, unless
//! `HERACLES_REQUIRE_DNS_TOOLS=1` (set by `scripts/test.sh`, which installs them).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use heracles_core::directory::{Directory, LdapDirectory, Scope, SearchRequest};
use heracles_core::dn::Rdn;
use heracles_core::filter::Filter;
use heracles_core::service::dns::serial::{today, SOA_ATTR};
use heracles_core::service::dns::{NewRecord, NewZone, Record, ZoneUpdate};
use heracles_core::service::{Container, Heracles, IfMatch, ListQuery, Principal};
use heracles_core::ErrorCode;

use crate::fixture::{OwnSlapd, Target};

static N: AtomicU32 = AtomicU32::new(0);

/// A zone name unique to this run.
fn zone(label: &str) -> String {
    format!(
        "{label}{}x{}.test",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A reverse zone unique to this run (two octets from the process id and a counter).
fn reverse_zone() -> String {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    format!("{}.{}.10.in-addr.arpa", (pid + n) % 256, (pid / 256) % 256)
}

async fn ready(t: &Target) -> (Heracles, Principal) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    (h, Principal::system(&t.base))
}

fn body(z: &str) -> NewZone {
    NewZone::new(z, &format!("ns1.{z}"), &format!("hostmaster@{z}")).primary_ns_address("10.0.0.1")
}

/// Every kind of record, valid for bind (in-zone targets have addresses).
async fn populate(h: &Heracles, p: &Principal, z: &str) {
    for (name, t, v, ttl) in [
        ("www", "A", "192.168.1.10", None),
        ("www", "A", "192.168.1.11", None),
        ("www", "AAAA", "2001:DB8::10", None),
        ("mail", "A", "192.168.1.20", Some(300)),
        ("@", "MX", "10 mail", None),
        ("@", "MX", "20 mx.other.example.", None),
        ("@", "TXT", "v=spf1 mx -all", None),
        ("@", "TXT", "\"two\" \"strings\"", Some(3600)),
        ("sip", "A", "192.168.1.30", None),
        ("_sip._tcp", "SRV", "10 5 5060 sip", Some(600)),
        ("ftp", "CNAME", "www", None),
        ("ns2", "AAAA", "2001:db8::53", None),
        ("@", "NS", "ns2", None),
        ("sub", "NS", "ns.elsewhere.example.", Some(86400)),
        ("*.dev", "A", "192.168.1.40", None),
        ("www", "TXT", "web server", Some(60)),
    ] {
        let mut r = NewRecord::new(name, t, v);
        if let Some(ttl) = ttl {
            r = r.ttl(ttl);
        }
        h.dns()
            .create_record(p, z, &r)
            .await
            .unwrap_or_else(|e| panic!("{name} {t} {v}: {e}"));
    }
}

async fn all_records(h: &Heracles, p: &Principal, z: &str) -> Vec<Record> {
    let q = ListQuery::default().page(heracles_core::page::PageRequest::new(1000, 0).unwrap());
    h.dns().list_records(p, z, &q).await.unwrap().data
}

async fn serial(h: &Heracles, z: &str) -> u32 {
    h.dns()
        .get_zone(&Principal::system(h.base()), z)
        .await
        .unwrap()
        .serial
}

async fn zone_entries(h: &Heracles, z: &str) -> Vec<heracles_core::directory::Entry> {
    let dns = h.container(Container::Dns).unwrap();
    match h
        .directory()
        .search(&SearchRequest::new(
            dns,
            Scope::Subtree,
            Filter::eq("zoneName", z),
        ))
        .await
    {
        Ok(found) => found,
        Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
        Err(e) => panic!("{e}"),
    }
}

pub async fn dns_zones_and_records_round_trip(t: &Target) {
    let (h, a) = ready(t).await;
    let dns = h.dns();
    let z = zone("rt");
    let created = dns.create_zone(&a, &body(&z)).await.unwrap();
    assert_eq!(created.zone_name, z);
    assert_eq!(created.serial / 100, today());
    let container = h
        .container(Container::Dns)
        .unwrap()
        .child(Rdn::new("zoneName", &z).unwrap());
    assert_eq!(created.dn, container);
    // The apex as bind reads it.
    let apex = t
        .dir()
        .get(
            &container.child(Rdn::new("relativeDomainName", "@").unwrap()),
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(apex.first_str("zoneName"), Some(z.as_str()));
    assert_eq!(apex.first_str("dNSClass"), Some("IN"));
    assert_eq!(apex.first_str("dNSTTL"), Some("3600"));
    assert_eq!(
        apex.first_str(SOA_ATTR).unwrap(),
        format!(
            "ns1.{z}. hostmaster.{z}. {} 3600 900 1209600 3600",
            created.serial
        )
    );
    assert_eq!(apex.strs("nSRecord"), [format!("ns1.{z}.")]);
    let e = dns.create_zone(&a, &body(&z)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);

    let mut last = created.serial;
    populate(&h, &a, &z).await;
    let now = serial(&h, &z).await;
    assert!(now >= last + 16, "16 changes: {last} -> {now}");
    last = now;
    let records = all_records(&h, &a, &z).await;
    assert_eq!(records.len(), 18, "{records:#?}");
    let www = dns
        .list_records(
            &a,
            &z,
            &ListQuery::default()
                .filter("name:eq:www")
                .filter("type:eq:A"),
        )
        .await
        .unwrap();
    assert_eq!(
        www.data
            .iter()
            .map(|r| r.value.as_str())
            .collect::<Vec<_>>(),
        ["192.168.1.10", "192.168.1.11"]
    );
    let mx = dns.get_record_set(&a, &z, "@", "MX").await.unwrap();
    assert_eq!(
        mx.values,
        [format!("10 mail.{z}."), "20 mx.other.example.".to_owned()]
    );
    let got = dns.get_zone(&a, &z.to_uppercase()).await.unwrap();
    assert_eq!(got.record_count, 18);
    let listed = dns
        .list_zones(&a, &ListQuery::default().filter(format!("zoneName:eq:{z}")))
        .await
        .unwrap();
    assert_eq!(listed.pagination.total, 1);
    assert_eq!(listed.data[0].record_count, 18);

    // Rules on both backends.
    for (r, reason) in [
        (
            NewRecord::new("www", "CNAME", "other.example."),
            "cname_not_exclusive",
        ),
        (NewRecord::new("ftp", "TXT", "x"), "cname_not_exclusive"),
        (
            NewRecord::new("@", "CNAME", "other.example."),
            "cname_at_apex",
        ),
        (
            NewRecord::new("host", "PTR", "www.example.com."),
            "ptr_in_forward_zone",
        ),
        (
            NewRecord::new("x", "MX", "65536 mail"),
            "invalid_mx_preference",
        ),
        (NewRecord::new("x", "A", "10.0.0.256"), "invalid_ipv4"),
    ] {
        let e = dns.create_record(&a, &z, &r).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{r:?}");
        assert_eq!(e.details()["reason"], reason, "{r:?}");
    }
    assert_eq!(
        serial(&h, &z).await,
        last,
        "refused changes leave the serial"
    );

    // Delete one value, a whole set, with If-Match.
    dns.delete_records(&a, &z, "www", "A", Some("192.168.1.11"))
        .await
        .unwrap();
    assert_eq!(
        dns.get_record_set(&a, &z, "www", "A").await.unwrap().values,
        ["192.168.1.10"]
    );
    let now = serial(&h, &z).await;
    assert!(now > last);
    last = now;
    let stale = IfMatch::parse("\"stale\"");
    let e = dns
        .if_match(Some(&stale))
        .delete_records(&a, &z, "www", "TXT", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let set = dns.get_record_set(&a, &z, "www", "TXT").await.unwrap();
    let tag = IfMatch::parse(&heracles_core::service::etag_of(&set).unwrap());
    dns.if_match(Some(&tag))
        .delete_records(&a, &z, "www", "TXT", None)
        .await
        .unwrap();
    assert!(serial(&h, &z).await > last);
    let e = dns
        .delete_records(&a, &z, "www", "TXT", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RecordNotFound);

    // A reverse zone, PTR records by address.
    let rz = reverse_zone();
    let rev = dns
        .create_zone(
            &a,
            &NewZone::new(&rz, &format!("ns1.{z}"), &format!("hostmaster@{z}")),
        )
        .await
        .unwrap();
    assert_eq!(
        rev.zone_type,
        heracles_core::service::dns::validate::ZoneType::Reverse
    );
    let prefix: Vec<&str> = rz.split('.').take(2).collect();
    let addr = format!("10.{}.{}.7", prefix[1], prefix[0]);
    let ptr = dns
        .create_record(&a, &rz, &NewRecord::new(&addr, "PTR", &format!("www.{z}.")))
        .await
        .unwrap();
    assert_eq!(ptr.name, "7");

    // Deleting a zone removes every entry of it.
    dns.delete_zone(&a, &rz).await.unwrap();
    let zone_ifm = IfMatch::parse("\"stale\"");
    let e = dns
        .if_match(Some(&zone_ifm))
        .delete_zone(&a, &z)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let current = dns.get_zone(&a, &z).await.unwrap();
    let tag = IfMatch::parse(&heracles_core::service::etag_of(&current).unwrap());
    dns.if_match(Some(&tag)).delete_zone(&a, &z).await.unwrap();
    for name in [&z, &rz] {
        let e = dns.get_zone(&a, name).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ZoneNotFound);
        assert!(
            zone_entries(&h, name).await.is_empty(),
            "{name} left entries"
        );
    }
    assert!(t.dir().get(&container, &["1.1"]).await.unwrap().is_none());
}

pub async fn dns_serial_is_monotonic_with_concurrent_writers(t: &Target) {
    let (h, a) = ready(t).await;
    let z = zone("cc");
    let start = h.dns().create_zone(&a, &body(&z)).await.unwrap().serial;
    let day = today();
    // Four "instances" (own service handles over the directory), each adding records and
    // changing the SOA at the same time.
    const WRITERS: u32 = 4;
    const EACH: u32 = 5;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let h = Heracles::new(t.dir.clone(), t.base.clone());
        let (a, z) = (a.clone(), z.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..EACH {
                let name = format!("w{w}h{i}");
                h.dns()
                    .create_record(
                        &a,
                        &z,
                        &NewRecord::new(&name, "A", &format!("10.1.{w}.{i}")),
                    )
                    .await
                    .unwrap();
                let up = ZoneUpdate {
                    retry: Some(i64::from(900 + w)),
                    ..ZoneUpdate::default()
                };
                seen.push(h.dns().update_zone(&a, &z, &up).await.unwrap().serial);
            }
            seen
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        // Each writer sees its serials strictly increase.
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "{mine:?}");
        seen.extend(mine);
    }
    // No two changes got the same serial.
    let distinct: BTreeSet<u32> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), seen.len(), "{seen:?}");
    let end = serial(&h, &z).await;
    let changes = 2 * WRITERS * EACH;
    if today() == day {
        // Not one increase lost: exactly one per change.
        assert_eq!(end, start + changes, "{start} -> {end}");
    } else {
        assert!(end >= start + changes);
    }
    assert_eq!(
        all_records(&h, &a, &z).await.len(),
        (2 + WRITERS * EACH) as usize
    );
    h.dns().delete_zone(&a, &z).await.unwrap();
}

// ---- the consumer check -----------------------------------------------------------------

fn require_tools() -> bool {
    std::env::var("HERACLES_REQUIRE_DNS_TOOLS").is_ok_and(|v| v == "1")
}

/// A tool by env override or on the PATH.
fn tool(name: &str, env: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn tool_or_skip(name: &str, env: &str, package: &str) -> Option<PathBuf> {
    let found = tool(name, env);
    if found.is_none() {
        assert!(
            !require_tools(),
            "{name} is missing but HERACLES_REQUIRE_DNS_TOOLS=1 (install Debian's {package})"
        );
        eprintln!(
            "SKIPPED: {name} is not installed (Debian package {package}; scripts/test.sh \
             installs it) — the zone was not checked by bind's own parser"
        );
    }
    found
}

/// The zone file bind's LDAP readers make of the entries: every `dNSZone` entry with the
/// zone's `zoneName`, each of its `relativeDomainName` values an owner, each
/// `<type>Record` value a record with the entry's `dNSTTL`.
fn render(entries: &[heracles_core::directory::Entry], z: &str) -> String {
    let mut out = format!("$ORIGIN {z}.\n$TTL 3600\n");
    for e in entries {
        let ttl = e.first_str("dNSTTL").unwrap_or("3600");
        for owner in e.strs("relativeDomainName") {
            for attr in e.attrs.iter() {
                let lower = attr.name().to_ascii_lowercase();
                let Some(ty) = lower.strip_suffix("record") else {
                    continue;
                };
                for v in attr.values() {
                    let v = std::str::from_utf8(v).unwrap();
                    writeln!(out, "{owner}\t{ttl}\tIN\t{}\t{v}", ty.to_uppercase()).unwrap();
                }
            }
        }
    }
    out
}

/// Loads a zone file with named-checkzone in strict mode; answers its canonical records
/// (owner, ttl, type, data), the SOA left out.
fn checkzone(
    named_checkzone: &Path,
    z: &str,
    file: &Path,
) -> BTreeSet<(String, u32, String, String)> {
    let dump = file.with_extension("canonical");
    let out = Command::new(named_checkzone)
        .args([
            "-k", "fail", "-m", "fail", "-M", "fail", "-n", "fail", "-S", "fail", "-i", "local",
            "-D", "-o",
        ])
        .arg(&dump)
        .arg(z)
        .arg(file)
        .output()
        .unwrap();
    let zone_text = std::fs::read_to_string(file).unwrap_or_default();
    assert!(
        out.status.success(),
        "named-checkzone refused the zone:\n{}{}\n--- zone file:\n{zone_text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&dump).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let owner = parts.next()?.to_ascii_lowercase();
            let ttl: u32 = parts.next()?.parse().ok()?;
            let _class = parts.next()?;
            let ty = parts.next()?.to_owned();
            let data = parts.collect::<Vec<_>>().join(" ");
            (ty != "SOA").then_some((owner, ttl, ty, data))
        })
        .collect()
}

/// What the API lists, in the form of bind's dump.
fn expected(records: &[Record], z: &str) -> BTreeSet<(String, u32, String, String)> {
    records
        .iter()
        .map(|r| {
            let owner = if r.name == "@" {
                format!("{z}.")
            } else {
                format!("{}.{z}.", r.name)
            };
            (
                owner,
                r.ttl,
                r.record_type.clone(),
                r.value.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

pub async fn dns_zone_file_passes_named_checkzone(t: &Target) {
    let Some(checker) = tool_or_skip("named-checkzone", "HERACLES_NAMED_CHECKZONE", "bind9-utils")
    else {
        return;
    };
    let (h, a) = ready(t).await;
    let z = zone("nc");
    h.dns().create_zone(&a, &body(&z)).await.unwrap();
    populate(&h, &a, &z).await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("zone.db");
    std::fs::write(&file, render(&zone_entries(&h, &z).await, &z)).unwrap();
    let read = checkzone(&checker, &z, &file);
    let want = expected(&all_records(&h, &a, &z).await, &z);
    assert_eq!(read, want);

    // A reverse zone too.
    let rz = reverse_zone();
    h.dns()
        .create_zone(
            &a,
            &NewZone::new(&rz, &format!("ns1.{z}"), &format!("hostmaster@{z}")),
        )
        .await
        .unwrap();
    for (name, target) in [("1", "www"), ("2", "mail")] {
        h.dns()
            .create_record(
                &a,
                &rz,
                &NewRecord::new(name, "PTR", &format!("{target}.{z}.")),
            )
            .await
            .unwrap();
    }
    let file = folder.path().join("reverse.db");
    std::fs::write(&file, render(&zone_entries(&h, &rz).await, &rz)).unwrap();
    let read = checkzone(&checker, &rz, &file);
    assert_eq!(read, expected(&all_records(&h, &a, &rz).await, &rz));
    assert_eq!(read.len(), 3);
    h.dns().delete_zone(&a, &rz).await.unwrap();
    h.dns().delete_zone(&a, &z).await.unwrap();
}

/// Debian's `ldap2zone` against a private slapd whose `ou=dns` is readable anonymously (as
/// for a DNS server's LDAP reader; ldap2zone binds anonymously).
#[tokio::test]
async fn ldap2zone_reads_what_heracles_writes() {
    let Some(checker) = tool_or_skip("named-checkzone", "HERACLES_NAMED_CHECKZONE", "bind9-utils")
    else {
        return;
    };
    let Some(ldap2zone) = tool_or_skip("ldap2zone", "HERACLES_LDAP2ZONE", "ldap2zone") else {
        return;
    };
    let own = OwnSlapd::start();
    let env = &own.env;
    let base = env.base();
    let acl = format!(
        "dn: olcDatabase={{1}}mdb,cn=config\nchangetype: modify\nadd: olcAccess\nolcAccess: \
         {{2}}to dn.subtree=\"ou=dns,{base}\" by dn.exact=\"{}\" manage by * read\n",
        env.get("SERVICE_DN")
    );
    let folder = tempfile::tempdir().unwrap();
    let ldif = folder.path().join("acl.ldif");
    std::fs::write(&ldif, acl).unwrap();
    let out = Command::new("ldapmodify")
        .args(["-Q", "-Y", "EXTERNAL", "-H", env.get("LDAPI_URI"), "-f"])
        .arg(&ldif)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir: Arc<dyn Directory> =
        Arc::new(LdapDirectory::connect(env.service_config()).await.unwrap());
    let t = Target::over(dir, base.clone());
    let (h, a) = ready(&t).await;
    for z in [
        "example.com".to_owned(),
        "1.168.192.in-addr.arpa".to_owned(),
    ] {
        let reverse = z.contains("in-addr");
        let nz = if reverse {
            NewZone::new(&z, "ns1.example.com", "hostmaster@example.com")
        } else {
            body(&z)
        };
        h.dns().create_zone(&a, &nz).await.unwrap();
        if reverse {
            for (n, target) in [
                ("10", "www.example.com."),
                ("192.168.1.20", "mail.example.com."),
            ] {
                h.dns()
                    .create_record(&a, &z, &NewRecord::new(n, "PTR", target))
                    .await
                    .unwrap();
            }
        } else {
            populate(&h, &a, &z).await;
        }
        let out = Command::new(&ldap2zone)
            .arg(&z)
            .arg(format!("{}/ou=dns,{base}", env.get("LDAP_URI")))
            .arg("3600")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ldap2zone: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = folder.path().join(format!("{z}.db"));
        std::fs::write(&file, &out.stdout).unwrap();
        let read = checkzone(&checker, &z, &file);
        let want = expected(&all_records(&h, &a, &z).await, &z);
        assert_eq!(
            read,
            want,
            "ldap2zone's zone:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // The serial bind serves is the one Heracles answers.
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let serial = h.dns().get_zone(&a, &z).await.unwrap().serial;
        assert!(text.contains(&serial.to_string()), "{text}");
    }
}
