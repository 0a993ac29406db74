//! # heracles-core
//!
//! The core of Heracles: everything that manages an LDAP directory — parsing and escaping of
//! distinguished names and filters, paging, the [`directory::Directory`] abstraction with its
//! LDAP backend — lives here, so that the REST server, the Python package and Rust callers
//! all behave the same.
//!
//! ```
//! use heracles_core::dn::{Dn, Rdn};
//! use heracles_core::filter::Filter;
//!
//! // Values entering a DN are escaped by construction:
//! let base = Dn::parse("ou=people,dc=example,dc=com")?;
//! let user = base.child(Rdn::new("uid", "j,doe")?);
//! assert_eq!(user.to_string(), "uid=j\\,doe,ou=people,dc=example,dc=com");
//!
//! // ... and so are values entering a filter:
//! let f = Filter::eq("uid", "*)(uid=*");
//! assert_eq!(f.to_string(), "(uid=\\2a\\29\\28uid=\\2a)");
//! # Ok::<(), heracles_core::error::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod directory;
pub mod dn;
pub mod error;
pub mod filter;
pub mod ldif;
pub mod page;
pub mod password;
pub mod schema;

pub use error::{Error, ErrorCode, Result};
