//! # heracles-core
//!
//! The core of Heracles: everything that manages an LDAP directory lives here, so that the
//! REST server, the Python package and Rust callers all behave the same.
//!
//! - [`error`]: one [`Error`] with a stable [`ErrorCode`]; LDAP result codes mapped once.
//! - [`dn`], [`filter`]: RFC 4514 DNs and RFC 4515 filters (plus the API's `attr:op:value`
//!   syntax) — every value entering a DN or filter goes through these types.
//! - [`page`]: page requests and pages.
//! - [`directory`]: the [`directory::Directory`] trait and its two backends,
//!   [`directory::LdapDirectory`] (a real server through `ldap3`) and
//!   [`directory::EmbeddedDirectory`] (in-process, schema-aware, durable).
//! - [`schema`]: LDAP schema loading, matching rules and entry checks as slapd applies them.
//! - [`ldif`]: RFC 2849 reading and writing.
//! - [`password`]: the password schemes slapd verifies on bind, and the password policy.
//! - [`service`]: the operations with their business rules, over a directory.
//! - [`sshkey`]: OpenSSH public keys: parsing, checks and fingerprints as `ssh-keygen` has them.
//! - [`audit`]: the audit trail — an event for every change and every login, written before
//!   the change (no event, no change), listed newest first, kept for a configurable time.
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

pub mod acl;
pub mod audit;
pub mod directory;
pub mod dn;
pub mod error;
pub mod filter;
pub mod ldif;
pub mod page;
pub mod password;
pub mod schema;
pub mod service;
pub mod sshkey;

pub use error::{Error, ErrorCode, Result};
