//! The embedded directory's view of the schema: attribute names, matching rules, syntax and
//! object-class checks, answered from [`Schema`] with slapd's result codes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::directory::Entry;
use crate::schema::{MatchingRule, Schema};

/// Schema answers for the embedded directory.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    schema: Arc<Schema>,
    /// Whether each attribute type is operational, by the schema's name for it: the name
    /// entries store it under, answered without the schema's case-insensitive lookup.
    operational: HashMap<String, bool>,
}

/// Splits `cn;lang-en` into `("cn", ";lang-en")`.
fn split_options(name: &str) -> (&str, &str) {
    match name.find(';') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    }
}

impl Rules {
    pub(super) fn new(schema: Arc<Schema>) -> Self {
        let operational = schema
            .attribute_types()
            .map(|at| (at.name().to_owned(), at.is_operational()))
            .collect();
        Rules {
            schema,
            operational,
        }
    }

    pub(super) fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Lower-case canonical name (with options), used to compare attribute names: aliases
    /// such as `commonName` and `cn` give the same answer.
    pub(super) fn canonical(&self, name: &str) -> String {
        let (base, opts) = split_options(name);
        let canon = self.schema.canonical_name(base).unwrap_or(base);
        let mut out = String::with_capacity(canon.len() + opts.len());
        out.push_str(&canon.to_ascii_lowercase());
        out.push_str(&opts.to_ascii_lowercase());
        out
    }

    /// The schema's name for the attribute (as slapd returns it), with the options as given;
    /// `None` if the schema does not know it.
    pub(super) fn display_name(&self, name: &str) -> Option<String> {
        let (base, opts) = split_options(name);
        let at = self.schema.attribute(base)?;
        Some(format!("{}{opts}", at.name()))
    }

    pub(super) fn is_known(&self, name: &str) -> bool {
        self.schema.attribute(split_options(name).0).is_some()
    }

    pub(super) fn is_operational(&self, name: &str) -> bool {
        let base = split_options(name).0;
        if let Some(&op) = self.operational.get(base) {
            return op;
        }
        self.schema
            .attribute(base)
            .is_some_and(crate::schema::AttributeType::is_operational)
    }

    pub(super) fn is_no_user_modification(&self, name: &str) -> bool {
        self.schema
            .attribute(split_options(name).0)
            .is_some_and(crate::schema::AttributeType::is_no_user_modification)
    }

    pub(super) fn equality(&self, name: &str) -> Option<MatchingRule> {
        self.schema.effective_equality(split_options(name).0)
    }

    pub(super) fn ordering(&self, name: &str) -> Option<MatchingRule> {
        self.schema.effective_ordering(split_options(name).0)
    }

    pub(super) fn substr(&self, name: &str) -> Option<MatchingRule> {
        self.schema.effective_substr(split_options(name).0)
    }

    /// The value's normal form under the attribute's equality rule (the raw bytes when
    /// there is none or the value does not fit it): the key of indexes and duplicate checks.
    pub(super) fn eq_key(&self, name: &str, value: &[u8]) -> Vec<u8> {
        self.schema
            .normalize_value(split_options(name).0, value)
            .unwrap_or_else(|_| value.to_vec())
    }

    /// The value's normal form under the attribute's equality rule, with the schema's
    /// knowledge (object class names become OIDs, DNs are normalised by the schema); an
    /// error when the value does not fit the rule.
    pub(super) fn normalize(&self, name: &str, value: &[u8]) -> crate::Result<Vec<u8>> {
        self.schema.normalize_value(split_options(name).0, value)
    }

    pub(super) fn valid_syntax(&self, name: &str, value: &[u8]) -> bool {
        self.schema.validate_value(split_options(name).0, value)
    }

    /// The most specific structural object class of the entry, if it has exactly one chain.
    pub(super) fn structural_class(&self, e: &Entry) -> Option<String> {
        let classes = e.strs("objectClass");
        let structural: Vec<&str> = classes
            .iter()
            .copied()
            .filter(|c| {
                self.schema
                    .object_class(c)
                    .is_some_and(|oc| oc.kind() == crate::schema::ObjectClassKind::Structural)
            })
            .collect();
        // The one that is not a superclass of another structural class.
        structural
            .iter()
            .find(|c| {
                !structural
                    .iter()
                    .any(|o| !o.eq_ignore_ascii_case(c) && self.schema.is_subclass_of(o, c))
            })
            .and_then(|c| self.schema.object_class(c))
            .map(|oc| oc.name().to_owned())
    }

    /// The object-class rules slapd applies to an entry, with slapd's result code and text.
    pub(super) fn check_entry(&self, e: &Entry) -> Result<(), (u32, String)> {
        let classes = e.strs("objectClass");
        let mut known = Vec::with_capacity(classes.len());
        for (i, c) in classes.iter().enumerate() {
            match self.schema.object_class(c) {
                Some(oc) => known.push(oc),
                None => return Err((21, format!("objectClass: value #{i} invalid per syntax"))),
            }
        }
        let structural: Vec<_> = known
            .iter()
            .filter(|oc| oc.kind() == crate::schema::ObjectClassKind::Structural)
            .collect();
        if structural.is_empty() {
            return Err((65, "no structural object class provided".to_owned()));
        }
        // Every structural class must lie on one superclass chain.
        let Some(leaf) = self.structural_class(e) else {
            return Err((65, "invalid structural object class chain".to_owned()));
        };
        for s in &structural {
            if !s.name().eq_ignore_ascii_case(&leaf) && !self.schema.is_subclass_of(&leaf, s.name())
            {
                return Err((
                    65,
                    format!(
                        "invalid structural object class chain ({leaf}/{})",
                        s.name()
                    ),
                ));
            }
        }
        // The classes and all their superclasses.
        let mut all: Vec<&crate::schema::ObjectClass> = Vec::new();
        for oc in &known {
            for sup in std::iter::once(*oc).chain(self.schema.superclasses(oc.name())) {
                if !all.iter().any(|x| x.oid() == sup.oid()) {
                    all.push(sup);
                }
            }
        }
        let extensible = all.iter().any(|oc| oc.has_name("extensibleObject"));
        for oc in &all {
            for must in self.schema.must(oc.name()) {
                let present = e.attrs.iter().any(|a| {
                    self.canonical(a.name()).split(';').next()
                        == Some(&must.name().to_ascii_lowercase())
                });
                if !present {
                    return Err((
                        65,
                        format!(
                            "object class '{}' requires attribute '{}'",
                            oc.name(),
                            must.name()
                        ),
                    ));
                }
            }
        }
        for a in e.attrs.iter() {
            let (base, _) = split_options(a.name());
            let Some(at) = self.schema.attribute(base) else {
                return Err((17, format!("{}: attribute type undefined", a.name())));
            };
            if at.is_single_value() && a.values().len() > 1 {
                return Err((
                    19,
                    format!("attribute '{}' cannot have multiple values", at.name()),
                ));
            }
            if at.is_operational() || extensible {
                continue;
            }
            let allowed = all.iter().any(|oc| {
                self.schema
                    .must(oc.name())
                    .iter()
                    .chain(self.schema.may(oc.name()).iter())
                    .any(|x| x.oid() == at.oid() || self.schema.is_subtype_of(at.name(), x.name()))
            });
            if !allowed {
                return Err((65, format!("attribute '{}' not allowed", at.name())));
            }
        }
        Ok(())
    }
}
