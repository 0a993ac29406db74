//! Property tests: round trips, robustness against arbitrary input, and agreement with the
//! independent RFC 4515 parser of ldap3.
//!
//! ldap3 0.12's parser differs from ours in two places, so the strategy used against it
//! avoids them: it reads `:dn` case-sensitively, and it cannot parse a matching rule whose
//! name starts with `dn` (`(cn:dnQualifierMatch:=x)`: it takes `:dn` as the DN flag and then
//! fails). Everything else — `(&)`, `(|)`, empty values, escapes, non-UTF-8 bytes — it
//! accepts, and it must decode our output to exactly the structure of our AST.

use ldap3::asn1::{Boolean, ExplicitTag, OctetString, Sequence, Tag, TagClass};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{compile, AllowList, Clause, Filter};
use crate::ErrorCode;

fn descr() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9-]{0,6}"
}

fn numeric_oid() -> impl Strategy<Value = String> {
    "(0|[1-9][0-9]{0,3})(\\.(0|[1-9][0-9]{0,3})){0,4}"
}

fn attr() -> impl Strategy<Value = String> {
    (
        prop_oneof![descr(), numeric_oid()],
        vec("[a-zA-Z0-9-]{1,4}", 0..3),
    )
        .prop_map(|(base, options)| {
            let mut a = base;
            for o in options {
                a.push(';');
                a.push_str(&o);
            }
            a
        })
}

fn rule(for_ldap3: bool) -> impl Strategy<Value = String> {
    prop_oneof![descr(), numeric_oid()].prop_filter("not a rule name", move |r| {
        let ambiguous = for_ldap3 && r.starts_with("dn");
        !r.eq_ignore_ascii_case("dn") && !ambiguous
    })
}

// Text with a bias towards what needs escaping.
const TRICKY: &str = r"[a-z*()\\\x00 :=é\x{85}\x{7f}&|!~<>\n]{0,8}";
const TRICKY_NON_EMPTY: &str = r"[a-z*()\\\x00 :=é\x{85}\x{7f}&|!~<>\n]{1,8}";

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..8), TRICKY.prop_map(String::into_bytes),]
}

fn non_empty_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 1..8),
        TRICKY_NON_EMPTY.prop_map(String::into_bytes),
    ]
}

fn leaf(for_ldap3: bool) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (attr(), value()).prop_map(|(attr, value)| Filter::Equality { attr, value }),
        (attr(), value()).prop_map(|(attr, value)| Filter::GreaterOrEqual { attr, value }),
        (attr(), value()).prop_map(|(attr, value)| Filter::LessOrEqual { attr, value }),
        (attr(), value()).prop_map(|(attr, value)| Filter::Approx { attr, value }),
        attr().prop_map(|attr| Filter::Present { attr }),
        (
            attr(),
            option::of(non_empty_value()),
            vec(non_empty_value(), 0..3),
            option::of(non_empty_value())
        )
            .prop_filter("a component", |(_, i, a, f)| i.is_some()
                || !a.is_empty()
                || f.is_some())
            .prop_map(|(attr, initial, any, final_)| Filter::Substrings {
                attr,
                initial,
                any,
                final_
            }),
        (
            option::of(attr()),
            option::of(rule(for_ldap3)),
            any::<bool>(),
            value()
        )
            .prop_filter("attr or rule", |(a, r, _, _)| a.is_some() || r.is_some())
            .prop_map(|(attr, rule, dn_attributes, value)| Filter::Extensible {
                attr,
                rule,
                dn_attributes,
                value
            }),
    ]
}

fn filter(for_ldap3: bool) -> impl Strategy<Value = Filter> {
    leaf(for_ldap3).prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Filter::And),
            vec(inner.clone(), 0..4).prop_map(Filter::Or),
            inner.prop_map(Filter::not),
        ]
    })
}

fn octets(bytes: &[u8]) -> Tag {
    Tag::OctetString(OctetString {
        inner: bytes.to_vec(),
        ..Default::default()
    })
}

fn context_octets(id: u64, bytes: &[u8]) -> Tag {
    Tag::OctetString(OctetString {
        class: TagClass::Context,
        id,
        inner: bytes.to_vec(),
    })
}

fn context_sequence(id: u64, inner: Vec<Tag>) -> Tag {
    Tag::Sequence(Sequence {
        class: TagClass::Context,
        id,
        inner,
    })
}

