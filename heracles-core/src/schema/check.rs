//! The schema checks of an add or a modify, in slapd 2.5's order, with its result codes and
//! diagnostic messages.
//!
//! Observed on slapd 2.5.13 (`ldapadd`/`ldapmodify` as the rootdn; every case below is a
//! test in this module or in `schema::tests`):
//!
//! | case | code | slapd's message |
//! |---|---|---|
//! | undefined attribute type | 17 | `fooBar: attribute type undefined` |
//! | unknown attribute option | 17 | `description;x-foo: unrecognized option` |
//! | value of bad syntax (`uidNumber: abc`) | 21 | `uidNumber: value #0 invalid per syntax` |
//! | unknown object class | 21 | `objectClass: value #1 invalid per syntax` |
//! | several values, single-valued type (request) | 19 | `uidNumber: multiple values provided` |
//! | the same value twice in a request | 20 | `cn: value #0 provided more than once` |
//! | a NO-USER-MODIFICATION attribute | 19 | `createTimestamp: no user modification allowed` |
//! | several values, single-valued type (entry after a modify) | 19 | `attribute 'displayName' cannot have multiple values` |
//! | no objectClass | 65 | `no objectClass attribute` |
//! | no structural class | 65 | `no structural object class provided` |
//! | two structural chains | 65 | `invalid structural object class chain (inetOrgPerson/account)` |
//! | structural class changed by a modify | 69 | `structural object class modification from 'inetOrgPerson' to 'account' not allowed` |
//! | RDN value removed by a modify | 64 | `naming attribute 'uid' is not present in entry` |
//! | RDN value of a single-valued type differs from the entry's (add) | 64 | `value of single-valued naming attribute 'displayName' conflicts with value present in entry` |
//! | required attribute missing | 65 | `object class 'inetOrgPerson' requires attribute 'sn'` |
//! | attribute allowed by no class | 65 | `attribute 'uidNumber' not allowed` |
//! | RDN with an undefined type or invalid value (add) | 34 | `invalid DN` |
//!
//! Order (the first failing check wins): for each attribute of the request in request
//! order: 17, 21 (every value), 19 (several values), 20 (duplicates); then 19 for
//! NO-USER-MODIFICATION; then the entry: 19 (single-valued), 65 (objectClass), 65
//! (structural), 69, 64 (naming), 65 (MUST), 65 (allowed). On an add slapd silently adds
//! the RDN's values when the entry lacks them (`uid=x` without `uid: x` is accepted), which
//! [`EntryCheck::rdn_values_to_add`] reports. `extensibleObject` allows every *defined*
//! attribute; operational attributes are never required nor refused by classes.
//!
//! Not schema checks, but for the same modify the directory must mirror: adding a value
//! already present is 20 (`modify/add: cn: value #0 already exists`), deleting a value not
//! present is 16 (`modify/delete: cn: no such value`).

use std::fmt;

use super::{AttributeType, ObjectClassKind, Schema, EXTENSIBLE_OBJECT_OID, OBJECT_CLASS_OID};
use crate::error::{Error, LdapOperation};

/// Which check failed; each maps to the LDAP result code slapd returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// undefinedAttributeType (17): unknown attribute type or option.
    UndefinedAttributeType,
    /// constraintViolation (19): several values for a single-valued attribute.
    SingleValue,
    /// constraintViolation (19): a user tried to write a NO-USER-MODIFICATION attribute.
    NoUserModification,
    /// attributeOrValueExists (20): the same value twice.
    ValueExists,
    /// invalidAttributeSyntax (21), also for an unknown object class name.
    InvalidAttributeSyntax,
    /// invalidDNSyntax (34): the RDN names an undefined type or has an invalid value.
    InvalidDnSyntax,
    /// namingViolation (64): the RDN's values are not in the entry.
    NamingViolation,
    /// objectClassViolation (65): object classes, required or not allowed attributes.
    ObjectClassViolation,
    /// objectClassModsProhibited (69): a modify changed the structural object class.
    ObjectClassModsProhibited,
}

impl ViolationKind {
    /// The LDAP result code (RFC 4511 §4.1.9).
    pub const fn result_code(self) -> u32 {
        match self {
            ViolationKind::UndefinedAttributeType => 17,
            ViolationKind::SingleValue | ViolationKind::NoUserModification => 19,
            ViolationKind::ValueExists => 20,
            ViolationKind::InvalidAttributeSyntax => 21,
            ViolationKind::InvalidDnSyntax => 34,
            ViolationKind::NamingViolation => 64,
            ViolationKind::ObjectClassViolation => 65,
            ViolationKind::ObjectClassModsProhibited => 69,
        }
    }
}

/// A failed schema check: the kind (and so the LDAP result code), slapd's diagnostic
/// message, and the attribute or object class concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    kind: ViolationKind,
    message: String,
    attribute: Option<String>,
    object_class: Option<String>,
}

impl SchemaViolation {
    fn new(kind: ViolationKind, message: String) -> Self {
        SchemaViolation {
            kind,
            message,
            attribute: None,
            object_class: None,
        }
    }

    fn attr(mut self, a: &str) -> Self {
        self.attribute = Some(a.to_owned());
        self
    }

