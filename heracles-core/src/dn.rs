//! TEMPORARY STUB — replaced by the full RFC 4514 implementation. Signatures are the contract.
#![allow(missing_docs, clippy::missing_panics_doc)]
use std::fmt;

use crate::error::{Error, ErrorCode, Result};

#[derive(Debug, Clone)]
pub struct Rdn {
    avas: Vec<(String, String)>,
}

impl Rdn {
    pub fn new(attr: &str, value: &str) -> Result<Rdn> {
        Ok(Rdn {
            avas: vec![(attr.to_owned(), value.to_owned())],
        })
    }
    pub fn parse(s: &str) -> Result<Rdn> {
        let (a, v) = s
            .split_once('=')
            .ok_or_else(|| Error::new(ErrorCode::InvalidDn, "bad rdn"))?;
        Rdn::new(a, v)
    }
    pub fn attr(&self) -> &str {
        &self.avas[0].0
    }
    pub fn value(&self) -> &str {
        &self.avas[0].1
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}",
            self.avas[0].0,
            self.avas[0].1.replace(',', "\\,")
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct Dn {
    rdns: Vec<Rdn>,
}

impl Dn {
    pub fn root() -> Dn {
        Dn::default()
    }
    pub fn parse(s: &str) -> Result<Dn> {
        if s.is_empty() {
            return Ok(Dn::root());
        }
        Ok(Dn {
            rdns: s.split(',').map(Rdn::parse).collect::<Result<_>>()?,
        })
    }
    pub fn rdn(&self) -> Option<&Rdn> {
        self.rdns.first()
    }
    pub fn parent(&self) -> Option<Dn> {
        (!self.rdns.is_empty()).then(|| Dn {
            rdns: self.rdns[1..].to_vec(),
        })
    }
    #[must_use]
    pub fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = vec![rdn];
        rdns.extend(self.rdns.iter().cloned());
        Dn { rdns }
    }
    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }
    pub fn is_descendant_of(&self, other: &Dn) -> bool {
        self.to_string()
            .to_lowercase()
            .ends_with(&format!(",{}", other.to_string().to_lowercase()))
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.rdns.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl PartialEq for Dn {
    fn eq(&self, o: &Dn) -> bool {
        self.to_string().eq_ignore_ascii_case(&o.to_string())
    }
}
impl Eq for Dn {}
