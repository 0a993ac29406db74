//! Integration tests of heracles-core against a real slapd started by `ldap/test-slapd.sh`.
//!
//! One test binary (link time adds up). The README's test command starts a shared slapd and
//! points `HERACLES_TEST_SLAPD_ENV` at its env file; tests that stop or restart a server
//! start their own instance through the same script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

mod fixture;
mod ldap_errors;
mod ldap_faults;
mod ldap_ops;
mod ldap_transport;
