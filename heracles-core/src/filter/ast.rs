//! The filter AST and its constructors.

use crate::error::{Error, ErrorCode, Result};

use super::attr::{is_attribute_description, is_matching_rule};
use super::MAX_FILTER_DEPTH;

/// An LDAP search filter: the structure of RFC 4511 §4.5.1, written and read in the string
/// form of RFC 4515.
///
/// Assertion values are bytes, so binary values (`(bin=\00\00\00\04)`) and values that are not
/// UTF-8 are represented exactly; the serialiser ([`Display`](std::fmt::Display)) escapes
/// whatever could change the filter's shape.
///
/// # Validity
///
/// The variants have public fields, so an AST built in code may be *invalid*: an attribute
/// description that is not one (see [`is_attribute_description`](super::is_attribute_description)),
/// an empty substring component, an extensible match with neither attribute nor rule, or a
/// nesting deeper than [`MAX_FILTER_DEPTH`]. [`Filter::validate`] reports such problems.
/// Every AST that [`Filter::parse`] returns is valid, and for every valid AST whose text is at
/// most [`MAX_FILTER_LEN`](super::MAX_FILTER_LEN) bytes, `Filter::parse(&f.to_string()) == Ok(f)`.
///
/// An invalid AST still serialises safely: see [`Filter`'s `Display`](#impl-Display-for-Filter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// `(&(a=1)(b=2))`: every sub-filter matches. With no sub-filter, `(&)`, it is the
    /// absolute true filter of RFC 4526.
    And(Vec<Filter>),
    /// `(|(a=1)(b=2))`: at least one sub-filter matches. With no sub-filter, `(|)`, it is the
    /// absolute false filter of RFC 4526.
    Or(Vec<Filter>),
    /// `(!(a=1))`: the sub-filter does not match.
    Not(Box<Filter>),
    /// `(attr=value)`: equality match.
    Equality {
        /// Attribute description.
        attr: String,
        /// Assertion value.
        value: Vec<u8>,
    },
    /// `(attr=initial*any1*any2*final)`: substring match. At least one component is present,
    /// and no component is empty.
    Substrings {
        /// Attribute description.
        attr: String,
        /// The value must start with this.
        initial: Option<Vec<u8>>,
        /// The value must contain these, in this order, after `initial` and before `final_`.
        any: Vec<Vec<u8>>,
        /// The value must end with this.
        final_: Option<Vec<u8>>,
    },
    /// `(attr>=value)`: ordering match (needs an ORDERING rule on the attribute).
    GreaterOrEqual {
        /// Attribute description.
        attr: String,
        /// Assertion value.
        value: Vec<u8>,
    },
    /// `(attr<=value)`: ordering match (needs an ORDERING rule on the attribute).
    LessOrEqual {
        /// Attribute description.
        attr: String,
        /// Assertion value.
        value: Vec<u8>,
    },
    /// `(attr=*)`: the attribute is present.
    Present {
        /// Attribute description.
        attr: String,
    },
    /// `(attr~=value)`: approximate match.
    Approx {
        /// Attribute description.
        attr: String,
        /// Assertion value.
        value: Vec<u8>,
    },
    /// `(attr:dn:rule:=value)`: extensible match. At least one of `attr` and `rule` is given.
    Extensible {
        /// Attribute description, if any.
        attr: Option<String>,
        /// Matching rule (descriptor or numeric OID), if any.
        rule: Option<String>,
        /// `:dn`: also match the attributes of the entry's DN.
        dn_attributes: bool,
        /// Assertion value.
        value: Vec<u8>,
    },
}

