//! LDAP schema: attribute types, object classes and matching rules, loaded from the same
//! schema files slapd reads, and used the way slapd 2.5 uses them.
//!
//! The embedded directory relies on this module to behave like slapd: which attributes an
//! entry may and must have ([`Schema::check_add`], [`Schema::check_entry`]), which values
//! are valid ([`Schema::validate_value`]), when two values are equal
//! ([`Schema::normalize_value`]), how they order ([`Schema::compare_values`]) and match
//! substrings ([`Schema::prepare_substrings`]) — and which of these an attribute cannot do
//! at all ([`Schema::has_ordering`], [`Schema::has_substr`]).
//!
//! * [`parse`] reads definitions (RFC 4512 §4.1, OpenLDAP OID macros);
//! * [`Schema::load_ldif`] reads cn=config LDIF and slapd.conf-style `.schema` files;
//! * [`Schema::builtin`] is everything a Heracles directory loads: slapd's hard-coded
//!   schema, core, cosine, inetorgperson, nis, misc, the schema of the memberof and ppolicy
//!   overlays, and the project's sudo, openssh-lpk, dnszone, dhcp and heracles schemas;
//! * [`matching`] implements the matching rules, [`syntax`] the syntaxes, [`check`] the
//!   entry checks with slapd's result codes.
//!
//! ```
//! use heracles_core::schema::{Schema, MatchingRule, SubstringFilter};
//!
//! let schema = Schema::builtin();
//! // cn inherits its rules from name; uid has no ORDERING rule (pitfall 6)
//! assert_eq!(schema.canonical_name("commonName"), Some("cn"));
//! assert_eq!(schema.effective_equality("cn"), Some(MatchingRule::CaseIgnoreMatch));
//! assert!(!schema.has_ordering("uid"));
//! // loginShell has no SUBSTR rule: (loginShell=*zsh*) matches nothing (pitfall 5)
//! assert!(!schema.has_substr("loginShell"));
//! // values are compared the slapd way
//! assert!(schema.values_equal("cn", b"John  SMITH", b"john smith") == Some(true));
//! assert!(schema.values_equal("member", b"CN=X,DC=Example", b"commonName=x,dc=example") == Some(true));
//! assert!(!schema.validate_value("uidNumber", b"abc"));
//! // an inetOrgPerson without sn is refused with objectClassViolation (65)
//! let entry: [(&str, &[&[u8]]); 3] = [
//!     ("objectClass", &[b"inetOrgPerson"]),
//!     ("uid", &[b"jdoe"]),
//!     ("cn", &[b"John Doe"]),
//! ];
//! let err = schema.check_add(&[("uid", b"jdoe")], entry, Default::default()).unwrap_err();
//! assert_eq!(err.result_code(), 65);
//! assert_eq!(err.message(), "object class 'inetOrgPerson' requires attribute 'sn'");
//! ```

pub mod check;
mod dnsyntax;
mod ldif;
pub mod matching;
pub mod parse;
pub mod syntax;
mod types;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

pub use check::{AddOptions, CheckMode, EntryCheck, SchemaViolation, ViolationKind};
pub use matching::{MatchingRule, PreparedSubstrings, RuleKind, SubstringFilter};
pub use parse::{parse_attribute_type, parse_object_class, OidMacros, ParseError};
pub use syntax::validate_syntax;
pub use types::{AttributeType, AttributeUsage, Extension, ObjectClass, ObjectClassKind};

use crate::error::{Error, ErrorCode, Result};
use ldif::{Statement, StatementKind};

/// OID of `objectClass`.
pub(crate) const OBJECT_CLASS_OID: &str = "2.5.4.0";
/// OID of `structuralObjectClass`.
const STRUCTURAL_OBJECT_CLASS_OID: &str = "2.5.21.9";
/// OID of ppolicy's `pwdAttribute`, whose OID-syntax values name attribute types.
const PWD_ATTRIBUTE_OID: &str = "1.3.6.1.4.1.42.2.27.8.1.1";
/// OID of `extensibleObject`.
pub(crate) const EXTENSIBLE_OBJECT_OID: &str = "1.3.6.1.4.1.1466.101.120.111";