    fn class(mut self, c: &str) -> Self {
        self.object_class = Some(c.to_owned());
        self
    }

    /// Which check failed.
    pub fn kind(&self) -> ViolationKind {
        self.kind
    }

    /// The LDAP result code slapd returns for it.
    pub fn result_code(&self) -> u32 {
        self.kind.result_code()
    }

    /// slapd's diagnostic message ("additional info").
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The attribute concerned (as the caller named it), if any.
    pub fn attribute(&self) -> Option<&str> {
        self.attribute.as_deref()
    }

    /// The object class concerned (as the caller named it), if any.
    pub fn object_class(&self) -> Option<&str> {
        self.object_class.as_deref()
    }

    /// The crate error an LDAP server would have produced: [`Error::from_ldap`] with this
    /// result code and message, so the embedded directory reports exactly what
    /// `LdapDirectory` reports for slapd.
    pub fn to_error(&self, op: LdapOperation, dn: &str) -> Error {
        let mut e = Error::from_ldap(op, self.result_code(), dn, &self.message);
        if let Some(a) = &self.attribute {
            e = e.with_detail("attribute", a.as_str());
        }
        if let Some(c) = &self.object_class {
            e = e.with_detail("object_class", c.as_str());
        }
        e
    }
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.result_code())
    }
}

impl std::error::Error for SchemaViolation {}

/// Options of [`Schema::check_add`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddOptions {
    /// Accept NO-USER-MODIFICATION attributes (the directory writing its own operational
    /// attributes, or an import); `false` for a client's request.
    pub allow_no_user_modification: bool,
}

/// Whether [`Schema::check_entry`] checks an entry being added or a modified one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CheckMode<'a> {
    /// A new entry: RDN values missing from it are to be added (and reported).
    #[default]
    Add,
    /// An entry after a modify: RDN values must be present, and the structural class must
    /// stay what it was (`old_structural`, a class name or OID, if known).
    Modify {
        /// The entry's structural class before the modify.
        old_structural: Option<&'a str>,
    },
}

/// What a successful entry check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryCheck {
    structural: String,
    rdn_values_to_add: Vec<(String, Vec<u8>)>,
}

impl EntryCheck {
    /// The canonical name of the entry's structural object class (for
    /// `structuralObjectClass`).
    pub fn structural(&self) -> &str {
        &self.structural
    }

    /// RDN values the entry lacks and that slapd adds on an add, as (canonical attribute
    /// name, value). Empty on a modify.
    pub fn rdn_values_to_add(&self) -> &[(String, Vec<u8>)] {
        &self.rdn_values_to_add
    }
}

/// An attribute of the entry: its name as given, its index in the schema, its values.
type EntryAttr<'a, V> = (&'a str, usize, &'a [V]);

fn undefined(name: &str) -> SchemaViolation {
    SchemaViolation::new(
        ViolationKind::UndefinedAttributeType,
        format!("{name}: attribute type undefined"),
    )
    .attr(name)
}

fn ocv(message: String) -> SchemaViolation {
    SchemaViolation::new(ViolationKind::ObjectClassViolation, message)
}