/// # Constructors
///
/// The constructors never fail and never validate: they are meant for attribute names written
/// in code. Values are always safe: whatever bytes they hold, they are escaped on output and
/// cannot change the filter's shape. Attribute names that come from users must go through
/// [`compile`](super::compile) (which maps them through an allow-list) or [`Filter::parse`]
/// (which checks them). Should an invalid attribute description reach the serialiser anyway,
/// it is written in a form that no RFC 4515 parser accepts, so the filter fails closed; see
/// [`Filter::validate`].
///
/// ```
/// use heracles_core::filter::Filter;
///
/// let f = Filter::and([
///     Filter::eq("objectClass", "inetOrgPerson"),
///     Filter::starts_with("uid", "jo"),
///     Filter::not(Filter::present("pwdAccountLockedTime")),
/// ]);
/// assert_eq!(f.to_string(), "(&(objectClass=inetOrgPerson)(uid=jo*)(!(pwdAccountLockedTime=*)))");
/// ```
impl Filter {
    /// `(attr=value)`, equality.
    pub fn eq(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        Filter::Equality {
            attr: attr.to_owned(),
            value: value.as_ref().to_vec(),
        }
    }

    /// `(attr=*)`, presence.
    pub fn present(attr: &str) -> Filter {
        Filter::Present {
            attr: attr.to_owned(),
        }
    }

    /// `(attr>=value)`.
    pub fn ge(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        Filter::GreaterOrEqual {
            attr: attr.to_owned(),
            value: value.as_ref().to_vec(),
        }
    }

    /// `(attr<=value)`.
    pub fn le(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        Filter::LessOrEqual {
            attr: attr.to_owned(),
            value: value.as_ref().to_vec(),
        }
    }

    /// `(attr~=value)`.
    pub fn approx(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        Filter::Approx {
            attr: attr.to_owned(),
            value: value.as_ref().to_vec(),
        }
    }

    /// `(attr=initial*any*...*final)`, normalised: empty components are dropped, and when
    /// nothing is left the result is `(attr=*)` ([`Filter::Present`]), which is what a
    /// substring assertion without content means.
    ///
    /// ```
    /// use heracles_core::filter::Filter;
    ///
    /// let f = Filter::substrings("cn", Some(b"J".to_vec()), vec![b"n".to_vec()], Some(b"e".to_vec()));
    /// assert_eq!(f.to_string(), "(cn=J*n*e)");
    /// assert_eq!(Filter::substrings("cn", None, vec![Vec::new()], None), Filter::present("cn"));
    /// ```
    pub fn substrings(
        attr: &str,
        initial: Option<Vec<u8>>,
        mut any: Vec<Vec<u8>>,
        final_: Option<Vec<u8>>,
    ) -> Filter {
        let initial = initial.filter(|v| !v.is_empty());
        let final_ = final_.filter(|v| !v.is_empty());
        any.retain(|v| !v.is_empty());
        if initial.is_none() && any.is_empty() && final_.is_none() {
            return Filter::present(attr);
        }
        Filter::Substrings {
            attr: attr.to_owned(),
            initial,
            any,
            final_,
        }
    }

    /// `(attr=*value*)`; `(attr=*)` when `value` is empty.
    pub fn contains(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        let value = value.as_ref();
        if value.is_empty() {
            return Filter::present(attr);
        }
        Filter::Substrings {
            attr: attr.to_owned(),
            initial: None,
            any: vec![value.to_vec()],
            final_: None,
        }
    }

    /// `(attr=value*)`; `(attr=*)` when `value` is empty.
    pub fn starts_with(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        let value = value.as_ref();
        if value.is_empty() {
            return Filter::present(attr);
        }
        Filter::Substrings {
            attr: attr.to_owned(),
            initial: Some(value.to_vec()),
            any: Vec::new(),
            final_: None,
        }
    }

    /// `(attr=*value)`; `(attr=*)` when `value` is empty.
    pub fn ends_with(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        let value = value.as_ref();
        if value.is_empty() {
            return Filter::present(attr);
        }
        Filter::Substrings {
            attr: attr.to_owned(),
            initial: None,
            any: Vec::new(),
            final_: Some(value.to_vec()),
        }
    }