/// The schema files embedded in [`Schema::builtin`], in load order: (label, contents).
///
/// `embedded/*` are Heracles' own equivalents of slapd's built-in schema and of Debian's
/// core, cosine, inetorgperson, nis and misc files (written from the RFCs); the others are
/// the project's schema files that the test slapd loads too.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "embedded/system.ldif",
        include_str!("../../../ldap/schema/embedded/system.ldif"),
    ),
    (
        "embedded/core.ldif",
        include_str!("../../../ldap/schema/embedded/core.ldif"),
    ),
    (
        "embedded/cosine.ldif",
        include_str!("../../../ldap/schema/embedded/cosine.ldif"),
    ),
    (
        "embedded/inetorgperson.ldif",
        include_str!("../../../ldap/schema/embedded/inetorgperson.ldif"),
    ),
    (
        "embedded/nis.ldif",
        include_str!("../../../ldap/schema/embedded/nis.ldif"),
    ),
    (
        "embedded/misc.ldif",
        include_str!("../../../ldap/schema/embedded/misc.ldif"),
    ),
    (
        "embedded/overlays.ldif",
        include_str!("../../../ldap/schema/embedded/overlays.ldif"),
    ),
    ("sudo.ldif", include_str!("../../../ldap/schema/sudo.ldif")),
    (
        "openssh-lpk.ldif",
        include_str!("../../../ldap/schema/openssh-lpk.ldif"),
    ),
    (
        "dnszone.ldif",
        include_str!("../../../ldap/schema/dnszone.ldif"),
    ),
    ("dhcp.ldif", include_str!("../../../ldap/schema/dhcp.ldif")),
    (
        "heracles.ldif",
        include_str!("../../../ldap/schema/heracles.ldif"),
    ),
];

#[derive(Debug, Clone)]
struct AttrEntry {
    def: AttributeType,
    source: String,
    line: usize,
    sup: Option<usize>,
    equality: Option<MatchingRule>,
    ordering: Option<MatchingRule>,
    substr: Option<MatchingRule>,
    syntax: String,
    syntax_len: Option<u32>,
}

#[derive(Debug, Clone)]
struct ClassEntry {
    def: ObjectClass,
    source: String,
    line: usize,
    /// Direct superclasses.
    sup: Vec<usize>,
    /// All superclasses, transitively, nearest first, without the class itself.
    ancestors: Vec<usize>,
    /// Required attributes of the class and its superclasses, own first, no duplicates.
    must: Vec<usize>,
    /// Allowed attributes of the class and its superclasses (not those in `must`).
    may: Vec<usize>,
}

/// A set of attribute types and object classes with everything derived from them: the
/// matching rules and syntax each attribute effectively uses (its own or its superior's),
/// the superclasses of each class, and the `MUST`/`MAY` closure over them. Lookups are by
/// any name (case-insensitive) or by OID.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    attrs: Vec<AttrEntry>,
    attr_index: HashMap<String, usize>,
    classes: Vec<ClassEntry>,
    class_index: HashMap<String, usize>,
    macros: OidMacros,
}

fn config_error(source: &str, line: usize, reason: impl Into<String>) -> Error {
    let reason = reason.into();
    Error::new(
        ErrorCode::InvalidConfig,
        format!("schema {source}, line {line}: {reason}"),
    )
    .with_detail("source", source)
    .with_detail("line", line)
    .with_detail("reason", reason)
}

impl Schema {
    /// An empty schema: no attribute type, no object class.
    pub fn new() -> Self {
        Schema::default()
    }

    /// The schema of a Heracles directory: every file of [`BUILTIN_FILES`], in order.
    /// Built once per process and cloned.
    ///
    /// The embedded files are part of the source and a unit test loads them, so this
    /// cannot fail in a released build; should it ever fail anyway, it returns the schema
    /// of the files that did load (each file loads completely or not at all), and
    /// [`Schema::try_builtin`] tells why.
    pub fn builtin() -> Schema {
        Schema::builtin_cached().0.clone()
    }

    /// Like [`Schema::builtin`], but reports a failure to load an embedded file.
    pub fn try_builtin() -> Result<Schema> {
        match Schema::builtin_cached() {
            (_, Some(err)) => Err(err.clone()),
            (schema, None) => Ok(schema.clone()),
        }
    }

