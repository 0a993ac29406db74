//! The schema elements: attribute types and object classes (RFC 4512 §4.1.1, §4.1.2).

use std::fmt;

/// What an attribute type is used for (RFC 4512 `USAGE`). Every usage other than
/// [`AttributeUsage::UserApplications`] makes the attribute *operational*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttributeUsage {
    /// Ordinary user data (the default).
    #[default]
    UserApplications,
    /// Operational, maintained per entry by the directory (`createTimestamp`).
    DirectoryOperation,
    /// Operational, shared between the servers of a distributed directory (`ref`).
    DistributedOperation,
    /// Operational, specific to one server (`memberOf`, `contextCSN`).
    DsaOperation,
}

impl AttributeUsage {
    /// The RFC 4512 keyword, e.g. `"directoryOperation"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AttributeUsage::UserApplications => "userApplications",
            AttributeUsage::DirectoryOperation => "directoryOperation",
            AttributeUsage::DistributedOperation => "distributedOperation",
            AttributeUsage::DsaOperation => "dSAOperation",
        }
    }

    /// Parses the keyword (case-insensitively).
    pub fn from_keyword(s: &str) -> Option<AttributeUsage> {
        [
            AttributeUsage::UserApplications,
            AttributeUsage::DirectoryOperation,
            AttributeUsage::DistributedOperation,
            AttributeUsage::DsaOperation,
        ]
        .into_iter()
        .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }

    /// `true` for every usage but `userApplications`.
    pub const fn is_operational(self) -> bool {
        !matches!(self, AttributeUsage::UserApplications)
    }
}

impl fmt::Display for AttributeUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of an object class (RFC 4512 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ObjectClassKind {
    /// Only a base for other classes (`top`); never the structural class of an entry.
    Abstract,
    /// Defines what an entry is; every entry has exactly one structural chain.
    #[default]
    Structural,
    /// Adds attributes to entries of any structural class.
    Auxiliary,
}

impl ObjectClassKind {
    /// The RFC 4512 keyword, e.g. `"STRUCTURAL"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ObjectClassKind::Abstract => "ABSTRACT",
            ObjectClassKind::Structural => "STRUCTURAL",
            ObjectClassKind::Auxiliary => "AUXILIARY",
        }
    }
}

