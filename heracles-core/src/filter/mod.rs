//! TEMPORARY STUB — replaced by the full RFC 4515 implementation. Signatures are the contract.
#![allow(missing_docs)]
use std::fmt;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Equality(String, Vec<u8>),
    Present(String),
}

impl Filter {
    pub fn eq(attr: &str, value: impl AsRef<[u8]>) -> Filter {
        Filter::Equality(attr.to_owned(), value.as_ref().to_vec())
    }
    pub fn present(attr: &str) -> Filter {
        Filter::Present(attr.to_owned())
    }
    pub fn parse(_s: &str) -> Result<Filter> {
        Ok(Filter::present("objectClass"))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(a) => write!(f, "({a}=*)"),
            Filter::Equality(a, v) => write!(f, "({a}={})", String::from_utf8_lossy(v)),
            Filter::And(v) => {
                f.write_str("(&")?;
                for x in v {
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
            Filter::Or(v) => {
                f.write_str("(|")?;
                for x in v {
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
            Filter::Not(x) => write!(f, "(!{x})"),
        }
    }
}
