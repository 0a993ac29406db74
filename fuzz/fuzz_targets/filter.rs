//! `Filter::parse` (RFC 4515 string form) and the serialiser (`Display`).
//!
//! Two properties, documented on `heracles_core::filter::Filter`:
//! 1. text: an input either fails with `INVALID_FILTER` (position inside the input) or gives a
//!    valid AST whose string form parses back to the same AST (and writing is idempotent);
//! 2. AST: an AST built from the fuzz bytes (arbitrary values, attribute names and rules) that
//!    `validate()`s and writes at most `MAX_FILTER_LEN` bytes parses back to itself; one that
//!    does not validate still writes without panicking.
#![no_main]

use arbitrary::{Result, Unstructured};
use heracles_core::filter::{Filter, MAX_FILTER_LEN};
use heracles_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn roundtrip(f: &Filter, what: &str) {
    let text = f.to_string();
    if text.len() > MAX_FILTER_LEN {
        return;
    }
    let again = match Filter::parse(&text) {
        Ok(g) => g,
        Err(e) => panic!("{what}: {f:?} writes {text:?}, which does not parse: {e}"),
    };
    assert_eq!(&again, f, "{what}: {text:?} parses to another filter");
    assert_eq!(again.to_string(), text, "{what}: writing is not idempotent");
}

const ATTRS: &[&str] = &[
    "cn",
    "objectClass",
    "uid",
    "2.5.4.3",
    "cn;lang-en",
    "x-a;binary;y",
    "dn",
    "DN",
    "a",
];
const RULES: &[&str] = &[
    "caseExactMatch",
    "2.5.13.5",
    "dn",
    "integerOrderingMatch",
    "1.2",
];

fn name(u: &mut Unstructured<'_>, list: &[&str]) -> Result<String> {
    if u.ratio(3, 4)? {
        Ok((*u.choose(list)?).to_owned())
    } else {
        u.arbitrary()
    }
}

fn value(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=12)?;
    (0..len)
        .map(|_| {
            // Mostly the characters that matter to the syntax.
            if u.ratio(1, 2)? {
                Ok(*u.choose(b"*()\\\0 :=a\x7f\xc3\xa9\xff")?)
            } else {
                u.arbitrary()
            }
        })
        .collect()
}

fn ast(u: &mut Unstructured<'_>, depth: usize) -> Result<Filter> {
    let max = if depth >= 6 { 8 } else { 11 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Filter::eq(&name(u, ATTRS)?, value(u)?),
        1 => Filter::present(&name(u, ATTRS)?),
        2 => Filter::ge(&name(u, ATTRS)?, value(u)?),
        3 => Filter::le(&name(u, ATTRS)?, value(u)?),
        4 => Filter::approx(&name(u, ATTRS)?, value(u)?),
        5 => {
            let initial = if u.arbitrary()? {
                Some(value(u)?)
            } else {
                None
            };
            let n = u.int_in_range(0..=3)?;
            let any = (0..n).map(|_| value(u)).collect::<Result<Vec<_>>>()?;
            let final_ = if u.arbitrary()? {
                Some(value(u)?)
            } else {
                None
            };
            Filter::substrings(&name(u, ATTRS)?, initial, any, final_)
        }
        6 => Filter::contains(&name(u, ATTRS)?, value(u)?),
        7 | 8 => {
            let attr = if u.arbitrary()? {
                Some(name(u, ATTRS)?)
            } else {
                None
            };
            let rule = if u.arbitrary()? {
                Some(name(u, RULES)?)
            } else {
                None
            };
            Filter::Extensible {
                attr,
                rule,
                dn_attributes: u.arbitrary()?,
                value: value(u)?,
            }
        }
        9 => Filter::not(ast(u, depth + 1)?),
        k => {
            let n = u.int_in_range(0..=3)?;
            let subs = (0..n)
                .map(|_| ast(u, depth + 1))
                .collect::<Result<Vec<_>>>()?;
            if k == 10 {
                Filter::and(subs)
            } else {
                Filter::or(subs)
            }
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = std::str::from_utf8(data) {
        match Filter::parse(input) {
            Ok(f) => {
                assert!(f.is_valid(), "{input:?} parsed into an invalid AST {f:?}");
                roundtrip(&f, input);
            }
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::InvalidFilter, "{input:?}: {e}");
                let p = e.details().get("position").and_then(|p| p.as_u64());
                assert!(
                    p.is_some_and(|p| p <= input.len() as u64),
                    "{input:?}: bad position in {e}"
                );
            }
        }
    }
    let mut u = Unstructured::new(data);
    if let Ok(f) = ast(&mut u, 1) {
        let text = f.to_string();
        if f.is_valid() {
            roundtrip(&f, "built AST");
        } else if let Ok(g) = Filter::parse(&text) {
            // An invalid AST may only come back as a different (valid) filter, e.g. with
            // its empty substring components left out — never with a name it did not have.
            assert!(g.is_valid());
        }
    }
});