    /// `(attr:dn:rule:=value)`, extensible match; give at least one of `attr` and `rule`.
    ///
    /// ```
    /// use heracles_core::filter::Filter;
    ///
    /// let f = Filter::extensible(Some("cn"), Some("caseExactMatch"), false, "Fred");
    /// assert_eq!(f.to_string(), "(cn:caseExactMatch:=Fred)");
    /// let f = Filter::extensible(None, Some("2.4.6.8.10"), true, "Dino");
    /// assert_eq!(f.to_string(), "(:dn:2.4.6.8.10:=Dino)");
    /// ```
    pub fn extensible(
        attr: Option<&str>,
        rule: Option<&str>,
        dn_attributes: bool,
        value: impl AsRef<[u8]>,
    ) -> Filter {
        Filter::Extensible {
            attr: attr.map(str::to_owned),
            rule: rule.map(str::to_owned),
            dn_attributes,
            value: value.as_ref().to_vec(),
        }
    }

    /// `(&...)`: all of `filters` match. Kept as given (no flattening); an empty list is the
    /// absolute true filter `(&)`.
    pub fn and(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::And(filters.into_iter().collect())
    }

    /// `(|...)`: any of `filters` matches. Kept as given; an empty list is the absolute false
    /// filter `(|)`.
    pub fn or(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::Or(filters.into_iter().collect())
    }

    /// `(!filter)`.
    #[allow(clippy::should_implement_trait)] // a constructor, not `std::ops::Not`
    pub fn not(filter: Filter) -> Filter {
        Filter::Not(Box::new(filter))
    }

    /// Checks that this AST is valid (see [the type's docs](Filter#validity)): every
    /// attribute description and matching rule is well-formed, substring components are
    /// non-empty and at least one is present, an extensible match names an attribute or a
    /// rule, and the nesting is at most [`MAX_FILTER_DEPTH`] deep.
    ///
    /// The error is `INVALID_FILTER` with a `reason` detail.
    ///
    /// ```
    /// use heracles_core::filter::Filter;
    ///
    /// assert!(Filter::eq("uid", "*)(uid=*").validate().is_ok());
    /// let err = Filter::eq("uid=*)(uid", "x").validate().unwrap_err();
    /// assert_eq!(err.code().as_str(), "INVALID_FILTER");
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.validate_at(1)
    }

    /// Whether [`Filter::validate`] succeeds.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    fn validate_at(&self, depth: usize) -> Result<()> {
        if depth > MAX_FILTER_DEPTH {
            return Err(invalid(format!(
                "the filter is nested deeper than {MAX_FILTER_DEPTH} levels"
            ))
            .with_detail("max_depth", MAX_FILTER_DEPTH));
        }
        match self {
            Filter::And(list) | Filter::Or(list) => {
                list.iter().try_for_each(|f| f.validate_at(depth + 1))
            }
            Filter::Not(inner) => inner.validate_at(depth + 1),
            Filter::Equality { attr, .. }
            | Filter::GreaterOrEqual { attr, .. }
            | Filter::LessOrEqual { attr, .. }
            | Filter::Approx { attr, .. }
            | Filter::Present { attr } => check_attr(attr),
            Filter::Substrings {
                attr,
                initial,
                any,
                final_,
            } => {
                check_attr(attr)?;
                let empty = |v: &Option<Vec<u8>>| v.as_ref().is_some_and(Vec::is_empty);
                if empty(initial) || empty(final_) || any.iter().any(Vec::is_empty) {
                    return Err(invalid("a substring component is empty".to_owned()));
                }
                if initial.is_none() && any.is_empty() && final_.is_none() {
                    return Err(invalid(
                        "a substring filter needs at least one component".to_owned(),
                    ));
                }
                Ok(())
            }
            Filter::Extensible { attr, rule, .. } => {
                if let Some(attr) = attr {
                    check_attr(attr)?;
                }
                match rule {
                    Some(rule) if !is_matching_rule(rule) => {
                        Err(invalid(format!("invalid matching rule '{rule}'"))
                            .with_detail("rule", rule.as_str()))
                    }
                    None if attr.is_none() => Err(invalid(
                        "an extensible match needs an attribute or a matching rule".to_owned(),
                    )),
                    _ => Ok(()),
                }
            }
        }
    }
}