    fn builtin_cached() -> &'static (Schema, Option<Error>) {
        static BUILT: OnceLock<(Schema, Option<Error>)> = OnceLock::new();
        BUILT.get_or_init(|| {
            let mut schema = Schema::new();
            let mut first_error = None;
            for (label, text) in BUILTIN_FILES {
                if let Err(e) = schema.load_ldif(label, text) {
                    first_error.get_or_insert(e);
                }
            }
            (schema, first_error)
        })
    }

    /// Loads the definitions of one schema file: cn=config LDIF (`olcAttributeTypes:`,
    /// `olcObjectClasses:`, `olcObjectIdentifier:` values, folded lines, `{N}` prefixes,
    /// comments; other attributes ignored) or, recognised by its first directive, a
    /// slapd.conf-style `.schema` file (`attributetype ( ... )`, `objectclass`,
    /// `objectidentifier`).
    ///
    /// `source` names the file in errors. A definition may refer to definitions of this
    /// file (in any order) and of files loaded before. The file loads completely or not
    /// at all: on error (`INVALID_CONFIG` with `source`, `line` and `reason` details — a
    /// syntax error, a duplicate name or OID, an unknown superior, attribute or matching
    /// rule, a cycle, an attribute type without syntax) the schema is unchanged.
    pub fn load_ldif(&mut self, source: &str, text: &str) -> Result<()> {
        let statements = if ldif::looks_like_schema_conf(text) {
            ldif::read_schema_conf(text)
        } else {
            ldif::read_ldif(text)
        }
        .map_err(|e| config_error(source, e.line, e.reason))?;
        let mut next = self.clone();
        next.add_statements(source, &statements)?;
        next.resolve()?;
        *self = next;
        Ok(())
    }

    fn add_statements(&mut self, source: &str, statements: &[Statement]) -> Result<()> {
        for st in statements {
            match st.kind {
                StatementKind::ObjectIdentifier => self
                    .macros
                    .define(&st.text)
                    .map_err(|e| e.into_error(source, st.line))?,
                StatementKind::AttributeType => {
                    let def = parse::parse_attribute_type_with(&st.text, &self.macros)
                        .map_err(|e| e.into_error(source, st.line))?;
                    self.insert_attr(def, source, st.line)?;
                }
                StatementKind::ObjectClass => {
                    let def = parse::parse_object_class_with(&st.text, &self.macros)
                        .map_err(|e| e.into_error(source, st.line))?;
                    self.insert_class(def, source, st.line)?;
                }
            }
        }
        Ok(())
    }

    fn insert_attr(&mut self, def: AttributeType, source: &str, line: usize) -> Result<()> {
        let keys = index_keys(&def.oid, &def.names);
        if let Some(k) = keys.iter().find(|k| self.attr_index.contains_key(*k)) {
            return Err(config_error(
                source,
                line,
                format!("duplicate attribute type '{k}'"),
            ));
        }
        let idx = self.attrs.len();
        for k in keys {
            self.attr_index.insert(k, idx);
        }
        self.attrs.push(AttrEntry {
            def,
            source: source.to_owned(),
            line,
            sup: None,
            equality: None,
            ordering: None,
            substr: None,
            syntax: String::new(),
            syntax_len: None,
        });
        Ok(())
    }

    fn insert_class(&mut self, def: ObjectClass, source: &str, line: usize) -> Result<()> {
        let keys = index_keys(&def.oid, &def.names);
        if let Some(k) = keys.iter().find(|k| self.class_index.contains_key(*k)) {
            return Err(config_error(
                source,
                line,
                format!("duplicate object class '{k}'"),
            ));
        }
        let idx = self.classes.len();
        for k in keys {
            self.class_index.insert(k, idx);
        }
        self.classes.push(ClassEntry {
            def,
            source: source.to_owned(),
            line,
            sup: Vec::new(),
            ancestors: Vec::new(),
            must: Vec::new(),
            may: Vec::new(),
        });
        Ok(())
    }

    /// Recomputes everything derived: attribute superiors and effective rules, class
    /// superclasses and MUST/MAY closures.
    fn resolve(&mut self) -> Result<()> {
        self.resolve_attrs()?;
        self.resolve_classes()
    }

    fn resolve_attrs(&mut self) -> Result<()> {
        // superiors
        for i in 0..self.attrs.len() {
            let e = &self.attrs[i];
            let sup = match &e.def.sup {
                Some(name) => Some(
                    self.attr_index
                        .get(&name.to_ascii_lowercase())
                        .copied()
                        .ok_or_else(|| {
                            config_error(
                                &e.source,
                                e.line,
                                format!(
                                    "attribute type '{}': unknown superior '{name}'",
                                    e.def.name()
                                ),
                            )
                        })?,
                ),
                None => None,
            };
            self.attrs[i].sup = sup;
        }
        // effective rules, in an order where every superior comes first
        let n = self.attrs.len();
        let mut done = vec![false; n];
        for start in 0..n {
            let mut chain = Vec::new();
            let mut cur = Some(start);
            while let Some(i) = cur {
                if done[i] {
                    break;
                }
                if chain.contains(&i) {
                    let e = &self.attrs[start];
                    return Err(config_error(
                        &e.source,
                        e.line,
                        format!("attribute type '{}': cycle of superiors", e.def.name()),
                    ));
                }
                chain.push(i);
                cur = self.attrs[i].sup;
            }
            for &i in chain.iter().rev() {
                self.resolve_attr(i)?;
                done[i] = true;
            }
        }
        Ok(())
    }

    fn resolve_attr(&mut self, i: usize) -> Result<()> {
        let e = &self.attrs[i];
        let sup = e.sup.map(|s| &self.attrs[s]);
        let rule =
            |name: &Option<String>, kind: RuleKind, inherited: Option<MatchingRule>| match name {
                Some(n) => match MatchingRule::from_name(n) {
                    Some(r) if r.kind() == kind => Ok(Some(r)),
                    Some(r) => Err(config_error(
                        &e.source,
                        e.line,
                        format!(
                            "attribute type '{}': {} is not a {kind:?} matching rule",
                            e.def.name(),
                            r.name()
                        ),
                    )),
                    None => Err(config_error(
                        &e.source,
                        e.line,
                        format!(
                            "attribute type '{}': unknown matching rule '{n}'",
                            e.def.name()
                        ),
                    )),
                },
                None => Ok(inherited),
            };
        let equality = rule(
            &e.def.equality,
            RuleKind::Equality,
            sup.and_then(|s| s.equality),
        )?;
        let ordering = rule(
            &e.def.ordering,
            RuleKind::Ordering,
            sup.and_then(|s| s.ordering),
        )?;
        let substr = rule(
            &e.def.substr,
            RuleKind::Substrings,
            sup.and_then(|s| s.substr),
        )?;
        let (syntax, syntax_len) = match (&e.def.syntax, sup) {
            (Some(s), _) => (s.clone(), e.def.syntax_len),
            (None, Some(s)) => (s.syntax.clone(), s.syntax_len),
            (None, None) => {
                return Err(config_error(
                    &e.source,
                    e.line,
                    format!(
                        "attribute type '{}' has neither SYNTAX nor SUP",
                        e.def.name()
                    ),
                ))
            }
        };
        let e = &mut self.attrs[i];
        e.equality = equality;
        e.ordering = ordering;
        e.substr = substr;
        e.syntax = syntax;
        e.syntax_len = syntax_len;
        Ok(())
    }

    fn resolve_classes(&mut self) -> Result<()> {
        let n = self.classes.len();
        for i in 0..n {
            let e = &self.classes[i];
            let mut sup = Vec::new();
            for name in &e.def.sup {
                let s = self
                    .class_index
                    .get(&name.to_ascii_lowercase())
                    .copied()
                    .ok_or_else(|| {
                        config_error(
                            &e.source,
                            e.line,
                            format!(
                                "object class '{}': unknown superclass '{name}'",
                                e.def.name()
                            ),
                        )
                    })?;
                sup.push(s);
            }
            self.classes[i].sup = sup;
        }
        for i in 0..n {
            // ancestors, breadth first, detecting cycles
            let mut ancestors: Vec<usize> = Vec::new();
            let mut queue: Vec<usize> = self.classes[i].sup.clone();
            let mut qi = 0;
            while qi < queue.len() {
                let c = queue[qi];
                qi += 1;
                if c == i {
                    let e = &self.classes[i];
                    return Err(config_error(
                        &e.source,
                        e.line,
                        format!("object class '{}': cycle of superclasses", e.def.name()),
                    ));
                }
                if !ancestors.contains(&c) {
                    ancestors.push(c);
                    queue.extend(self.classes[c].sup.iter().copied());
                }
            }
            let mut must = Vec::new();
            let mut may = Vec::new();
            for c in std::iter::once(i).chain(ancestors.iter().copied()) {
                let e = &self.classes[c];
                for (names, out) in [(&e.def.must, &mut must), (&e.def.may, &mut may)] {
                    for name in names {
                        let a = self
                            .attr_index
                            .get(&name.to_ascii_lowercase())
                            .copied()
                            .ok_or_else(|| {
                                let me = &self.classes[i];
                                config_error(
                                    &me.source,
                                    me.line,
                                    format!(
                                        "object class '{}': unknown attribute type '{name}'{}",
                                        me.def.name(),
                                        if c == i {
                                            String::new()
                                        } else {
                                            format!(" (in superclass '{}')", e.def.name())
                                        }
                                    ),
                                )
                            })?;
                        if !out.contains(&a) {
                            out.push(a);
                        }
                    }
                }
            }
            may.retain(|a| !must.contains(a));
            let e = &mut self.classes[i];
            e.ancestors = ancestors;
            e.must = must;
            e.may = may;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ lookups

    fn attr_idx(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.attr_index.get(name) {
            return Some(i);
        }
        self.attr_index.get(&name.to_ascii_lowercase()).copied()
    }

    fn class_idx(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.class_index.get(name) {
            return Some(i);
        }
        self.class_index.get(&name.to_ascii_lowercase()).copied()
    }

    /// The attribute type with this name (any of its names, case-insensitively) or OID.
    /// Attribute options (`cn;lang-en`) are not accepted here; see
    /// [`Schema::attribute_description`].
    pub fn attribute(&self, name: &str) -> Option<&AttributeType> {
        self.attr_idx(name).map(|i| &self.attrs[i].def)
    }

    /// The object class with this name (case-insensitively) or OID.
    pub fn object_class(&self, name: &str) -> Option<&ObjectClass> {
        self.class_idx(name).map(|i| &self.classes[i].def)
    }

    /// The canonical name (first `NAME`) of an attribute given by any name or OID:
    /// `commonName` → `cn`, `2.5.4.4` → `sn`.
    pub fn canonical_name(&self, attr: &str) -> Option<&str> {
        self.attribute(attr).map(AttributeType::name)
    }

    /// The file (label given to [`Schema::load_ldif`]) and line an attribute type was
    /// defined on.
    pub fn attribute_origin(&self, attr: &str) -> Option<(&str, usize)> {
        self.attr_idx(attr)
            .map(|i| (self.attrs[i].source.as_str(), self.attrs[i].line))
    }

    /// The file and line an object class was defined on.
    pub fn object_class_origin(&self, class: &str) -> Option<(&str, usize)> {
        self.class_idx(class)
            .map(|i| (self.classes[i].source.as_str(), self.classes[i].line))
    }

    /// Every attribute type, in load order.
    pub fn attribute_types(&self) -> impl Iterator<Item = &AttributeType> {
        self.attrs.iter().map(|e| &e.def)
    }

    /// Every object class, in load order.
    pub fn object_classes(&self) -> impl Iterator<Item = &ObjectClass> {
        self.classes.iter().map(|e| &e.def)
    }

    /// The OID macros defined so far (`olcObjectIdentifier`).
    pub fn oid_macros(&self) -> &OidMacros {
        &self.macros
    }

    /// The equality rule `attr` uses: its own `EQUALITY` or its superior's. `None` for an
    /// unknown attribute or one without equality rule (equality filters never match it).
    pub fn effective_equality(&self, attr: &str) -> Option<MatchingRule> {
        self.attr_idx(attr).and_then(|i| self.attrs[i].equality)
    }

    /// The ordering rule `attr` uses (own or inherited); `None` means `>=`/`<=` never
    /// match and server-side sorting needs an explicit rule.
    pub fn effective_ordering(&self, attr: &str) -> Option<MatchingRule> {
        self.attr_idx(attr).and_then(|i| self.attrs[i].ordering)
    }

    /// The substrings rule `attr` uses (own or inherited); `None` means substring filters
    /// never match.
    pub fn effective_substr(&self, attr: &str) -> Option<MatchingRule> {
        self.attr_idx(attr).and_then(|i| self.attrs[i].substr)
    }

    /// The syntax OID `attr` uses (own or inherited), without length bound.
    pub fn effective_syntax(&self, attr: &str) -> Option<&str> {
        self.attr_idx(attr).map(|i| self.attrs[i].syntax.as_str())
    }

    /// The length bound of the syntax `attr` uses (own or inherited), if any.
    pub fn effective_syntax_len(&self, attr: &str) -> Option<u32> {
        self.attr_idx(attr).and_then(|i| self.attrs[i].syntax_len)
    }

    /// `attr` has a substrings rule: substring filters can match it.
    pub fn has_substr(&self, attr: &str) -> bool {
        self.effective_substr(attr).is_some()
    }

    /// `attr` has an ordering rule: `>=`/`<=` filters can match it.
    pub fn has_ordering(&self, attr: &str) -> bool {
        self.effective_ordering(attr).is_some()
    }

    /// `attr` has an equality rule: equality filters can match it.
    pub fn has_equality(&self, attr: &str) -> bool {
        self.effective_equality(attr).is_some()
    }

    /// The superior types of `attr`, nearest first (`cn` → `[name]`).
    pub fn superior_types(&self, attr: &str) -> Vec<&AttributeType> {
        let mut out = Vec::new();
        let mut cur = self.attr_idx(attr).and_then(|i| self.attrs[i].sup);
        while let Some(i) = cur {
            if out.len() > self.attrs.len() {
                break;
            }
            out.push(&self.attrs[i].def);
            cur = self.attrs[i].sup;
        }
        out
    }

    /// `attr` is `of` or one of its subtypes (`cn` is a subtype of `name`): a filter on
    /// `of` also matches values of `attr`, as in slapd.
    pub fn is_subtype_of(&self, attr: &str, of: &str) -> bool {
        match (self.attr_idx(attr), self.attr_idx(of)) {
            (Some(a), Some(o)) => {
                a == o
                    || self
                        .superior_types(attr)
                        .iter()
                        .any(|t| t.oid == self.attrs[o].def.oid)
            }
            _ => false,
        }
    }

    /// The types that are `attr` or one of its subtypes, `attr` first.
    pub fn subtypes(&self, attr: &str) -> Vec<&AttributeType> {
        let Some(o) = self.attr_idx(attr) else {
            return Vec::new();
        };
        let mut out = vec![&self.attrs[o].def];
        for e in &self.attrs {
            if e.def.oid != self.attrs[o].def.oid && self.is_subtype_of(&e.def.oid, attr) {
                out.push(&e.def);
            }
        }
        out
    }

    /// All superclasses of `class`, transitively, nearest first (`inetOrgPerson` →
    /// `organizationalPerson`, `person`, `top`).
    pub fn superclasses(&self, class: &str) -> Vec<&ObjectClass> {
        self.class_idx(class)
            .map(|i| {
                self.classes[i]
                    .ancestors
                    .iter()
                    .map(|&c| &self.classes[c].def)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `class` is `of` or inherits from it.
    pub fn is_subclass_of(&self, class: &str, of: &str) -> bool {
        match (self.class_idx(class), self.class_idx(of)) {
            (Some(c), Some(o)) => c == o || self.classes[c].ancestors.contains(&o),
            _ => false,
        }
    }

    /// The attributes `class` requires, its superclasses' included (own first).
    pub fn must(&self, class: &str) -> Vec<&AttributeType> {
        self.class_idx(class)
            .map(|i| {
                self.classes[i]
                    .must
                    .iter()
                    .map(|&a| &self.attrs[a].def)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The attributes `class` allows but does not require, its superclasses' included.
    pub fn may(&self, class: &str) -> Vec<&AttributeType> {
        self.class_idx(class)
            .map(|i| {
                self.classes[i]
                    .may
                    .iter()
                    .map(|&a| &self.attrs[a].def)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Number of attribute types.
    pub fn attribute_type_count(&self) -> usize {
        self.attrs.len()
    }

    /// Number of object classes.
    pub fn object_class_count(&self) -> usize {
        self.classes.len()
    }

    // ------------------------------------------------------------------ values

    /// `true` if `value` is valid for the syntax of `attr` — what slapd checks before it
    /// accepts a value (invalidAttributeSyntax, 21, otherwise). Beyond
    /// [`validate_syntax`]: DN values must name defined attribute types and carry valid
    /// values for them; `objectClass` (and `structuralObjectClass`) values must name
    /// defined object classes; ppolicy's `pwdAttribute` values must name attribute types.
    /// `false` for an unknown attribute.
    pub fn validate_value(&self, attr: &str, value: &[u8]) -> bool {
        let Some(i) = self.attr_idx(attr) else {
            return false;
        };
        self.validate_idx(i, value, 0)
    }

    fn validate_idx(&self, i: usize, value: &[u8], depth: usize) -> bool {
        let e = &self.attrs[i];
        match e.def.oid.as_str() {
            OBJECT_CLASS_OID | STRUCTURAL_OBJECT_CLASS_OID => {
                return std::str::from_utf8(value).is_ok_and(|s| self.class_idx(s).is_some())
            }
            PWD_ATTRIBUTE_OID => {
                return std::str::from_utf8(value).is_ok_and(|s| self.attr_idx(s).is_some())
            }
            _ => {}
        }
        match e.syntax.as_str() {
            syntax::oids::DN => {
                std::str::from_utf8(value).is_ok_and(|s| self.validate_dn(s, depth))
            }
            syntax::oids::NAME_AND_OPTIONAL_UID => std::str::from_utf8(value).is_ok_and(|s| {
                let (dn, _) = syntax::split_unique_member(s);
                self.validate_dn(dn, depth)
            }),
            other => validate_syntax(other, value),
        }
    }

    fn validate_dn(&self, dn: &str, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        let Some(rdns) = dnsyntax::split_dn(dn) else {
            return false;
        };
        rdns.iter().flatten().all(|ava| {
            self.attr_idx(&ava.attr)
                .is_some_and(|i| self.validate_idx(i, &ava.value, depth + 1))
        })
    }

    /// The normal form of `value` under the equality rule of `attr` (see
    /// [`MatchingRule::normalize`]), schema-aware: DNs get canonical attribute names and
    /// per-attribute value normalisation (`CN=X,DC=Example` = `commonName=x,dc=example`),
    /// object identifiers given by name become their OID (`inetOrgPerson` =
    /// `2.16.840.1.113730.3.2.2`). Errors: `INAPPROPRIATE_MATCHING` if `attr` is unknown
    /// or has no equality rule, `VALIDATION_FAILED` if the value is invalid for the rule.
    pub fn normalize_value(&self, attr: &str, value: &[u8]) -> Result<Vec<u8>> {
        let rule = self
            .effective_equality(attr)
            .ok_or_else(|| no_rule(attr, "equality"))?;
        self.normalize_with(rule, value)
    }

    /// The normal form of `value` under `rule`, schema-aware for `distinguishedNameMatch`,
    /// `uniqueMemberMatch` and `objectIdentifierMatch` (see [`Schema::normalize_value`]).
    pub fn normalize_with(&self, rule: MatchingRule, value: &[u8]) -> Result<Vec<u8>> {
        let invalid = || {
            Error::new(
                ErrorCode::ValidationFailed,
                format!("value is not valid for the matching rule {}", rule.name()),
            )
            .with_detail("matching_rule", rule.name())
        };
        match rule {
            MatchingRule::DistinguishedNameMatch => {
                let s = std::str::from_utf8(value).map_err(|_| invalid())?;
                self.normalize_dn_depth(s, 0)
                    .map(String::into_bytes)
                    .ok_or_else(invalid)
            }
            MatchingRule::UniqueMemberMatch => {
                let s = std::str::from_utf8(value).map_err(|_| invalid())?;
                let (dn, uid) = syntax::split_unique_member(s);
                let mut out = self.normalize_dn_depth(dn, 0).ok_or_else(invalid)?;
                if let Some(uid) = uid {
                    out.push('#');
                    out.push_str(uid);
                }
                Ok(out.into_bytes())
            }
            MatchingRule::ObjectIdentifierMatch => {
                let s = std::str::from_utf8(value).map_err(|_| invalid())?;
                if parse::is_numericoid(s) {
                    return Ok(value.to_vec());
                }
                self.class_idx(s)
                    .map(|i| self.classes[i].def.oid.clone())
                    .or_else(|| self.attr_idx(s).map(|i| self.attrs[i].def.oid.clone()))
                    .or_else(|| MatchingRule::from_name(s).map(|r| r.oid().to_owned()))
                    .map(String::into_bytes)
                    .ok_or_else(invalid)
            }
            _ => rule.normalize(value),
        }
    }

    /// The canonical form of a DN: RDNs joined by `,`, each AVA `name=value` with the
    /// attribute's canonical name lower-cased and the value normalised by the attribute's
    /// equality rule (then escaped), AVAs of a multi-valued RDN sorted. Two DNs are equal
    /// under distinguishedNameMatch iff their canonical forms are equal. Error
    /// (`INVALID_DN`): not a DN, an undefined attribute type, a value invalid for its
    /// attribute — the cases slapd refuses with invalidDNSyntax (34).
    ///
    /// ```
    /// let schema = heracles_core::schema::Schema::builtin();
    /// assert_eq!(
    ///     schema.normalize_dn("UID=JDoe , OU=People+commonName=X,DC=Example;dc=COM")?,
    ///     "uid=jdoe,cn=x+ou=people,dc=example,dc=com"
    /// );
    /// # Ok::<(), heracles_core::Error>(())
    /// ```
    pub fn normalize_dn(&self, dn: &str) -> Result<String> {
        self.normalize_dn_depth(dn, 0).ok_or_else(|| {
            Error::new(ErrorCode::InvalidDn, format!("invalid DN syntax: '{dn}'"))
                .with_detail("dn", dn)
        })
    }

    fn normalize_dn_depth(&self, dn: &str, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let rdns = dnsyntax::split_dn(dn)?;
        let mut out = String::with_capacity(dn.len());
        for (n, rdn) in rdns.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let mut avas = Vec::with_capacity(rdn.len());
            for ava in rdn {
                let i = self.attr_idx(&ava.attr)?;
                if !self.validate_idx(i, &ava.value, depth + 1) {
                    return None;
                }
                let e = &self.attrs[i];
                let value = match e.equality {
                    Some(MatchingRule::DistinguishedNameMatch) => self
                        .normalize_dn_depth(std::str::from_utf8(&ava.value).ok()?, depth + 1)?
                        .into_bytes(),
                    Some(rule) => self.normalize_with(rule, &ava.value).ok()?,
                    None => ava.value.clone(),
                };
                avas.push((e.def.name().to_ascii_lowercase(), value));
            }
            avas.sort();
            for (k, (name, value)) in avas.iter().enumerate() {
                if k > 0 {
                    out.push('+');
                }
                out.push_str(name);
                out.push('=');
                dnsyntax::escape_value(value, &mut out);
            }
        }
        Some(out)
    }

    /// Equality of two values of `attr`; `None` if `attr` has no equality rule or either
    /// value is invalid for it (undefined: an equality filter does not match).
    pub fn values_equal(&self, attr: &str, a: &[u8], b: &[u8]) -> Option<bool> {
        Some(self.normalize_value(attr, a).ok()? == self.normalize_value(attr, b).ok()?)
    }

    /// Order of two values of `attr` under its ordering rule; `None` if it has none or a
    /// value is invalid (then `>=`/`<=` do not match).
    pub fn compare_values(&self, attr: &str, a: &[u8], b: &[u8]) -> Option<Ordering> {
        let rule = self.effective_ordering(attr)?;
        rule.compare(a, b)
    }

    /// A substring assertion on `attr` prepared with its substrings rule. Error
    /// `INAPPROPRIATE_MATCHING` if `attr` has no substrings rule: slapd then matches no
    /// entry (and reports no error), so the caller should treat the filter as
    /// undefined; `VALIDATION_FAILED` if a part is invalid for the rule.
    pub fn prepare_substrings(
        &self,
        attr: &str,
        filter: &SubstringFilter<'_>,
    ) -> Result<PreparedSubstrings> {
        let rule = self
            .effective_substr(attr)
            .ok_or_else(|| no_rule(attr, "substrings"))?;
        rule.prepare_substrings(filter)
    }

    /// Approximate match (`~=`) on `attr` (see [`matching`] for what it does and why);
    /// `None` if `attr` has no equality rule or a value is invalid.
    pub fn approx_match(&self, attr: &str, value: &[u8], assertion: &[u8]) -> Option<bool> {
        let rule = self.effective_equality(attr)?;
        match rule {
            MatchingRule::DistinguishedNameMatch
            | MatchingRule::UniqueMemberMatch
            | MatchingRule::ObjectIdentifierMatch => Some(
                self.normalize_with(rule, value).ok()?
                    == self.normalize_with(rule, assertion).ok()?,
            ),
            _ => rule.approx_match(value, assertion),
        }
    }
}

fn no_rule(attr: &str, what: &str) -> Error {
    Error::new(
        ErrorCode::InappropriateMatching,
        format!("attribute '{attr}' has no {what} matching rule"),
    )
    .with_detail("attribute", attr)
}

fn index_keys(oid: &str, names: &[String]) -> Vec<String> {
    let mut keys = vec![oid.to_owned()];
    for n in names {
        let k = n.to_ascii_lowercase();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}
