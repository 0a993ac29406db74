//! The REST API's `ATTR:OP:VALUE` query syntax: `Clause::parse` and `compile`.
//!
//! The input is split on newlines into clauses (an empty input is no clause). Properties
//! (documented in `heracles_core::filter::query`): a clause either fails with
//! `INVALID_FILTER` (position inside the clause) or parses into parts whose written form
//! parses back to the same parts, with a non-empty value exactly for the operators that
//! take one; `compile` succeeds exactly when there are at most `MAX_CLAUSES` clauses and each
//! one compiles alone, gives `None` for no clause, one clause's filter unwrapped, or the AND
//! of the clauses' filters; its errors name a clause index in range; the filter is valid and
//! survives a write and re-parse.
#![no_main]

use heracles_core::filter::{compile, AllowList, Clause, Filter, Op, MAX_CLAUSES, MAX_FILTER_LEN};
use heracles_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn allow_list() -> AllowList {
    AllowList::new([
        ("uid", "uid", true),
        ("mail", "mail", true),
        ("shell", "loginShell", false),
        ("gidNumber", "gidNumber", false),
        ("name", "cn;lang-en", true),
        ("oid", "2.5.4.3", true),
    ])
}

fn check_clause(text: &str, allow: &AllowList) -> Option<Filter> {
    let clause = match Clause::parse(text) {
        Ok(c) => c,
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidFilter, "{text:?}: {e}");
            let p = e.details().get("position").and_then(|p| p.as_u64());
            assert!(p.is_some_and(|p| p <= text.len() as u64), "{text:?}: {e}");
            return None;
        }
    };
    assert!(
        !clause.attr.is_empty() && !clause.attr.contains(':'),
        "{text:?}"
    );
    match clause.op {
        Op::Present => assert_eq!(clause.value, None, "{text:?}"),
        _ => assert!(clause.value.is_some_and(|v| !v.is_empty()), "{text:?}"),
    }
    let written = clause.to_string();
    match Clause::parse(&written) {
        Ok(again) => assert_eq!(again, clause, "{text:?} -> {written:?}"),
        Err(e) => panic!("{text:?} parsed, its written form {written:?} does not: {e}"),
    }
    match clause.to_filter(allow) {
        Ok(f) => {
            assert!(
                f.is_valid(),
                "{text:?} compiled into an invalid filter {f:?}"
            );
            let expected_value = clause.value.unwrap_or_default().as_bytes();
            match &f {
                Filter::Equality { value, .. } => {
                    assert_eq!(clause.op, Op::Eq);
                    assert_eq!(value.as_slice(), expected_value, "{text:?}");
                }
                Filter::Present { .. } => assert_eq!(clause.op, Op::Present),
                Filter::Substrings { .. } => assert!(clause.op.is_substring()),
                other => panic!("{text:?} compiled into {other:?}"),
            }
            Some(f)
        }
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidFilter, "{text:?}: {e}");
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let clauses: Vec<&str> = if input.is_empty() {
        Vec::new()
    } else {
        input.split('\n').collect()
    };
    let allow = allow_list();
    let each: Vec<Option<Filter>> = clauses.iter().map(|c| check_clause(c, &allow)).collect();
    let all_ok = clauses.len() <= MAX_CLAUSES && each.iter().all(Option::is_some);
    match compile(&clauses, &allow) {
        Ok(None) => assert!(clauses.is_empty(), "{clauses:?}: no filter"),
        Ok(Some(f)) => {
            assert!(all_ok, "{clauses:?} compiled although a clause fails alone");
            let singles: Vec<Filter> = each.into_iter().flatten().collect();
            let expected = match <[Filter; 1]>::try_from(singles) {
                Ok([one]) => one,
                Err(many) => Filter::And(many),
            };
            assert_eq!(f, expected, "{clauses:?}");
            let text = f.to_string();
            if text.len() <= MAX_FILTER_LEN {
                match Filter::parse(&text) {
                    Ok(g) => assert_eq!(g, f, "{clauses:?} -> {text:?}"),
                    Err(e) => panic!("{clauses:?} -> {text:?} does not parse: {e}"),
                }
            }
        }
        Err(e) => {
            assert!(
                !all_ok,
                "{clauses:?} failed although each clause compiles: {e}"
            );
            assert_eq!(e.code(), ErrorCode::InvalidFilter, "{clauses:?}: {e}");
            // The first clause that fails alone, or the first one over the limit.
            let first_bad = each
                .iter()
                .enumerate()
                .position(|(i, f)| i >= MAX_CLAUSES || f.is_none());
            let index = e.details().get("index").and_then(|i| i.as_u64());
            assert_eq!(
                index,
                first_bad.map(|i| i as u64),
                "{clauses:?}: the error names another clause: {e}"
            );
        }
    }
});
