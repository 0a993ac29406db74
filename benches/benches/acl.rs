//! Access-control benchmarks: one permission check for a principal with 50 assignments
//! (target: ≤ 50 ns and no heap allocation), and compiling that principal's ACL.
//!
//! `cargo bench -p heracles-benches --bench acl` prints criterion's figures, then a summary
//! from this same run, including the number of heap allocations counted over a million
//! checks (must be 0).

// Counting allocations needs a global allocator, which is an `unsafe impl`; it only
// forwards to the system allocator. Benchmarks only, never shipped code.
#![allow(unsafe_code)]
// A benchmark stops at the first broken fixture.
#![allow(clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::Criterion;
use heracles_core::acl::{
    builtin_policies, Assignment, CompiledAcl, Permission, Policy, ScopeType, SubjectType,
};
use heracles_core::dn::Dn;

/// Counts allocations, to show a check allocates nothing.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn dn(s: &str) -> Dn {
    Dn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

const ME: &str = "uid=helper,ou=people,dc=example,dc=com";

/// 50 assignments: the principal's own and its groups', over the tree, department
/// subtrees at several depths, single entries, granting and denying.
fn setup() -> (Dn, Vec<Dn>, Vec<Assignment>, Vec<Arc<Policy>>) {
    let policies: Vec<Arc<Policy>> = builtin_policies().into_iter().map(Arc::new).collect();
    let groups: Vec<Dn> = (0..10)
        .map(|g| dn(&format!("cn=team{g},ou=groups,dc=example,dc=com")))
        .collect();
    let names = ["viewer", "user-manager", "group-manager"];
    let mut assignments = Vec::new();
    for i in 0..50 {
        let (scope_type, scope) = match i % 5 {
            0 if i == 0 => (ScopeType::Tree, None),
            0 | 1 => (
                ScopeType::Subtree,
                Some(dn(&format!("ou=dept{i},ou=departments,dc=example,dc=com"))),
            ),
            2 => (
                ScopeType::Subtree,
                Some(dn(&format!(
                    "ou=team{i},ou=dept{},ou=departments,dc=example,dc=com",
                    i - 1
                ))),
            ),
            3 => (
                ScopeType::Entry,
                Some(dn(&format!("uid=user{i},ou=people,dc=example,dc=com"))),
            ),
            _ => (ScopeType::SelfEntry, None),
        };
        let (subject_type, subject) = if i % 2 == 0 {
            (SubjectType::User, dn(ME))
        } else {
            (SubjectType::Group, groups[i % groups.len()].clone())
        };
        assignments.push(Assignment {
            id: format!("a{i}"),
            policy: names[i % names.len()].to_owned(),
            subject_type,
            subject,
            scope_type,
            scope,
            deny: i % 7 == 6,
            builtin: false,
        });
    }
    (dn(ME), groups, assignments, policies)
}

fn compile(me: &Dn, groups: &[Dn], a: &[Assignment], p: &[Arc<Policy>]) -> CompiledAcl {
    let self_policy = p.iter().find(|x| x.name == "self").cloned();
    CompiledAcl::compile(me, groups, a, p, self_policy.as_ref())
}

fn benches(c: &mut Criterion, acl: &CompiledAcl) {
    let (me, groups, assignments, policies) = setup();
    let write: Permission = "user:write".parse().unwrap_or_else(|e| panic!("{e}"));
    let hit = dn("uid=jdoe,ou=team22,ou=dept21,ou=departments,dc=example,dc=com");
    let miss = dn("uid=jdoe,ou=people,dc=example,dc=com");
    let mut g = c.benchmark_group("acl_check");
    g.bench_function("subtree_hit", |b| {
        b.iter(|| acl.allows(black_box(write), black_box(&hit)));
    });
    g.bench_function("no_rule", |b| {
        b.iter(|| acl.allows(black_box(write), black_box(&miss)));
    });
    g.finish();
    let mut g = c.benchmark_group("acl_compile");
    g.bench_function("50_assignments", |b| {
        b.iter(|| compile(&me, &groups, black_box(&assignments), &policies));
    });
    g.finish();
}

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

fn output_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| std::env::temp_dir().join("heracles-criterion"))
}

fn main() {
    let (me, groups, assignments, policies) = setup();
    let acl = compile(&me, &groups, &assignments, &policies);
    let write: Permission = "user:write".parse().unwrap_or_else(|e| panic!("{e}"));
    let targets = [
        dn("uid=jdoe,ou=team22,ou=dept21,ou=departments,dc=example,dc=com"),
        dn("uid=jdoe,ou=people,dc=example,dc=com"),
        dn("uid=user3,ou=people,dc=example,dc=com"),
        dn(ME),
    ];
    // Allocations over a million checks, counted before criterion starts.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut allowed = 0u32;
    for i in 0..1_000_000 {
        if acl.allows(black_box(write), black_box(&targets[i % targets.len()])) {
            allowed += 1;
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;

    let dir = output_dir();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    benches(&mut c, &acl);
    c.final_summary();

    println!("\n== summary (this run) ==");
    println!(
        "principal with {} assignments ({} rules apply to it)",
        assignments.len(),
        acl.rules().len()
    );
    for b in ["subtree_hit", "no_rule"] {
        if let Some(t) = mean_ns(&dir, "acl_check", b) {
            println!(
                "acl_check/{b:<12} {t:>8.1} ns   ({:.2} of the 50 ns target)",
                t / 50.0
            );
        }
    }
    if let Some(t) = mean_ns(&dir, "acl_compile", "50_assignments") {
        println!("acl_compile/50_assignments {:>8.1} µs", t / 1000.0);
    }
    println!("heap allocations in 1,000,000 checks: {allocations} ({allowed} allowed)");
    if allocations != 0 {
        eprintln!("a permission check allocated");
        std::process::exit(1);
    }
}