impl Schema {
    /// Resolves an attribute description (`cn`, `cn;lang-en`, `userCertificate;binary`):
    /// the type and the options. Options other than language tags (`lang-*`) and `binary`
    /// are refused like slapd does (17, `unrecognized option`), an unknown type too (17).
    pub fn attribute_description<'s, 'd>(
        &'s self,
        description: &'d str,
    ) -> Result<(&'s AttributeType, Vec<&'d str>), SchemaViolation> {
        let mut parts = description.split(';');
        let base = parts.next().unwrap_or_default();
        let at = self.attribute(base).ok_or_else(|| undefined(description))?;
        let mut options = Vec::new();
        for opt in parts {
            let lower = opt.to_ascii_lowercase();
            let ok = lower == "binary"
                || lower.strip_prefix("lang-").is_some_and(|tag| {
                    tag.is_empty() || tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !ok {
                return Err(SchemaViolation::new(
                    ViolationKind::UndefinedAttributeType,
                    format!("{description}: unrecognized option"),
                )
                .attr(description));
            }
            options.push(opt);
        }
        Ok((at, options))
    }

    /// The checks slapd applies to one attribute of a request (an add's attribute, or the
    /// values of a modify's add/replace): the type is defined (17), every value is valid
    /// for its syntax (21), a single-valued type gets at most one value (19), no value is
    /// given twice (20, compared with the equality rule, byte for byte without one).
    pub fn check_attribute<V: AsRef<[u8]>>(
        &self,
        name: &str,
        values: &[V],
    ) -> Result<&AttributeType, SchemaViolation> {
        let (at, _) = self.attribute_description(name)?;
        for (i, v) in values.iter().enumerate() {
            if !self.validate_value(at.oid(), v.as_ref()) {
                return Err(SchemaViolation::new(
                    ViolationKind::InvalidAttributeSyntax,
                    format!("{name}: value #{i} invalid per syntax"),
                )
                .attr(name));
            }
        }
        if at.is_single_value() && values.len() > 1 {
            return Err(SchemaViolation::new(
                ViolationKind::SingleValue,
                format!("{name}: multiple values provided"),
            )
            .attr(name));
        }
        if values.len() > 1 {
            let keys: Vec<Vec<u8>> = values
                .iter()
                .map(|v| {
                    self.normalize_value(at.oid(), v.as_ref())
                        .unwrap_or_else(|_| v.as_ref().to_vec())
                })
                .collect();
            for (i, k) in keys.iter().enumerate() {
                if keys[i + 1..].contains(k) {
                    return Err(SchemaViolation::new(
                        ViolationKind::ValueExists,
                        format!("{name}: value #{i} provided more than once"),
                    )
                    .attr(name));
                }
            }
        }
        Ok(at)
    }

    /// A client may not write `name` if its type is NO-USER-MODIFICATION (19). Unknown
    /// types pass (they are refused by [`Schema::check_attribute`]).
    pub fn check_user_modification(&self, name: &str) -> Result<(), SchemaViolation> {
        match self.attribute_description(name) {
            Ok((at, _)) if at.is_no_user_modification() => Err(SchemaViolation::new(
                ViolationKind::NoUserModification,
                format!("{name}: no user modification allowed"),
            )
            .attr(name)),
            _ => Ok(()),
        }
    }

    /// The structural object class of an entry with these `objectClass` values: the one
    /// structural class all other structural classes listed are superclasses of.
    /// Errors (65): an unknown class, no structural class, two structural chains.
    pub fn structural_class<S: AsRef<str>>(
        &self,
        object_classes: &[S],
    ) -> Result<&super::ObjectClass, SchemaViolation> {
        let mut structural: Vec<(usize, &str)> = Vec::new();
        for oc in object_classes {
            let name = oc.as_ref();
            let i = self
                .class_idx(name)
                .ok_or_else(|| ocv(format!("unrecognized objectClass '{name}'")).class(name))?;
            if self.classes[i].def.kind == ObjectClassKind::Structural {
                structural.push((i, name));
            }
        }
        let Some(&(first, first_name)) = structural.first() else {
            return Err(ocv("no structural object class provided".to_owned()));
        };
        // the most specific: every other structural class is it or one of its ancestors
        let mut best = first;
        let mut best_name = first_name;
        for &(c, name) in &structural[1..] {
            if c == best || self.classes[best].ancestors.contains(&c) {
                continue;
            }
            if self.classes[c].ancestors.contains(&best) {
                best = c;
                best_name = name;
                continue;
            }
            return Err(ocv(format!(
                "invalid structural object class chain ({best_name}/{name})"
            ))
            .class(name));
        }
        // a class listed earlier may not be compatible with the final choice
        for &(c, name) in &structural {
            if c != best && !self.classes[best].ancestors.contains(&c) {
                return Err(ocv(format!(
                    "invalid structural object class chain ({best_name}/{name})"
                ))
                .class(name));
            }
        }
        Ok(&self.classes[best].def)
    }

    /// The entry checks slapd runs on the complete entry (after an add's attributes are
    /// checked, or after a modify's changes are applied): single-valued types (19),
    /// objectClass present (65), one structural chain (65), unchanged structural class on
    /// a modify (69), the RDN's values present (64), required attributes (65), every
    /// attribute allowed (65). See the module documentation for messages and order.
    ///
    /// `rdn`: the AVAs of the entry's RDN (attribute name, raw value). `attrs`: every
    /// attribute of the entry with its values (`objectClass` included), in entry order.
    pub fn check_entry<'a, V, I>(
        &self,
        rdn: &[(&str, &[u8])],
        attrs: I,
        mode: CheckMode<'_>,
    ) -> Result<EntryCheck, SchemaViolation>
    where
        V: AsRef<[u8]> + 'a,
        I: IntoIterator<Item = (&'a str, &'a [V])>,
    {
        // resolve every attribute once
        let mut entry: Vec<EntryAttr<'_, V>> = Vec::new();
        for (name, values) in attrs {
            let (at, _) = self.attribute_description(name)?;
            let idx = self.attr_idx(at.oid()).unwrap_or_default();
            entry.push((name, idx, values));
        }
        // single-valued
        for (name, idx, values) in &entry {
            if self.attrs[*idx].def.single_value && values.len() > 1 {
                return Err(SchemaViolation::new(
                    ViolationKind::SingleValue,
                    format!("attribute '{name}' cannot have multiple values"),
                )
                .attr(name));
            }
        }
        // objectClass, structural class
        let mut class_names: Vec<String> = Vec::new();
        for (_, idx, values) in &entry {
            if self.attrs[*idx].def.oid == OBJECT_CLASS_OID {
                for v in *values {
                    class_names.push(String::from_utf8_lossy(v.as_ref()).into_owned());
                }
            }
        }
        if class_names.is_empty() {
            return Err(ocv("no objectClass attribute".to_owned()));
        }
        let structural = self.structural_class(&class_names)?;
        let structural_name = structural.name().to_owned();
        if let CheckMode::Modify {
            old_structural: Some(old),
        } = mode
        {
            if !structural.has_name(old)
                && self.class_idx(old).map(|i| &self.classes[i].def.oid) != Some(&structural.oid)
            {
                return Err(SchemaViolation::new(
                    ViolationKind::ObjectClassModsProhibited,
                    format!(
                        "structural object class modification from '{old}' to '{structural_name}' not allowed"
                    ),
                )
                .class(old));
            }
        }
        let classes: Vec<usize> = class_names
            .iter()
            .filter_map(|n| self.class_idx(n))
            .collect();
        let added = self.check_naming(rdn, &entry, mode)?;
        self.check_required(&class_names, &classes, &entry, &added)?;
        self.check_allowed(&classes, &entry, &added)?;
        Ok(EntryCheck {
            structural: structural_name,
            rdn_values_to_add: added.into_iter().map(|(_, n, v)| (n, v)).collect(),
        })
    }

    /// The naming check: every RDN value must be in the entry. On an add, a missing one is
    /// to be added (returned, with its attribute index), unless its single-valued type
    /// already has another value.
    fn check_naming<V: AsRef<[u8]>>(
        &self,
        rdn: &[(&str, &[u8])],
        entry: &[EntryAttr<'_, V>],
        mode: CheckMode<'_>,
    ) -> Result<Vec<(usize, String, Vec<u8>)>, SchemaViolation> {
        let mut added = Vec::new();
        for (name, value) in rdn {
            let Some(idx) = self.attr_idx(name) else {
                return Err(SchemaViolation::new(
                    ViolationKind::NamingViolation,
                    format!("naming attribute '{name}' is not defined"),
                )
                .attr(name));
            };
            let oid = &self.attrs[idx].def.oid;
            let present: Vec<&[u8]> = entry
                .iter()
                .filter(|(_, i, _)| &self.attrs[*i].def.oid == oid)
                .flat_map(|(_, _, vs)| vs.iter().map(AsRef::as_ref))
                .collect();
            let wanted = self.normalize_value(oid, value).ok();
            let found = present.iter().any(|v| match &wanted {
                Some(w) => self.normalize_value(oid, v).ok().as_ref() == Some(w),
                None => v == value,
            });
            if found {
                continue;
            }
            match mode {
                CheckMode::Add if self.attrs[idx].def.single_value && !present.is_empty() => {
                    return Err(SchemaViolation::new(
                        ViolationKind::NamingViolation,
                        format!(
                            "value of single-valued naming attribute '{name}' conflicts with value present in entry"
                        ),
                    )
                    .attr(name));
                }
                CheckMode::Add => {
                    added.push((idx, self.attrs[idx].def.name().to_owned(), value.to_vec()));
                }
                CheckMode::Modify { .. } => {
                    return Err(SchemaViolation::new(
                        ViolationKind::NamingViolation,
                        format!("naming attribute '{name}' is not present in entry"),
                    )
                    .attr(name));
                }
            }
        }
        Ok(added)
    }

    /// Every MUST attribute of every listed class (and its superclasses) is present.
    fn check_required<V: AsRef<[u8]>>(
        &self,
        class_names: &[String],
        classes: &[usize],
        entry: &[EntryAttr<'_, V>],
        added: &[(usize, String, Vec<u8>)],
    ) -> Result<(), SchemaViolation> {
        let present: Vec<&str> = entry
            .iter()
            .map(|(_, i, _)| self.attrs[*i].def.oid.as_str())
            .chain(
                added
                    .iter()
                    .map(|(i, _, _)| self.attrs[*i].def.oid.as_str()),
            )
            .collect();
        for (name, &c) in class_names.iter().zip(classes) {
            for &a in &self.classes[c].must {
                let at = &self.attrs[a].def;
                if !present.contains(&at.oid.as_str()) {
                    return Err(ocv(format!(
                        "object class '{name}' requires attribute '{}'",
                        at.name()
                    ))
                    .class(name)
                    .attr(at.name()));
                }
            }
        }
        Ok(())
    }

    /// Every attribute is allowed by a listed class (or `extensibleObject`, or is
    /// operational or `objectClass`).
    fn check_allowed<V: AsRef<[u8]>>(
        &self,
        classes: &[usize],
        entry: &[EntryAttr<'_, V>],
        added: &[(usize, String, Vec<u8>)],
    ) -> Result<(), SchemaViolation> {
        if classes
            .iter()
            .any(|&c| self.classes[c].def.oid == EXTENSIBLE_OBJECT_OID)
        {
            return Ok(());
        }
        let allowed = |idx: usize| {
            let at = &self.attrs[idx].def;
            at.oid == OBJECT_CLASS_OID
                || at.is_operational()
                || classes.iter().any(|&c| {
                    self.classes[c].must.contains(&idx) || self.classes[c].may.contains(&idx)
                })
        };
        let names = entry
            .iter()
            .map(|(n, i, _)| (*n, *i))
            .chain(added.iter().map(|(i, n, _)| (n.as_str(), *i)));
        for (name, idx) in names {
            if !allowed(idx) {
                return Err(ocv(format!("attribute '{name}' not allowed")).attr(name));
            }
        }
        Ok(())
    }

    /// Every schema check of an add, in slapd's order: the RDN (34 for an undefined type or
    /// an invalid value), each attribute of the request ([`Schema::check_attribute`]),
    /// NO-USER-MODIFICATION attributes (19, unless
    /// [`AddOptions::allow_no_user_modification`]), then the entry
    /// ([`Schema::check_entry`] in [`CheckMode::Add`]).
    pub fn check_add<'a, V, I>(
        &self,
        rdn: &[(&str, &[u8])],
        attrs: I,
        options: AddOptions,
    ) -> Result<EntryCheck, SchemaViolation>
    where
        V: AsRef<[u8]> + 'a,
        I: IntoIterator<Item = (&'a str, &'a [V])>,
    {
        for (name, value) in rdn {
            if !self.validate_value(name, value) {
                return Err(SchemaViolation::new(
                    ViolationKind::InvalidDnSyntax,
                    "invalid DN".to_owned(),
                )
                .attr(name));
            }
        }
        let attrs: Vec<(&'a str, &'a [V])> = attrs.into_iter().collect();
        for (name, values) in &attrs {
            self.check_attribute(name, values)?;
        }
        if !options.allow_no_user_modification {
            for (name, _) in &attrs {
                self.check_user_modification(name)?;
            }
        }
        self.check_entry(rdn, attrs, CheckMode::Add)
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases
mod tests {
    use super::*;

    type Attrs<'a> = Vec<(&'a str, &'a [&'a [u8]])>;

    fn schema() -> Schema {
        Schema::builtin()
    }

    fn add(rdn: (&str, &str), attrs: Attrs<'_>) -> Result<EntryCheck, SchemaViolation> {
        schema().check_add(&[(rdn.0, rdn.1.as_bytes())], attrs, AddOptions::default())
    }

    fn fails(r: Result<EntryCheck, SchemaViolation>, code: u32, msg: &str) {
        let e = r.unwrap_err();
        assert_eq!((e.result_code(), e.message()), (code, msg));
    }

    // Every expectation below is what slapd 2.5.13 answered to the same ldapadd.

    #[test]
    fn missing_must() {
        fails(
            add(
                ("uid", "a1"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a1"]),
                    ("cn", &[b"A"]),
                ],
            ),
            65,
            "object class 'inetOrgPerson' requires attribute 'sn'",
        );
    }

    #[test]
    fn unknown_attribute_and_option() {
        fails(
            add(
                ("uid", "a2"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a2"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                    ("fooBar", &[b"x"]),
                ],
            ),
            17,
            "fooBar: attribute type undefined",
        );
        fails(
            add(
                ("uid", "a2"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a2"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                    ("description;x-foo", &[b"y"]),
                ],
            ),
            17,
            "description;x-foo: unrecognized option",
        );
        assert!(add(
            ("uid", "a2"),
            vec![
                ("objectClass", &[b"inetOrgPerson"]),
                ("uid", &[b"a2"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
                ("cn;lang-en", &[b"English"])
            ]
        )
        .is_ok());
    }

    #[test]
    fn not_allowed() {
        fails(
            add(
                ("uid", "a3"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a3"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                    ("uidNumber", &[b"5"]),
                ],
            ),
            65,
            "attribute 'uidNumber' not allowed",
        );
    }

    #[test]
    fn structural_chains() {
        fails(
            add(
                ("uid", "a4"),
                vec![
                    ("objectClass", &[b"inetOrgPerson", b"account"]),
                    ("uid", &[b"a4"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                ],
            ),
            65,
            "invalid structural object class chain (inetOrgPerson/account)",
        );
        let ok = add(
            ("uid", "a5"),
            vec![
                (
                    "objectClass",
                    &[b"inetOrgPerson", b"organizationalPerson", b"person", b"top"],
                ),
                ("uid", &[b"a5"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
            ],
        )
        .unwrap();
        assert_eq!(ok.structural(), "inetOrgPerson");
        let ok = add(
            ("uid", "a5"),
            vec![
                ("objectClass", &[b"top", b"person", b"inetOrgPerson"]),
                ("uid", &[b"a5"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
            ],
        )
        .unwrap();
        assert_eq!(ok.structural(), "inetOrgPerson");
        fails(
            add(
                ("cn", "g1"),
                vec![
                    ("objectClass", &[b"posixGroup", b"groupOfNames"]),
                    ("cn", &[b"g1"]),
                    ("gidNumber", &[b"5"]),
                    ("member", &[b"cn=admin,dc=example,dc=com"]),
                ],
            ),
            65,
            "invalid structural object class chain (posixGroup/groupOfNames)",
        );
        fails(
            add(
                ("uid", "a10"),
                vec![
                    ("objectClass", &[b"posixAccount"]),
                    ("uid", &[b"a10"]),
                    ("cn", &[b"A"]),
                    ("uidNumber", &[b"1"]),
                    ("gidNumber", &[b"1"]),
                    ("homeDirectory", &[b"/h"]),
                ],
            ),
            65,
            "no structural object class provided",
        );
        fails(
            add(
                ("cn", "t1"),
                vec![("objectClass", &[b"top"]), ("cn", &[b"t1"])],
            ),
            65,
            "no structural object class provided",
        );
        fails(
            add(
                ("uid", "a12"),
                vec![("uid", &[b"a12"]), ("cn", &[b"A"]), ("sn", &[b"B"])],
            ),
            65,
            "no objectClass attribute",
        );
        // auxiliary classes and a structural one
        assert!(add(
            ("uid", "b9"),
            vec![
                ("objectClass", &[b"top", b"account", b"posixAccount"]),
                ("uid", &[b"b9"]),
                ("cn", &[b"A"]),
                ("uidNumber", &[b"1"]),
                ("gidNumber", &[b"1"]),
                ("homeDirectory", &[b"/h"])
            ]
        )
        .is_ok());
        // by OID
        assert!(add(
            ("uid", "b10"),
            vec![
                ("objectClass", &[b"2.16.840.1.113730.3.2.2"]),
                ("uid", &[b"b10"]),
                ("cn", &[b"A"]),
                ("2.5.4.4", &[b"B"])
            ]
        )
        .is_ok());
    }

    #[test]
    fn unknown_object_class_is_a_syntax_error() {
        fails(
            add(
                ("uid", "a9"),
                vec![
                    ("objectClass", &[b"inetOrgPerson", b"fooClass"]),
                    ("uid", &[b"a9"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                ],
            ),
            21,
            "objectClass: value #1 invalid per syntax",
        );
        // check_entry alone (no syntax pass) reports it as slapd's schema check does
        let s = schema();
        let e = s
            .check_entry(
                &[],
                vec![("objectClass", &[b"person" as &[u8], b"nope"][..])],
                CheckMode::Add,
            )
            .unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (65, "unrecognized objectClass 'nope'")
        );
    }

    #[test]
    fn single_value_and_duplicates() {
        let posix: Attrs<'_> = vec![
            ("objectClass", &[b"inetOrgPerson", b"posixAccount"]),
            ("uid", &[b"a7"]),
            ("cn", &[b"A"]),
            ("sn", &[b"B"]),
            ("gidNumber", &[b"1"]),
            ("homeDirectory", &[b"/h"]),
        ];
        let mut two = posix.clone();
        two.push(("uidNumber", &[b"1", b"2"]));
        fails(
            add(("uid", "a7"), two),
            19,
            "uidNumber: multiple values provided",
        );
        let mut bad = posix.clone();
        bad.push(("uidNumber", &[b"abc"]));
        fails(
            add(("uid", "a7"), bad),
            21,
            "uidNumber: value #0 invalid per syntax",
        );
        // syntax before single-value, single-value before duplicates
        let mut both = posix.clone();
        both.push(("uidNumber", &[b"x", b"y"]));
        fails(
            add(("uid", "a7"), both),
            21,
            "uidNumber: value #0 invalid per syntax",
        );
        let mut dup1 = posix.clone();
        dup1.push(("uidNumber", &[b"1", b"1"]));
        fails(
            add(("uid", "a7"), dup1),
            19,
            "uidNumber: multiple values provided",
        );
        fails(
            add(
                ("uid", "a13"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a13"]),
                    ("cn", &[b"A", b"a"]),
                    ("sn", &[b"B"]),
                ],
            ),
            20,
            "cn: value #0 provided more than once",
        );
        fails(
            add(
                ("uid", "a13"),
                vec![
                    ("objectClass", &[b"inetOrgPerson", b"inetorgperson"]),
                    ("uid", &[b"a13"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                ],
            ),
            20,
            "objectClass: value #0 provided more than once",
        );
        // a later attribute's syntax error does not hide an earlier duplicate
        let mut order = posix.clone();
        order.insert(3, ("cn", &[b"a", b"A"]));
        order.push(("uidNumber", &[b"x"]));
        fails(
            add(("uid", "a7"), order),
            20,
            "cn: value #0 provided more than once",
        );
        // every value's syntax is checked before duplicates
        fails(
            add(
                ("uid", "c1"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"c1"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                    ("mail", &[b"a@b", b"A@B", "\u{e9}".as_bytes()]),
                ],
            ),
            21,
            "mail: value #2 invalid per syntax",
        );
        // caseExactIA5: different case is a different value
        assert!(schema().check_attribute("sudoUser", &[b"A", b"a"]).is_ok());
    }

    #[test]
    fn no_user_modification() {
        let base: Attrs<'_> = vec![
            ("objectClass", &[b"inetOrgPerson"]),
            ("uid", &[b"c2"]),
            ("cn", &[b"A"]),
            ("sn", &[b"B"]),
        ];
        let mut ts = base.clone();
        ts.push(("createTimestamp", &[b"20200101000000Z"]));
        fails(
            add(("uid", "c2"), ts.clone()),
            19,
            "createTimestamp: no user modification allowed",
        );
        assert!(schema()
            .check_add(
                &[("uid", b"c2")],
                ts,
                AddOptions {
                    allow_no_user_modification: true
                }
            )
            .is_ok());
        let mut uuid = base.clone();
        uuid.push(("entryUUID", &[b"0fa3c2f0-1111-2222-3333-444455556666"]));
        fails(
            add(("uid", "c2"), uuid),
            19,
            "entryUUID: no user modification allowed",
        );
        let mut bad_uuid = base.clone();
        bad_uuid.push(("entryUUID", &[b"x"]));
        fails(
            add(("uid", "c2"), bad_uuid),
            21,
            "entryUUID: value #0 invalid per syntax",
        );
        let mut memberof = base.clone();
        memberof.push(("memberOf", &[b"cn=x,dc=example,dc=com"]));
        fails(
            add(("uid", "c2"), memberof),
            19,
            "memberOf: no user modification allowed",
        );
        // the NO-USER-MODIFICATION pass comes after every attribute's own checks
        let mut later = base.clone();
        later.insert(1, ("createTimestamp", &[b"20200101000000Z"]));
        later.push(("cn", &[b"a", b"A"]));
        fails(
            add(("uid", "c2"), later),
            20,
            "cn: value #0 provided more than once",
        );
        // ... and before the entry checks
        let mut first = vec![(
            "createTimestamp",
            &[b"20200101000000Z" as &[u8]] as &[&[u8]],
        )];
        first.push(("objectClass", &[b"inetOrgPerson"]));
        fails(
            add(("uid", "c2"), first),
            19,
            "createTimestamp: no user modification allowed",
        );
        // pwdAccountLockedTime is writable (ppolicy)
        let mut locked = base;
        locked.push(("pwdAccountLockedTime", &[b"000001010000Z"]));
        assert!(add(("uid", "c2"), locked).is_ok());
    }

    #[test]
    fn naming() {
        // RDN value missing: added
        let ok = add(
            ("uid", "a11"),
            vec![
                ("objectClass", &[b"inetOrgPerson"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
            ],
        )
        .unwrap();
        assert_eq!(
            ok.rdn_values_to_add(),
            [("uid".to_owned(), b"a11".to_vec())]
        );
        let ok = add(
            ("uid", "a17"),
            vec![
                ("objectClass", &[b"inetOrgPerson"]),
                ("uid", &[b"other"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
            ],
        )
        .unwrap();
        assert_eq!(ok.rdn_values_to_add().len(), 1);
        let ok = add(
            ("CN", "a"),
            vec![
                ("objectClass", &[b"inetOrgPerson"]),
                ("cn", &[b"A"]),
                ("sn", &[b"B"]),
            ],
        )
        .unwrap();
        assert!(ok.rdn_values_to_add().is_empty());
        fails(
            add(
                ("uidNumber", "5"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"a18"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                ],
            ),
            65,
            "attribute 'uidNumber' not allowed",
        );
        fails(
            add(("foo", "5"), vec![("objectClass", &[b"inetOrgPerson"])]),
            34,
            "invalid DN",
        );
        fails(
            add(
                ("uidNumber", "abc"),
                vec![("objectClass", &[b"inetOrgPerson"])],
            ),
            34,
            "invalid DN",
        );
        fails(
            add(("displayName", "x"), vec![("objectClass", &[b"inetOrgPerson"]), ("displayName", &[b"y"]), ("cn", &[b"A"]), ("sn", &[b"B"])]),
            64,
            "value of single-valued naming attribute 'displayName' conflicts with value present in entry",
        );
        // naming after structural, before MUST
        fails(
            add(("displayName", "x"), vec![("objectClass", &[b"inetOrgPerson"]), ("displayName", &[b"y"]), ("cn", &[b"A"])]),
            64,
            "value of single-valued naming attribute 'displayName' conflicts with value present in entry",
        );
        fails(
            add(
                ("displayName", "x"),
                vec![
                    ("objectClass", &[b"posixAccount"]),
                    ("displayName", &[b"y"]),
                    ("cn", &[b"A"]),
                ],
            ),
            65,
            "no structural object class provided",
        );
    }

    #[test]
    fn check_order_between_entry_checks() {
        fails(
            add(
                ("uid", "b1"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"b1"]),
                    ("cn", &[b"A"]),
                    ("uidNumber", &[b"1"]),
                ],
            ),
            65,
            "object class 'inetOrgPerson' requires attribute 'sn'",
        );
        fails(
            add(
                ("uid", "b2"),
                vec![
                    ("objectClass", &[b"inetOrgPerson", b"account"]),
                    ("uid", &[b"b2"]),
                    ("cn", &[b"A"]),
                ],
            ),
            65,
            "invalid structural object class chain (inetOrgPerson/account)",
        );
        fails(
            add(
                ("uid", "b3"),
                vec![
                    ("objectClass", &[b"inetOrgPerson"]),
                    ("uid", &[b"b3"]),
                    ("cn", &[b"A"]),
                    ("displayName", &[b"1", b"2"]),
                ],
            ),
            19,
            "displayName: multiple values provided",
        );
        fails(
            add(
                ("uid", "c7"),
                vec![
                    ("objectClass", &[b"inetOrgPerson", b"posixAccount"]),
                    ("uid", &[b"c7"]),
                    ("cn", &[b"A"]),
                    ("sn", &[b"B"]),
                ],
            ),
            65,
            "object class 'posixAccount' requires attribute 'uidNumber'",
        );
    }

    #[test]
    fn extensible_object() {
        fails(
            add(
                ("cn", "t2"),
                vec![
                    ("objectClass", &[b"organizationalRole", b"extensibleObject"]),
                    ("cn", &[b"t2"]),
                    ("uidNumber", &[b"3"]),
                    ("fooBar", &[b"2"]),
                ],
            ),
            17,
            "fooBar: attribute type undefined",
        );
        assert!(add(
            ("cn", "t3"),
            vec![
                ("objectClass", &[b"organizationalRole", b"extensibleObject"]),
                ("cn", &[b"t3"]),
                ("uidNumber", &[b"3"]),
                ("mail", &[b"a@b"])
            ]
        )
        .is_ok());
    }

    #[test]
    fn modify_checks() {
        let s = schema();
        let entry: Attrs<'_> = vec![
            ("objectClass", &[b"inetOrgPerson"]),
            ("uid", &[b"a5"]),
            ("cn", &[b"A"]),
            ("sn", &[b"B"]),
        ];
        let rdn: &[(&str, &[u8])] = &[("uid", b"a5")];
        let m = CheckMode::Modify {
            old_structural: Some("inetOrgPerson"),
        };
        assert!(s.check_entry(rdn, entry.clone(), m).is_ok());
        let no_sn: Attrs<'_> = entry.iter().copied().filter(|(n, _)| *n != "sn").collect();
        let e = s.check_entry(rdn, no_sn, m).unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (65, "object class 'inetOrgPerson' requires attribute 'sn'")
        );
        let no_uid: Attrs<'_> = entry.iter().copied().filter(|(n, _)| *n != "uid").collect();
        let e = s.check_entry(rdn, no_uid, m).unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (64, "naming attribute 'uid' is not present in entry")
        );
        let account: Attrs<'_> = vec![("objectClass", &[b"account"]), ("uid", &[b"a5"])];
        let e = s.check_entry(rdn, account, m).unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (69, "structural object class modification from 'inetOrgPerson' to 'account' not allowed")
        );
        let mut two = entry.clone();
        two.push(("displayName", &[b"x", b"y"]));
        let e = s.check_entry(rdn, two, m).unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (19, "attribute 'displayName' cannot have multiple values")
        );
        let mut not_allowed = entry.clone();
        not_allowed.push(("uidNumber", &[b"1"]));
        let e = s.check_entry(rdn, not_allowed, m).unwrap_err();
        assert_eq!(
            (e.result_code(), e.message()),
            (65, "attribute 'uidNumber' not allowed")
        );
        // adding an auxiliary class keeps the structural class; by OID too
        let mut aux = entry.clone();
        aux[0] = ("objectClass", &[b"inetOrgPerson", b"posixAccount"]);
        aux.extend([
            ("uidNumber", &[b"1" as &[u8]] as &[&[u8]]),
            ("gidNumber", &[b"1"]),
            ("homeDirectory", &[b"/h"]),
        ]);
        assert!(s
            .check_entry(
                rdn,
                aux,
                CheckMode::Modify {
                    old_structural: Some("2.16.840.1.113730.3.2.2")
                }
            )
            .is_ok());
        // operational attributes are allowed in any entry
        let mut op = entry;
        op.push(("createTimestamp", &[b"20200101000000Z"]));
        op.push(("entryUUID", &[b"0fa3c2f0-1111-2222-3333-444455556666"]));
        assert!(s.check_entry(rdn, op, m).is_ok());
    }

    #[test]
    fn errors_map_through_from_ldap() {
        let e = add(
            ("uid", "a1"),
            vec![
                ("objectClass", &[b"inetOrgPerson"]),
                ("uid", &[b"a1"]),
                ("cn", &[b"A"]),
            ],
        )
        .unwrap_err();
        let err = e.to_error(LdapOperation::Add, "uid=a1,ou=people,dc=example,dc=com");
        assert_eq!(err.code(), crate::error::ErrorCode::SchemaViolation);
        assert_eq!(err.details()["ldap_result_code"], 65);
        assert_eq!(
            err.details()["ldap_message"],
            "object class 'inetOrgPerson' requires attribute 'sn'"
        );
        assert_eq!(err.details()["attribute"], "sn");
        assert_eq!(err.details()["object_class"], "inetOrgPerson");
        let codes = [
            (
                ViolationKind::UndefinedAttributeType,
                crate::error::ErrorCode::SchemaViolation,
            ),
            (
                ViolationKind::SingleValue,
                crate::error::ErrorCode::ConstraintViolation,
            ),
            (
                ViolationKind::ValueExists,
                crate::error::ErrorCode::ValueAlreadyExists,
            ),
            (
                ViolationKind::InvalidAttributeSyntax,
                crate::error::ErrorCode::ValidationFailed,
            ),
            (
                ViolationKind::InvalidDnSyntax,
                crate::error::ErrorCode::InvalidDn,
            ),
            (
                ViolationKind::NamingViolation,
                crate::error::ErrorCode::SchemaViolation,
            ),
            (
                ViolationKind::ObjectClassModsProhibited,
                crate::error::ErrorCode::SchemaViolation,
            ),
        ];
        for (kind, code) in codes {
            let v = SchemaViolation::new(kind, "x".into());
            assert_eq!(
                v.to_error(LdapOperation::Modify, "cn=x").code(),
                code,
                "{kind:?}"
            );
        }
        assert_eq!(
            e.to_string(),
            "object class 'inetOrgPerson' requires attribute 'sn' (65)"
        );
    }
}