impl fmt::Display for ObjectClassKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `X-` extension of a definition, e.g. `X-ORIGIN 'RFC 4519'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The keyword, e.g. `X-ORIGIN`.
    pub name: String,
    /// Its values (one or several quoted strings).
    pub values: Vec<String>,
}

/// An attribute type as written in its definition (RFC 4512 `AttributeTypeDescription`).
///
/// The accessors return what the definition says. What the attribute *effectively* uses —
/// the matching rules and syntax inherited from its superior (`SUP`) when not given —
/// is resolved by the [`Schema`](super::Schema) it was loaded into
/// ([`Schema::effective_equality`](super::Schema::effective_equality) and siblings).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)] // the independent flags of RFC 4512's grammar
pub struct AttributeType {
    pub(crate) oid: String,
    pub(crate) names: Vec<String>,
    pub(crate) desc: Option<String>,
    pub(crate) obsolete: bool,
    pub(crate) sup: Option<String>,
    pub(crate) equality: Option<String>,
    pub(crate) ordering: Option<String>,
    pub(crate) substr: Option<String>,
    pub(crate) syntax: Option<String>,
    pub(crate) syntax_len: Option<u32>,
    pub(crate) single_value: bool,
    pub(crate) collective: bool,
    pub(crate) no_user_modification: bool,
    pub(crate) usage: AttributeUsage,
    pub(crate) extensions: Vec<Extension>,
}

impl AttributeType {
    /// The numeric OID (after OID-macro expansion), e.g. `"2.5.4.3"`.
    pub fn oid(&self) -> &str {
        &self.oid
    }

    /// All names, in definition order (`["cn", "commonName"]`); possibly empty.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The first name, or the OID when the type has no name. This is the *canonical name*
    /// Heracles uses for the attribute.
    pub fn name(&self) -> &str {
        self.names.first().map_or(self.oid.as_str(), String::as_str)
    }

    /// `true` if `name` is one of the names or the OID (names compare case-insensitively).
    pub fn has_name(&self, name: &str) -> bool {
        self.oid == name || self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The description (`DESC`), escapes decoded.
    pub fn desc(&self) -> Option<&str> {
        self.desc.as_deref()
    }

    /// `OBSOLETE` was given.
    pub fn is_obsolete(&self) -> bool {
        self.obsolete
    }

    /// The superior type (`SUP`) as written: a name or an OID.
    pub fn sup(&self) -> Option<&str> {
        self.sup.as_deref()
    }

    /// The `EQUALITY` rule as written (name or OID); `None` if not given (maybe inherited).
    pub fn equality(&self) -> Option<&str> {
        self.equality.as_deref()
    }

    /// The `ORDERING` rule as written; `None` if not given (maybe inherited).
    pub fn ordering(&self) -> Option<&str> {
        self.ordering.as_deref()
    }

    /// The `SUBSTR` rule as written; `None` if not given (maybe inherited).
    pub fn substr(&self) -> Option<&str> {
        self.substr.as_deref()
    }

    /// The syntax OID as written, without its length bound; `None` if not given.
    pub fn syntax(&self) -> Option<&str> {
        self.syntax.as_deref()
    }

    /// The length bound of the syntax (`{32768}`), if given. Like slapd, Heracles does not
    /// enforce it.
    pub fn syntax_len(&self) -> Option<u32> {
        self.syntax_len
    }

    /// `SINGLE-VALUE` was given.
    pub fn is_single_value(&self) -> bool {
        self.single_value
    }

    /// `COLLECTIVE` was given.
    pub fn is_collective(&self) -> bool {
        self.collective
    }

    /// `NO-USER-MODIFICATION` was given: only the directory itself writes the attribute.
    pub fn is_no_user_modification(&self) -> bool {
        self.no_user_modification
    }

    /// The usage (`USAGE`), `userApplications` by default.
    pub fn usage(&self) -> AttributeUsage {
        self.usage
    }

    /// The usage is not `userApplications`: the attribute is operational, never required
    /// nor forbidden by object classes, and not returned by `*` in searches.
    pub fn is_operational(&self) -> bool {
        self.usage.is_operational()
    }

    /// The `X-` extensions, in definition order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }
}

/// An object class as written in its definition (RFC 4512 `ObjectClassDescription`).
///
/// `must`/`may` are the class's own lists; the closure over superclasses is computed by
/// the [`Schema`](super::Schema) ([`Schema::must`](super::Schema::must),
/// [`Schema::may`](super::Schema::may)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectClass {
    pub(crate) oid: String,
    pub(crate) names: Vec<String>,
    pub(crate) desc: Option<String>,
    pub(crate) obsolete: bool,
    pub(crate) sup: Vec<String>,
    pub(crate) kind: ObjectClassKind,
    pub(crate) must: Vec<String>,
    pub(crate) may: Vec<String>,
    pub(crate) extensions: Vec<Extension>,
}

impl ObjectClass {
    /// The numeric OID (after OID-macro expansion).
    pub fn oid(&self) -> &str {
        &self.oid
    }

    /// All names, in definition order; possibly empty.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The first name, or the OID when the class has no name.
    pub fn name(&self) -> &str {
        self.names.first().map_or(self.oid.as_str(), String::as_str)
    }

    /// `true` if `name` is one of the names or the OID (names compare case-insensitively).
    pub fn has_name(&self, name: &str) -> bool {
        self.oid == name || self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The description (`DESC`), escapes decoded.
    pub fn desc(&self) -> Option<&str> {
        self.desc.as_deref()
    }

    /// `OBSOLETE` was given.
    pub fn is_obsolete(&self) -> bool {
        self.obsolete
    }

    /// The direct superclasses (`SUP`) as written.
    pub fn sup(&self) -> &[String] {
        &self.sup
    }

    /// `ABSTRACT`, `STRUCTURAL` (the default) or `AUXILIARY`.
    pub fn kind(&self) -> ObjectClassKind {
        self.kind
    }

    /// The class's own required attributes (`MUST`) as written.
    pub fn must(&self) -> &[String] {
        &self.must
    }

    /// The class's own allowed attributes (`MAY`) as written.
    pub fn may(&self) -> &[String] {
        &self.may
    }

    /// The `X-` extensions, in definition order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }
}
