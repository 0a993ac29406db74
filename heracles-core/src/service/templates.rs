//! User templates: named sets of default field values applied when a user is created with
//! `"template": "name"` (SPEC §3).
//!
//! A template is a `heraclesTemplate` entry `heraclesTemplateName=<name>` below
//! `ou=templates,ou=heracles`; its defaults are one JSON object in `heraclesDefaults`.
//!
//! * Names: 1 to 64 characters, ASCII letters, digits, `.`, `_` and `-`, starting with a
//!   letter or digit. Case is kept but names are compared case-insensitively (the
//!   attribute's matching rule), so `Staff` and `staff` cannot both exist (`ALREADY_EXISTS`).
//! * Defaults: keys are field names of a user body (`loginShell`, `homeDirectory`,
//!   `department`, ...; not `uid`, `userPassword`, `template` or `dn`), values are strings,
//!   numbers, booleans or arrays of strings. Strings may hold the placeholders of
//!   [`PLACEHOLDERS`] (`{{uid}}`, `{{cn}}`, `{{givenName}}`, `{{sn}}`, `{{mail}}`), checked
//!   when the template is saved and expanded by [`Template::apply`].
//!
//! ```
//! use heracles_core::service::templates::Template;
//! use serde_json::{json, Map, Value};
//!
//! let template: Template = serde_json::from_value(json!({
//!     "dn": "heraclesTemplateName=staff,ou=templates,ou=heracles,dc=example,dc=com",
//!     "name": "staff",
//!     "defaults": {"loginShell": "/bin/zsh", "homeDirectory": "/home/{{uid}}"}
//! })).unwrap();
//! let user: Map<String, Value> =
//!     serde_json::from_value(json!({"uid": "jdoe", "cn": "John Doe", "sn": "Doe"})).unwrap();
//! let filled = template.apply(&user)?;
//! assert_eq!(filled["homeDirectory"], "/home/jdoe");
//! assert_eq!(filled["loginShell"], "/bin/zsh");
//! # Ok::<(), heracles_core::Error>(())
//! ```
//!
//! Until fine-grained access control exists every operation needs an administrator
//! (`template:read`, `template:create`, `template:write`, `template:delete`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::departments::{check_description, nullable};
use super::version::{guard, IfMatch, CSN};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};

const READ: Permission = Permission::new(ObjectType::Template, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Template, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Template, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Template, Action::Delete);
use super::{Container, Heracles, ListQuery, Principal};
use crate::directory::{truncate, Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{AllowList, Filter};
use crate::page::Page;

/// The placeholders template strings may use, each replaced by that field of the user.
pub const PLACEHOLDERS: &[&str] = &["uid", "cn", "givenName", "sn", "mail"];

/// Fields a template may not give a default for.
const FORBIDDEN_DEFAULTS: &[&str] = &["uid", "userPassword", "template", "dn"];
/// Fields that [`Template::apply`] puts into the user's `posix` block when it has one.
const POSIX_FIELDS: &[&str] = &[
    "uidNumber",
    "gidNumber",
    "homeDirectory",
    "loginShell",
    "gecos",
];
/// Longest template name.
const MAX_NAME_LEN: usize = 64;
/// Most defaults in one template.
const MAX_DEFAULTS: usize = 100;
/// Longest field name of a default.
const MAX_KEY_LEN: usize = 64;
/// Longest string value (bytes), and most items of an array value.
const MAX_VALUE_LEN: usize = 4096;
const MAX_ARRAY_ITEMS: usize = 100;

const OBJECT_CLASS: &str = "heraclesTemplate";
const NAME_ATTR: &str = "heraclesTemplateName";
const DEFAULTS_ATTR: &str = "heraclesDefaults";

/// A user template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub name: String,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default field values (strings may hold placeholders).
    #[serde(default)]
    pub defaults: Map<String, Value>,
}

/// The body of `POST /templates`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// Its name (see the [module docs](self)).
    pub name: String,
    /// Free text (1 to 1024 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Default field values; absent: none.
    #[serde(default)]
    pub defaults: Map<String, Value>,
}