/// The RFC 4511 §4.5.1 encoding of a filter, written independently from ldap3's parser.
fn to_tag(f: &Filter) -> Tag {
    let pair = |id, attr: &str, value: &[u8]| {
        context_sequence(id, vec![octets(attr.as_bytes()), octets(value)])
    };
    match f {
        Filter::And(list) => context_sequence(0, list.iter().map(to_tag).collect()),
        Filter::Or(list) => context_sequence(1, list.iter().map(to_tag).collect()),
        Filter::Not(inner) => Tag::ExplicitTag(ExplicitTag {
            class: TagClass::Context,
            id: 2,
            inner: Box::new(to_tag(inner)),
        }),
        Filter::Equality { attr, value } => pair(3, attr, value),
        Filter::Substrings {
            attr,
            initial,
            any,
            final_,
        } => {
            let mut parts = Vec::new();
            if let Some(i) = initial {
                parts.push(context_octets(0, i));
            }
            parts.extend(any.iter().map(|a| context_octets(1, a)));
            if let Some(f) = final_ {
                parts.push(context_octets(2, f));
            }
            let parts = Tag::Sequence(Sequence {
                inner: parts,
                ..Default::default()
            });
            context_sequence(4, vec![octets(attr.as_bytes()), parts])
        }
        Filter::GreaterOrEqual { attr, value } => pair(5, attr, value),
        Filter::LessOrEqual { attr, value } => pair(6, attr, value),
        Filter::Present { attr } => context_octets(7, attr.as_bytes()),
        Filter::Approx { attr, value } => pair(8, attr, value),
        Filter::Extensible {
            attr,
            rule,
            dn_attributes,
            value,
        } => {
            let mut inner = Vec::new();
            if let Some(r) = rule {
                inner.push(context_octets(1, r.as_bytes()));
            }
            if let Some(a) = attr {
                inner.push(context_octets(2, a.as_bytes()));
            }
            inner.push(context_octets(3, value));
            if *dn_attributes {
                inner.push(Tag::Boolean(Boolean {
                    class: TagClass::Context,
                    id: 4,
                    inner: true,
                }));
            }
            context_sequence(9, inner)
        }
    }
}

fn allow() -> AllowList {
    AllowList::new([
        ("uid", "uid", true),
        ("mail", "mail", true),
        ("shell", "loginShell", false),
    ])
}

/// Arbitrary text, and text made of the filter grammar's own characters (far likelier to get
/// deep into the parser).
fn filter_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r"[()&|!=*~<>:;.\\a-c0-9dDnN \x00é]{0,60}",
        r"(\((&|\||!)?){0,4}[a-c]{1,3}(=|~=|>=|<=|:dn:=|:x:=)[a-c*\\0-9]{0,6}\)*",
    ]
}

fn clause_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r"(uid|UID|mail|shell|x|)(:(eq|contains|starts|ends|present|EQ|zz|)(:.{0,12})?)?",
    ]
}

proptest! {
    #[test]
    fn serialise_then_parse_is_identity(f in filter(false)) {
        prop_assert!(f.is_valid(), "{:?}", f.validate());
        let text = f.to_string();
        prop_assert_eq!(Filter::parse(&text), Ok(f), "{}", text);
    }

    #[test]
    fn ldap3_reads_our_filters_as_we_mean_them(f in filter(true)) {
        let text = f.to_string();
        prop_assert_eq!(ldap3::parse_filter(&text), Ok(to_tag(&f)), "{}", text);
    }

    #[test]
    fn parser_never_panics_and_what_it_accepts_round_trips(s in filter_like()) {
        match Filter::parse(&s) {
            Ok(f) => {
                prop_assert!(f.is_valid());
                prop_assert_eq!(Filter::parse(&f.to_string()), Ok(f));
            }
            Err(e) => {
                prop_assert_eq!(e.code(), ErrorCode::InvalidFilter);
                let pos = e.details()["position"].as_u64().unwrap_or(u64::MAX);
                prop_assert!(usize::try_from(pos).is_ok_and(|p| p <= s.len()));
            }
        }
    }

    #[test]
    fn query_parser_never_panics(s in clause_like(), t in clause_like()) {
        let _ = Clause::parse(&s);
        match compile([&s, &t], &allow()) {
            Ok(Some(Filter::And(list))) => prop_assert_eq!(list.len(), 2),
            Ok(other) => prop_assert!(false, "{:?}", other),
            Err(e) => {
                prop_assert_eq!(e.code(), ErrorCode::InvalidFilter);
                prop_assert!(e.details()["index"].is_u64());
            }
        }
    }

    #[test]
    fn query_values_cannot_change_the_shape(v in ".{1,40}", op in "eq|contains|starts|ends") {
        let f = compile([format!("uid:{op}:{v}")], &allow());
        if v.contains('\0') {
            // Refused: slapd would cut the value at the NUL.
            prop_assert_eq!(f.unwrap_err().code(), ErrorCode::InvalidFilter);
            return Ok(());
        }
        let f = f.ok().flatten();
        let expected = match op.as_str() {
            "eq" => Filter::eq("uid", &v),
            "contains" => Filter::contains("uid", &v),
            "starts" => Filter::starts_with("uid", &v),
            _ => Filter::ends_with("uid", &v),
        };
        prop_assert_eq!(f.as_ref(), Some(&expected));
        prop_assert_eq!(Filter::parse(&expected.to_string()), Ok(expected));
    }
}
