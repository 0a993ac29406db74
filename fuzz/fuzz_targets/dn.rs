//! `Dn::parse` and `Rdn::parse` (RFC 4514).
//!
//! Properties (documented in `heracles_core::dn`): errors are `INVALID_DN` with a position
//! inside the input; a parsed DN's string form fits in `MAX_DN_LEN`, parses back to the same
//! attribute types and values (so to an equal DN), and writing is idempotent; equal DNs hash
//! and order alike; the normalised form parses back to an equal DN and is a fixed point.
#![no_main]

use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

use heracles_core::dn::{Dn, Rdn, MAX_DN_LEN};
use heracles_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check_error(err: &heracles_core::Error, input: &str) {
    assert_eq!(err.code(), ErrorCode::InvalidDn, "{input:?}: {err}");
    if let Some(p) = err.details().get("position") {
        let p = p.as_u64().unwrap_or(u64::MAX);
        assert!(
            p <= input.len() as u64,
            "{input:?}: position {p} out of range: {err}"
        );
    }
}

fn same_avas(a: &Rdn, b: &Rdn, input: &str) {
    let left: Vec<(&str, &str)> = a.avas().iter().map(|v| (v.attr(), v.value())).collect();
    let right: Vec<(&str, &str)> = b.avas().iter().map(|v| (v.attr(), v.value())).collect();
    assert_eq!(
        left, right,
        "{input:?}: types/values changed by a write and re-parse"
    );
}

fn check_dn(dn: &Dn, input: &str) {
    let text = dn.to_string();
    assert!(text.len() <= MAX_DN_LEN, "{input:?}: written form too long");
    let again = match Dn::parse(&text) {
        Ok(d) => d,
        Err(e) => panic!("{input:?} parsed, its string form {text:?} does not: {e}"),
    };
    assert_eq!(&again, dn, "{input:?} -> {text:?}");
    assert_eq!(again.len(), dn.len());
    for (a, b) in dn.rdns().iter().zip(again.rdns()) {
        same_avas(a, b, input);
    }
    assert_eq!(
        again.to_string(),
        text,
        "{input:?}: writing is not idempotent"
    );

    let hasher = RandomState::new();
    assert_eq!(
        hasher.hash_one(dn),
        hasher.hash_one(&again),
        "{input:?}: hash"
    );
    assert_eq!(
        dn.cmp(&again),
        Ordering::Equal,
        "{input:?}: Ord disagrees with Eq"
    );

    let norm = dn.normalized();
    let from_norm = match Dn::parse(&norm) {
        Ok(d) => d,
        Err(e) => panic!("{input:?}: normalised form {norm:?} does not parse: {e}"),
    };
    assert_eq!(
        &from_norm, dn,
        "{input:?}: normalised form {norm:?} is another DN"
    );
    assert_eq!(
        from_norm.normalized(),
        norm,
        "{input:?}: normalisation is not idempotent"
    );

    if let Some(parent) = dn.parent() {
        assert!(
            dn.is_descendant_of(&parent),
            "{input:?}: not below its parent"
        );
        assert!(
            !parent.is_descendant_of(dn),
            "{input:?}: parent below child"
        );
        assert_eq!(
            dn.cmp(&parent),
            Ordering::Greater,
            "{input:?}: parent sorts after child"
        );
        let rdn = dn.rdn().map(|r| r.to_string()).unwrap_or_default();
        let rebuilt = dn.rdns().first().cloned().map(|r| parent.child(r));
        assert_eq!(
            rebuilt.as_ref(),
            Some(dn),
            "{input:?}: parent.child({rdn}) differs"
        );
    }
}

fn check_rdn(rdn: &Rdn, input: &str) {
    let text = rdn.to_string();
    let again = match Rdn::parse(&text) {
        Ok(r) => r,
        Err(e) => panic!("RDN {input:?} parsed, its string form {text:?} does not: {e}"),
    };
    assert_eq!(&again, rdn, "RDN {input:?} -> {text:?}");
    same_avas(rdn, &again, input);
    assert_eq!(
        again.to_string(),
        text,
        "RDN {input:?}: writing is not idempotent"
    );
    let norm = rdn.normalized();
    match Rdn::parse(&norm) {
        Ok(r) => assert_eq!(&r, rdn, "RDN {input:?}: normalised form {norm:?} differs"),
        Err(e) => panic!("RDN {input:?}: normalised form {norm:?} does not parse: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match Dn::parse(input) {
        Ok(dn) => check_dn(&dn, input),
        Err(e) => check_error(&e, input),
    }
    match Rdn::parse(input) {
        Ok(rdn) => check_rdn(&rdn, input),
        Err(e) => check_error(&e, input),
    }
});