/// The body of `PUT /templates/{name}`: only the fields given change; a template cannot be
/// renamed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateUpdate {
    /// Absent: unchanged; `null`: removed; a string: replaced.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// Absent: unchanged; `null`: no defaults any more; an object: replaces all defaults.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub defaults: Option<Option<Map<String, Value>>>,
}

impl Template {
    /// The user fields with this template applied: every default whose field the user did
    /// not give (field names compared case-insensitively; a field inside the user's `posix`
    /// object counts as given) is added, with its placeholders expanded from the *user's*
    /// fields. POSIX fields (`uidNumber`, `gidNumber`, `homeDirectory`, `loginShell`,
    /// `gecos`) go into the user's `posix` object when it has one, else to the top level.
    /// Fields the user gave are never changed.
    ///
    /// `VALIDATION_FAILED` (details `field`, `placeholder`, `reason`) for an unknown
    /// placeholder (`unknown_placeholder`), a placeholder whose field the user did not give
    /// (`missing_field`) or an unterminated one (`unterminated_placeholder`).
    pub fn apply(&self, user_fields: &Map<String, Value>) -> Result<Map<String, Value>> {
        let mut out = user_fields.clone();
        let posix = match user_fields.get("posix") {
            Some(Value::Object(block)) => Some(block),
            _ => None,
        };
        let given = |key: &str| {
            let has = |m: &Map<String, Value>| m.keys().any(|k| k.eq_ignore_ascii_case(key));
            has(user_fields) || posix.is_some_and(has)
        };
        for (key, value) in &self.defaults {
            if given(key) {
                continue;
            }
            let expanded = expand_value(value, user_fields)
                .map_err(|e| e.with_detail("field", key.as_str()))?;
            let into_posix = POSIX_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(key));
            match out.get_mut("posix") {
                Some(Value::Object(block)) if into_posix => {
                    block.insert(key.clone(), expanded);
                }
                _ => {
                    out.insert(key.clone(), expanded);
                }
            }
        }
        Ok(out)
    }
}

/// Template operations; get one with [`Heracles::templates`].
#[derive(Debug, Clone, Copy)]
pub struct Templates<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

