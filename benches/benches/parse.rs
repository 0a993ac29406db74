//! Parsing benchmarks: DNs, the `attr:op:value` query syntax, and RFC 4515 filters next to
//! `ldap3::parse_filter` on the same strings.
//!
//! `cargo bench -p heracles-benches --bench parse` prints criterion's figures, then a summary
//! of ratios computed from the estimates of this same run.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::Criterion;
use heracles_core::dn::Dn;
use heracles_core::filter::{compile, AllowList, Filter};

const DNS: &[(&str, &str)] = &[
    ("plain", "uid=jdoe,ou=people,dc=example,dc=com"),
    (
        "escaped",
        "cn=Smith\\, John \\+ \\22Jr\\22,ou=Engineering,ou=departments,dc=example,dc=com",
    ),
    (
        "multi_valued",
        "cn=John+sn=Smith,ou=people,dc=example,dc=com",
    ),
];

const FILTERS: &[(&str, &str)] = &[
    ("equality", "(uid=jdoe)"),
    ("two_clause", "(&(uid=jo*)(mail=*example*))"),
    (
        "nested",
        "(&(objectClass=inetOrgPerson)(|(uid=j*)(cn=*smith*)(mail=*@example.com))(!(loginShell=/bin/false)))",
    ),
    ("escaped", "(cn=Parens R Us \\28for all your needs\\29)"),
];

fn allow_list() -> AllowList {
    AllowList::new([
        ("uid", "uid", true),
        ("cn", "cn", true),
        ("sn", "sn", true),
        ("givenName", "givenName", true),
        ("mail", "mail", true),
        ("uidNumber", "uidNumber", false),
        ("loginShell", "loginShell", false),
    ])
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("dn_parse");
    for (name, dn) in DNS {
        g.bench_function(*name, |b| b.iter(|| Dn::parse(black_box(dn))));
    }
    g.finish();

    let allow = allow_list();
    let mut g = c.benchmark_group("query_compile");
    let two = ["uid:starts:jo", "mail:contains:example"];
    g.bench_function("two_clause", |b| {
        b.iter(|| compile(black_box(&two), black_box(&allow)));
    });
    let one = ["cn:eq:John Smith"];
    g.bench_function("one_clause", |b| {
        b.iter(|| compile(black_box(&one), black_box(&allow)));
    });
    g.finish();

    for (name, f) in FILTERS {
        let mut g = c.benchmark_group(format!("filter_{name}"));
        g.bench_function("heracles", |b| b.iter(|| Filter::parse(black_box(f))));
        g.bench_function("ldap3", |b| b.iter(|| ldap3::parse_filter(black_box(*f))));
        g.finish();
    }
}

/// Mean time in ns of one benchmark of this run, from criterion's estimates file.
fn mean_ns(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn summary(dir: &Path) {
    println!("\n== summary (this run) ==");
    for (name, _) in DNS {
        if let Some(t) = mean_ns(dir, "dn_parse", name) {
            println!("dn_parse/{name:<14} {t:>9.1} ns");
        }
    }
    for q in ["one_clause", "two_clause"] {
        if let Some(t) = mean_ns(dir, "query_compile", q) {
            println!(
                "query_compile/{q:<10} {t:>9.1} ns   ({:.2} of the 1 µs target)",
                t / 1000.0
            );
        }
    }
    for (name, _) in FILTERS {
        let g = format!("filter_{name}");
        if let (Some(ours), Some(theirs)) =
            (mean_ns(dir, &g, "heracles"), mean_ns(dir, &g, "ldap3"))
        {
            println!(
                "filter/{name:<12} heracles {ours:>8.1} ns   ldap3 {theirs:>8.1} ns   ratio heracles/ldap3 = {:.2}",
                ours / theirs
            );
        }
    }
}

fn output_dir() -> PathBuf {
    // target/<profile>/deps/<bench binary> -> target/criterion
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| std::env::temp_dir().join("heracles-criterion"))
}

fn main() {
    let dir = output_dir();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
    summary(&dir);
}