fn invalid(reason: String) -> Error {
    Error::new(
        ErrorCode::InvalidFilter,
        format!("invalid filter: {reason}"),
    )
    .with_detail("reason", reason)
}

fn check_attr(attr: &str) -> Result<()> {
    if is_attribute_description(attr) {
        Ok(())
    } else {
        Err(invalid(format!("invalid attribute description '{attr}'"))
            .with_detail("attribute", attr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_build_the_variants() {
        assert_eq!(
            Filter::eq("cn", "x"),
            Filter::Equality {
                attr: "cn".into(),
                value: b"x".to_vec()
            }
        );
        assert_eq!(
            Filter::ge("n", [1u8]),
            Filter::GreaterOrEqual {
                attr: "n".into(),
                value: vec![1]
            }
        );
        assert_eq!(
            Filter::le("n", b"2"),
            Filter::LessOrEqual {
                attr: "n".into(),
                value: b"2".to_vec()
            }
        );
        assert_eq!(
            Filter::approx("n", String::from("x")),
            Filter::Approx {
                attr: "n".into(),
                value: b"x".to_vec()
            }
        );
        assert_eq!(
            Filter::contains("cn", "a"),
            Filter::Substrings {
                attr: "cn".into(),
                initial: None,
                any: vec![b"a".to_vec()],
                final_: None
            }
        );
        assert_eq!(Filter::contains("cn", ""), Filter::present("cn"));
        assert_eq!(Filter::starts_with("cn", ""), Filter::present("cn"));
        assert_eq!(Filter::ends_with("cn", ""), Filter::present("cn"));
        assert_eq!(
            Filter::substrings("cn", Some(Vec::new()), vec![vec![], b"x".to_vec()], None),
            Filter::contains("cn", "x")
        );
        assert_eq!(
            Filter::not(Filter::present("a")),
            Filter::Not(Box::new(Filter::present("a")))
        );
        assert_eq!(Filter::and([]), Filter::And(vec![]));
        assert_eq!(Filter::or(vec![]), Filter::Or(vec![]));
    }

    #[test]
    fn validation() {
        assert!(Filter::and([]).is_valid());
        assert!(Filter::extensible(Some("cn"), None, true, "").is_valid());
        assert!(Filter::extensible(None, Some("1.2.3"), false, "x").is_valid());
        let bad = [
            Filter::eq("", "x"),
            Filter::present("cn)(x"),
            Filter::not(Filter::ge("1cn", "x")),
            Filter::Substrings {
                attr: "cn".into(),
                initial: None,
                any: vec![],
                final_: None,
            },
            Filter::Substrings {
                attr: "cn".into(),
                initial: Some(vec![]),
                any: vec![],
                final_: Some(b"x".to_vec()),
            },
            Filter::Substrings {
                attr: "cn".into(),
                initial: None,
                any: vec![b"x".to_vec(), vec![]],
                final_: None,
            },
            Filter::extensible(None, None, true, "x"),
            Filter::extensible(Some("cn"), Some("dn"), false, "x"),
            Filter::extensible(Some("cn"), Some("a;b"), false, "x"),
            Filter::extensible(Some("c n"), None, false, "x"),
        ];
        for f in bad {
            let err = f.validate().unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidFilter, "{f:?}");
            assert!(err.details()["reason"].is_string());
        }
    }

    #[test]
    fn validation_caps_depth() {
        let mut f = Filter::present("a");
        for _ in 1..MAX_FILTER_DEPTH {
            f = Filter::not(f);
        }
        assert!(f.is_valid());
        let f = Filter::not(f);
        let err = f.validate().unwrap_err();
        assert_eq!(err.details()["max_depth"], MAX_FILTER_DEPTH);
    }
}