impl<'a> Templates<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Templates { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the template still has one of the expected
    /// versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Templates {
            if_match: expected,
            ..self
        }
    }

    /// The assertion a write of `entry` must carry under the expected version.
    fn guard(self, entry: &Entry) -> Result<Option<Filter>> {
        match self.if_match {
            None => Ok(None),
            Some(_) => guard(self.if_match, &to_template(entry)?, entry),
        }
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Templates)
    }

    fn allow(self) -> AllowList {
        let schema = self.h.schema();
        AllowList::new([
            ("name", NAME_ATTR, schema.has_substr(NAME_ATTR)),
            (
                "description",
                "description",
                schema.has_substr("description"),
            ),
        ])
    }

    /// Templates, narrowed by `filter=` clauses on `name` and `description`, sorted
    /// (default: by name), one page of them.
    pub async fn list(&self, p: &Principal, q: &ListQuery) -> Result<Page<Template>> {
        let container = self.container()?;
        p.check_somewhere(READ, &container.to_string())?;
        let page = match super::common::list_entries(
            self.h,
            (p, READ),
            &container,
            Filter::eq("objectClass", OBJECT_CLASS),
            &self.allow(),
            q,
            NAME_ATTR,
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => q.page.slice(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut data = Vec::with_capacity(page.data.len());
        for e in &page.data {
            data.push(to_template(e)?);
        }
        Ok(Page {
            data,
            pagination: page.pagination,
        })
    }

    /// One template by name (case-insensitive); `TEMPLATE_NOT_FOUND` if there is none.
    pub async fn get(&self, p: &Principal, name: &str) -> Result<Template> {
        let container = self.container()?;
        let dn = template_dn(&container, name)?;
        p.check(READ, &dn)?;
        to_template(&self.read(&dn, name).await?)
    }

    /// Creates a template; `ALREADY_EXISTS` if one of that name (ignoring case) exists.
    pub async fn create(&self, p: &Principal, body: &NewTemplate) -> Result<Template> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::TEMPLATE, &body.name);
        let outcome = self.create_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_op(
        &self,
        p: &Principal,
        body: &NewTemplate,
        op: &mut Operation<'_>,
    ) -> Result<Template> {
        let container = self.container()?;
        check_name(&body.name)?;
        let dn = container.checked_child(Rdn::new(NAME_ATTR, &body.name)?)?;
        p.check(CREATE, &dn)?;
        let description = body
            .description
            .as_deref()
            .map(check_description)
            .transpose()?;
        check_defaults(&body.defaults)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", OBJECT_CLASS])
            .with(NAME_ATTR, [body.name.as_str()])
            .with(
                DEFAULTS_ATTR,
                [Value::Object(body.defaults.clone()).to_string()],
            );
        if let Some(d) = description {
            entry.set("description", [d]);
        }
        op.target(&dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Templates).await?;
            added = self.h.directory().add(&entry).await;
        }
        added.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                e.with_message(format!("a template named '{}' already exists", body.name))
                    .with_detail("name", body.name.as_str())
            } else {
                e
            }
        })?;
        op.changes(None, Some(&entry));
        to_template(&entry)
    }

    /// Changes a template's description and/or defaults.
    pub async fn update(
        &self,
        p: &Principal,
        name: &str,
        changes: &TemplateUpdate,
    ) -> Result<Template> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::TEMPLATE, name);
        let outcome = self.update_op(p, name, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_op(
        &self,
        p: &Principal,
        name: &str,
        changes: &TemplateUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Template> {
        let container = self.container()?;
        let dn = template_dn(&container, name)?;
        op.target(&dn);
        p.check(WRITE, &dn)?;
        let mut mods = Vec::new();
        match &changes.description {
            None => {}
            Some(None) => mods.push(Modification::replace("description", Vec::<&str>::new())),
            Some(Some(d)) => mods.push(Modification::replace(
                "description",
                [check_description(d)?],
            )),
        }
        if let Some(defaults) = &changes.defaults {
            let defaults = defaults.clone().unwrap_or_default();
            check_defaults(&defaults)?;
            mods.push(Modification::replace(
                DEFAULTS_ATTR,
                [Value::Object(defaults).to_string()],
            ));
        }
        // Also tells a missing template from one that only has nothing to change.
        let current = self.read(&dn, name).await?;
        let assertion = self.guard(&current)?;
        op.target(&current.dn);
        if mods.is_empty() {
            return to_template(&current);
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&current.dn, &mods, assertion.as_ref())
            .await
            .map_err(|e| as_not_found(e, name))?;
        let after = self.read(&current.dn, name).await?;
        op.changes(Some(&current), Some(&after));
        to_template(&after)
    }

    /// Deletes a template; `TEMPLATE_NOT_FOUND` if there is none.
    pub async fn delete(&self, p: &Principal, name: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::TEMPLATE, name);
        let outcome = self.delete_op(p, name, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(&self, p: &Principal, name: &str, op: &mut Operation<'_>) -> Result<()> {
        let container = self.container()?;
        let dn = template_dn(&container, name)?;
        op.target(&dn);
        p.check(DELETE, &dn)?;
        let current = self.read(&dn, name).await?;
        let assertion = self.guard(&current)?;
        op.target(&current.dn);
        op.begin().await?;
        self.h
            .directory()
            .delete_if(&current.dn, assertion.as_ref())
            .await
            .map_err(|e| as_not_found(e, name))?;
        op.changes(Some(&current), None);
        Ok(())
    }

    /// [`Template::apply`]: `user_fields` with the template's defaults filled in.
    pub fn apply(
        &self,
        template: &Template,
        user_fields: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        template.apply(user_fields)
    }

    /// The template entry at `dn`.
    async fn read(&self, dn: &Dn, name: &str) -> Result<Entry> {
        self.h
            .directory()
            .get(dn, &["*", CSN])
            .await?
            .filter(|e| e.has_value("objectClass", OBJECT_CLASS))
            .ok_or_else(|| not_found(name))
    }
}

/// The DN of the template `name`; a name that cannot be an RDN value names no template.
fn template_dn(container: &Dn, name: &str) -> Result<Dn> {
    Rdn::new(NAME_ATTR, name)
        .ok()
        .and_then(|rdn| container.checked_child(rdn).ok())
        .ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> Error {
    Error::new(
        ErrorCode::TemplateNotFound,
        format!("template '{}' not found", truncate(name, 80)),
    )
    .with_detail("name", truncate(name, 80))
}

fn as_not_found(e: Error, name: &str) -> Error {
    if e.code() == ErrorCode::EntryNotFound {
        not_found(name)
    } else {
        e
    }
}

fn to_template(e: &Entry) -> Result<Template> {
    let name =
        e.dn.rdn()
            .and_then(|r| r.value_of(NAME_ATTR))
            .or_else(|| e.first_str(NAME_ATTR))
            .unwrap_or_default()
            .to_owned();
    let defaults = match e.first_str(DEFAULTS_ATTR) {
        None => Map::new(),
        Some(json) => match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(Error::internal(format!(
                    "template '{}' has a {DEFAULTS_ATTR} value that is not a JSON object",
                    e.dn
                ))
                .with_detail("dn", e.dn.to_string()))
            }
        },
    };
    Ok(Template {
        dn: e.dn.clone(),
        name,
        description: e.first_str("description").map(str::to_owned),
        defaults,
    })
}

/// Checks a template name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
pub fn check_name(name: &str) -> Result<()> {
    let fail = |reason: &str, message: String| {
        Error::validation("name", message)
            .with_detail("reason", reason)
            .with_detail("value", truncate(name, 80))
    };
    if name.is_empty() {
        return Err(fail("empty", "the template name must not be empty".into()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(fail(
            "too_long",
            format!("the template name must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let ok_first = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_rest = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok_first || !ok_rest {
        return Err(fail(
            "invalid_character",
            format!(
                "invalid template name '{}': letters, digits, '.', '_' and '-' only, \
                 starting with a letter or digit",
                truncate(name, 80)
            ),
        ));
    }
    Ok(())
}

/// Checks a template's defaults (see the [module docs](self)).
pub fn check_defaults(defaults: &Map<String, Value>) -> Result<()> {
    let fail = |key: &str, reason: &str, message: String| {
        Error::validation("defaults", message)
            .with_detail("key", truncate(key, 80))
            .with_detail("reason", reason)
    };
    if defaults.len() > MAX_DEFAULTS {
        return Err(Error::validation(
            "defaults",
            format!("a template has at most {MAX_DEFAULTS} defaults"),
        )
        .with_detail("reason", "too_many"));
    }
    let mut seen: Vec<String> = Vec::with_capacity(defaults.len());
    for (key, value) in defaults {
        let mut chars = key.chars();
        let keystring = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !keystring || key.len() > MAX_KEY_LEN {
            return Err(fail(
                key,
                "invalid_key",
                format!("'{}' is not a field name", truncate(key, 80)),
            ));
        }
        if FORBIDDEN_DEFAULTS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(key))
        {
            return Err(fail(
                key,
                "forbidden_key",
                format!("a template cannot give a default for '{key}'"),
            ));
        }
        let lower = key.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(fail(
                key,
                "duplicate_key",
                format!("'{key}' is given twice (field names ignore case)"),
            ));
        }
        seen.push(lower);
        check_default_value(key, value).map_err(|e| e.with_detail("key", key.as_str()))?;
    }
    Ok(())
}

fn check_default_value(key: &str, value: &Value) -> Result<()> {
    let bad_type = || {
        Error::validation(
            "defaults",
            format!("the default of '{key}' must be a string, number, boolean or array of strings"),
        )
        .with_detail("reason", "invalid_type")
    };
    let check_str = |s: &str| -> Result<()> {
        if s.len() > MAX_VALUE_LEN {
            return Err(Error::validation(
                "defaults",
                format!("the default of '{key}' is longer than {MAX_VALUE_LEN} bytes"),
            )
            .with_detail("reason", "too_long"));
        }
        parse_placeholders(s)
            .map(|_| ())
            .map_err(|e| e.with_detail("field", "defaults"))
    };
    match value {
        Value::Bool(_) | Value::Number(_) => Ok(()),
        Value::String(s) => check_str(s),
        Value::Array(items) => {
            if items.len() > MAX_ARRAY_ITEMS {
                return Err(Error::validation(
                    "defaults",
                    format!("the default of '{key}' has more than {MAX_ARRAY_ITEMS} values"),
                )
                .with_detail("reason", "too_many_values"));
            }
            for item in items {
                match item {
                    Value::String(s) => check_str(s)?,
                    _ => return Err(bad_type()),
                }
            }
            Ok(())
        }
        Value::Null | Value::Object(_) => Err(bad_type()),
    }
}

/// One piece of a template string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'s> {
    Text(&'s str),
    /// The canonical name of a placeholder (from [`PLACEHOLDERS`]).
    Field(&'static str),
}

fn placeholder_error(placeholder: &str, reason: &str, message: String) -> Error {
    Error::new(ErrorCode::ValidationFailed, message)
        .with_detail("placeholder", truncate(placeholder, 80))
        .with_detail("reason", reason)
}

/// Splits `text` into literal text and placeholders (`{{name}}`, blanks around the name
/// allowed, name case-insensitive).
fn parse_placeholders(text: &str) -> Result<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(placeholder_error(
                &rest[open..],
                "unterminated_placeholder",
                format!("unterminated placeholder in '{}'", truncate(text, 80)),
            ));
        };
        let name = after[..close].trim();
        let Some(canonical) = PLACEHOLDERS
            .iter()
            .copied()
            .find(|p| p.eq_ignore_ascii_case(name))
        else {
            return Err(placeholder_error(
                name,
                "unknown_placeholder",
                format!(
                    "unknown placeholder '{{{{{}}}}}' (known: {})",
                    truncate(name, 80),
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{{{p}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_detail("allowed", PLACEHOLDERS));
        };
        pieces.push(Piece::Field(canonical));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The placeholders `text` uses (canonical names, in order, repeats kept); errors as
/// [`expand`] for unknown or unterminated ones.
pub(super) fn placeholders_in(text: &str) -> Result<Vec<&'static str>> {
    Ok(parse_placeholders(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Field(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `text` with every placeholder written canonically (`{{ UID }}` becomes `{{uid}}`).
pub(super) fn normalize_placeholders(text: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for piece in parse_placeholders(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(name) => {
                out.push_str("{{");
                out.push_str(name);
                out.push_str("}}");
            }
        }
    }
    Ok(out)
}

/// Expands the placeholders of `text` (`{{uid}}`, `{{cn}}`, `{{givenName}}`, `{{sn}}`,
/// `{{mail}}`) with the values of those fields in `fields` (names compared
/// case-insensitively; for an array value, its first string). Errors as
/// [`Template::apply`]. Expanded values are not scanned again.
///
/// ```
/// use heracles_core::service::templates::expand;
/// use serde_json::json;
///
/// let fields = json!({"uid": "jdoe", "givenName": "John"});
/// let fields = fields.as_object().unwrap();
/// assert_eq!(expand("/home/{{uid}}", fields)?, "/home/jdoe");
/// assert_eq!(expand("{{ givenname }}!", fields)?, "John!");
/// assert!(expand("{{mail}}", fields).is_err());
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn expand(text: &str, fields: &Map<String, Value>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for piece in parse_placeholders(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(name) => {
                let value = fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| match v {
                        Value::String(s) => Some(s.as_str()),
                        Value::Array(items) => items.first().and_then(Value::as_str),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        placeholder_error(
                            name,
                            "missing_field",
                            format!(
                                "the placeholder '{{{{{name}}}}}' needs the field '{name}', \
                                 which is not given"
                            ),
                        )
                    })?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

fn expand_value(value: &Value, fields: &Map<String, Value>) -> Result<Value> {
    Ok(match value {
        Value::String(s) => Value::String(expand(s, fields)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| expand_value(v, fields))
                .collect::<Result<_>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn template(defaults: Value) -> Template {
        Template {
            dn: Dn::parse("heraclesTemplateName=t,ou=templates,ou=heracles,dc=example,dc=com")
                .unwrap(),
            name: "t".into(),
            description: None,
            defaults: obj(defaults),
        }
    }

    #[test]
    fn names() {
        for ok in ["staff", "a", "Staff-2.x_y", &"a".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "é", "a,b", &"a".repeat(65)] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad}");
            assert_eq!(e.details()["field"], "name");
        }
    }

    #[test]
    fn defaults_validation() {
        assert!(check_defaults(&obj(json!({
            "loginShell": "/bin/bash", "gidNumber": 10000, "shadowExpire": -1,
            "mail": ["{{uid}}@example.com"], "x-flag": true, "homeDirectory": "/home/{{ uid }}"
        })))
        .is_ok());
        let cases = [
            (json!({"loginShell": null}), "invalid_type"),
            (json!({"loginShell": {"a": 1}}), "invalid_type"),
            (json!({"mail": ["a", 1]}), "invalid_type"),
            (json!({"uid": "x"}), "forbidden_key"),
            (json!({"USERPASSWORD": "x"}), "forbidden_key"),
            (json!({"1cn": "x"}), "invalid_key"),
            (json!({"a b": "x"}), "invalid_key"),
            (json!({"": "x"}), "invalid_key"),
            (json!({"cn": "a", "CN": "b"}), "duplicate_key"),
            (json!({"cn": "{{nope}}"}), "unknown_placeholder"),
            (json!({"cn": "{{uid"}), "unterminated_placeholder"),
            (json!({"cn": "x".repeat(5000)}), "too_long"),
        ];
        for (defaults, reason) in cases {
            let e = check_defaults(&obj(defaults.clone())).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{defaults}");
            assert_eq!(e.details()["reason"], reason, "{defaults}");
        }
    }

    #[test]
    fn expansion() {
        let f = obj(json!({"uid": "jdoe", "CN": "John Doe", "mail": ["j@x", "k@x"], "sn": 5}));
        assert_eq!(expand("plain", &f).unwrap(), "plain");
        assert_eq!(expand("", &f).unwrap(), "");
        assert_eq!(expand("{{uid}}-{{cn}}", &f).unwrap(), "jdoe-John Doe");
        assert_eq!(expand("{ {{UID}} }", &f).unwrap(), "{ jdoe }");
        assert_eq!(expand("{{mail}}", &f).unwrap(), "j@x");
        // Inserted values are not expanded again.
        let g = obj(json!({"uid": "{{cn}}"}));
        assert_eq!(expand("{{uid}}", &g).unwrap(), "{{cn}}");
        let e = expand("{{sn}}", &f).unwrap_err();
        assert_eq!(e.details()["reason"], "missing_field");
        let e = expand("{{givenName}}", &f).unwrap_err();
        assert_eq!(e.details()["reason"], "missing_field");
        assert_eq!(e.details()["placeholder"], "givenName");
        let e = expand("/home/{{home}}", &f).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(e.details()["placeholder"], "home");
        assert_eq!(e.details()["reason"], "unknown_placeholder");
        let e = expand("a {{uid", &f).unwrap_err();
        assert_eq!(e.details()["reason"], "unterminated_placeholder");
    }

    #[test]
    fn apply_fills_absent_fields_only() {
        let t = template(json!({
            "loginShell": "/bin/zsh",
            "homeDirectory": "/home/{{uid}}",
            "description": "{{givenName}} {{sn}}",
            "mail": "{{uid}}@example.com",
            "departmentNumber": ["{{uid}}", "x"],
            "gidNumber": 100,
        }));
        let user = obj(json!({
            "uid": "jdoe", "cn": "John Doe", "sn": "Doe", "givenName": "John",
            "MAIL": "john@example.com", "template": "t"
        }));
        let out = t.apply(&user).unwrap();
        assert_eq!(out["loginShell"], "/bin/zsh");
        assert_eq!(out["homeDirectory"], "/home/jdoe");
        assert_eq!(out["description"], "John Doe");
        assert_eq!(out["departmentNumber"], json!(["jdoe", "x"]));
        assert_eq!(out["gidNumber"], 100);
        // Given fields win, whatever their case.
        assert_eq!(out["MAIL"], "john@example.com");
        assert!(!out.contains_key("mail"));
        assert_eq!(out["template"], "t");
    }

    #[test]
    fn apply_respects_the_posix_block() {
        let t = template(json!({"loginShell": "/bin/zsh", "homeDirectory": "/home/{{uid}}"}));
        let user = obj(json!({"uid": "jdoe", "posix": {"loginShell": "/bin/sh"}}));
        let out = t.apply(&user).unwrap();
        assert_eq!(
            out["posix"],
            json!({"loginShell": "/bin/sh", "homeDirectory": "/home/jdoe"})
        );
        assert!(!out.contains_key("loginShell"));
        assert!(!out.contains_key("homeDirectory"));
    }

    #[test]
    fn apply_reports_missing_placeholder_fields() {
        let t = template(json!({"description": "{{givenName}}"}));
        let e = t.apply(&obj(json!({"uid": "jdoe"}))).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(e.details()["field"], "description");
        assert_eq!(e.details()["placeholder"], "givenName");
        // A default that is not needed is not expanded.
        let out = t
            .apply(&obj(json!({"uid": "jdoe", "description": "given"})))
            .unwrap();
        assert_eq!(out["description"], "given");
    }

    #[test]
    fn bodies_refuse_unknown_fields() {
        let e = serde_json::from_value::<NewTemplate>(json!({"name": "a", "nme": 1})).unwrap_err();
        assert!(e.to_string().contains("nme"), "{e}");
        let e = serde_json::from_value::<TemplateUpdate>(json!({"name": "b"})).unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
        let u: TemplateUpdate = serde_json::from_value(json!({"description": null})).unwrap();
        assert_eq!(u.description, Some(None));
        assert_eq!(u.defaults, None);
    }

    use super::super::settings::testing::{admin, fixture, user};
    use crate::page::PageRequest;

    fn new(name: &str, defaults: Value) -> NewTemplate {
        NewTemplate {
            name: name.into(),
            description: Some(format!("the {name} template")),
            defaults: obj(defaults),
        }
    }

    #[tokio::test]
    async fn non_admins_are_denied() {
        let (_dir, h) = fixture();
        let t = h.templates();
        let adm = admin(&h);
        t.create(&adm, &new("staff", json!({}))).await.unwrap();
        let u = user();
        for e in [
            t.list(&u, &ListQuery::default()).await.unwrap_err(),
            t.get(&u, "staff").await.unwrap_err(),
            t.create(&u, &new("other", json!({}))).await.unwrap_err(),
            t.update(&u, "staff", &TemplateUpdate::default())
                .await
                .unwrap_err(),
            t.delete(&u, "staff").await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::AclDenied);
            assert!(e.details()["permission"]
                .as_str()
                .unwrap()
                .starts_with("template:"));
        }
        assert!(t.get(&adm, "staff").await.is_ok());
        assert!(t.get(&adm, "other").await.is_err());
    }

    #[tokio::test]
    async fn crud() {
        let (_dir, h) = fixture();
        let t = h.templates();
        let adm = admin(&h);
        let created = t
            .create(
                &adm,
                &new(
                    "staff",
                    json!({"loginShell": "/bin/zsh", "homeDirectory": "/home/{{uid}}"}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(created.name, "staff");
        assert_eq!(
            created.dn.to_string(),
            "heraclesTemplateName=staff,ou=templates,ou=heracles,dc=example,dc=com"
        );
        assert_eq!(created.defaults["loginShell"], "/bin/zsh");
        // Stored as JSON where ldapsearch sees it.
        let e = h.directory().get(&created.dn, &[]).await.unwrap().unwrap();
        let stored: Value = serde_json::from_str(e.first_str(DEFAULTS_ATTR).unwrap()).unwrap();
        assert_eq!(stored["homeDirectory"], "/home/{{uid}}");

        // Names are case-insensitive.
        let got = t.get(&adm, "STAFF").await.unwrap();
        assert_eq!(got, created);
        let e = t.create(&adm, &new("Staff", json!({}))).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlreadyExists);

        t.create(&adm, &new("contractors", json!({"loginShell": "/bin/sh"})))
            .await
            .unwrap();
        let mut plain = new("interns", json!({}));
        plain.description = None;
        t.create(&adm, &plain).await.unwrap();
        let page = t.list(&adm, &ListQuery::default()).await.unwrap();
        let names: Vec<_> = page.data.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["contractors", "interns", "staff"]);
        assert_eq!(page.pagination.total, 3);
        let page = t
            .list(
                &adm,
                &ListQuery::default()
                    .filter("name:starts:st")
                    .page(PageRequest::new(10, 0).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(page.data.len(), 1);
        let page = t
            .list(
                &adm,
                &ListQuery::default()
                    .filter("description:present")
                    .sort("-name"),
            )
            .await
            .unwrap();
        let names: Vec<_> = page.data.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["staff", "contractors"]);
        let e = t
            .list(&adm, &ListQuery::default().filter("loginShell:eq:x"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidFilter);

        // Update: only the fields given; null removes.
        let up: TemplateUpdate = serde_json::from_value(json!({"description": null})).unwrap();
        let updated = t.update(&adm, "staff", &up).await.unwrap();
        assert_eq!(updated.description, None);
        assert_eq!(updated.defaults, created.defaults);
        let up: TemplateUpdate =
            serde_json::from_value(json!({"defaults": {"gidNumber": 100}})).unwrap();
        let updated = t.update(&adm, "staff", &up).await.unwrap();
        assert_eq!(Value::Object(updated.defaults), json!({"gidNumber": 100}));
        let up: TemplateUpdate = serde_json::from_value(json!({"defaults": null})).unwrap();
        assert!(t
            .update(&adm, "staff", &up)
            .await
            .unwrap()
            .defaults
            .is_empty());
        let up: TemplateUpdate = serde_json::from_value(json!({"defaults": {"uid": "x"}})).unwrap();
        let e = t.update(&adm, "staff", &up).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);

        t.delete(&adm, "Staff").await.unwrap();
        let e = t.get(&adm, "staff").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::TemplateNotFound);
        assert_eq!(e.details()["name"], "staff");
    }

    #[tokio::test]
    async fn not_found_and_invalid() {
        let (_dir, h) = fixture();
        let t = h.templates();
        let adm = admin(&h);
        for e in [
            t.get(&adm, "nope").await.unwrap_err(),
            t.get(&adm, "").await.unwrap_err(),
            t.update(&adm, "nope", &TemplateUpdate::default())
                .await
                .unwrap_err(),
            t.delete(&adm, "nope").await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::TemplateNotFound);
        }
        for body in [
            new("bad name", json!({})),
            new("", json!({})),
            new("ok", json!({"homeDirectory": "/home/{{login}}"})),
            new("ok", json!({"loginShell": 5, "x": {"y": 1}})),
            NewTemplate {
                description: Some(String::new()),
                ..new("ok", json!({}))
            },
        ] {
            let e = t.create(&adm, &body).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{body:?}");
        }
        assert_eq!(
            t.list(&adm, &ListQuery::default())
                .await
                .unwrap()
                .data
                .len(),
            0
        );
    }

    #[tokio::test]
    async fn apply_through_the_service() {
        let (_dir, h) = fixture();
        let t = h.templates();
        let adm = admin(&h);
        t.create(
            &adm,
            &new(
                "staff",
                json!({"homeDirectory": "/home/{{uid}}", "mail": "{{givenName}}.{{sn}}@example.com"}),
            ),
        )
        .await
        .unwrap();
        let tpl = t.get(&adm, "staff").await.unwrap();
        let out = t
            .apply(
                &tpl,
                &obj(json!({"uid": "jdoe", "givenName": "john", "sn": "doe", "cn": "John Doe"})),
            )
            .unwrap();
        assert_eq!(out["homeDirectory"], "/home/jdoe");
        assert_eq!(out["mail"], "john.doe@example.com");
        let e = t.apply(&tpl, &obj(json!({"uid": "jdoe"}))).unwrap_err();
        assert_eq!(e.details()["field"], "mail");
        assert_eq!(e.details()["reason"], "missing_field");
    }
}
