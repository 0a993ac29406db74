//! LDAP search filters: the [`Filter`] AST, its RFC 4515 string form (parser and
//! serialiser), and the `ATTR:OP:VALUE` query syntax of the REST API (SPEC §1).
//!
//! Every value enters a filter as data — through the AST, never by string formatting — and
//! is escaped on output, so no value can change a filter's shape:
//!
//! ```
//! use heracles_core::filter::Filter;
//!
//! let f = Filter::eq("uid", "*)(uid=*");
//! assert_eq!(f.to_string(), r"(uid=\2a\29\28uid=\2a)");
//! assert_eq!(Filter::parse(&f.to_string())?, f);
//! # Ok::<(), heracles_core::Error>(())
//! ```
//!
//! Filters written by people (configuration, the Python API) are parsed with
//! [`Filter::parse`]; errors are `INVALID_FILTER` with the byte `position` and a `reason`:
//!
//! ```
//! use heracles_core::filter::Filter;
//!
//! let f = Filter::parse("(&(objectClass=posixAccount)(|(uid=jo*)(cn:caseExactMatch:=Jo)))")?;
//! assert_eq!(f.to_string(), "(&(objectClass=posixAccount)(|(uid=jo*)(cn:caseExactMatch:=Jo)))");
//!
//! let err = Filter::parse("(cn=a\\zz)").unwrap_err();
//! assert_eq!(err.details()["position"], 5);
//! # Ok::<(), heracles_core::Error>(())
//! ```
//!
//! List endpoints compile their `filter=` parameters against the allow-list of the object
//! type with [`compile`]:
//!
//! ```
//! use heracles_core::filter::{compile, AllowList};
//!
//! let groups = AllowList::new([("cn", "cn", true), ("gidNumber", "gidNumber", false)]);
//! let f = compile(["cn:starts:dev", "gidNumber:eq:5000"], &groups)?;
//! assert_eq!(f.unwrap().to_string(), "(&(cn=dev*)(gidNumber=5000))");
//!
//! let err = compile(["gidNumber:contains:50"], &groups).unwrap_err();
//! assert_eq!(err.details()["index"], 0);
//! # Ok::<(), heracles_core::Error>(())
//! ```

mod ast;
mod attr;
mod parse;
mod query;
mod serialize;

#[cfg(test)]
mod proptests;

pub use ast::Filter;
pub use attr::{is_attribute_description, is_oid};
pub use query::{compile, AllowList, AllowedAttribute, Clause, Op, MAX_CLAUSES, MAX_CLAUSE_LEN};

/// [`Filter::parse`] rejects longer inputs (in bytes) before parsing anything.
pub const MAX_FILTER_LEN: usize = 64 * 1024;

/// [`Filter::parse`] rejects filters nested deeper than this (`(a=b)` is at depth 1,
/// `(!(a=b))` at depth 2), before recursing further.
pub const MAX_FILTER_DEPTH: usize = 64;
