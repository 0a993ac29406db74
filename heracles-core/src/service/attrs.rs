//! Converting between JSON fields (API bodies and answers) and LDAP attribute values, with
//! the schema deciding what an object type may hold.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::directory::Entry;
use crate::error::{Error, ErrorCode, Result};
use crate::schema::{AttributeType, Schema};

/// Attributes always shown as a single value (the first), though the schema allows more.
const SCALAR: &[&str] = &[
    "uid",
    "cn",
    "sn",
    "givenName",
    "mail",
    "displayName",
    "title",
    "description",
    "telephoneNumber",
    "mobile",
    "ou",
    "o",
    "l",
    "st",
    "street",
    "postalCode",
    "postalAddress",
    "employeeNumber",
    "employeeType",
    "departmentNumber",
    "homeDirectory",
    "loginShell",
    "gecos",
    "labeledURI",
    "preferredLanguage",
    "initials",
    "roomNumber",
];

/// Attributes shown as numbers.
const NUMERIC: &[&str] = &[
    "uidNumber",
    "gidNumber",
    "shadowLastChange",
    "shadowMin",
    "shadowMax",
];

/// Never shown, never accepted through generic fields.
pub(crate) const SECRET: &[&str] = &["userPassword", "sambaNTPassword", "sambaLMPassword"];

/// The attributes (canonical names) the object classes allow, with their superclasses.
pub(crate) fn allowed_attributes(schema: &Schema, classes: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in classes {
        for at in schema.must(c).into_iter().chain(schema.may(c)) {
            out.insert(at.name().to_owned());
        }
    }
    out
}

/// The canonical name of `field` if the object type allows it.
pub(crate) fn resolve_field(
    schema: &Schema,
    allowed: &BTreeSet<String>,
    field: &str,
) -> Option<String> {
    let canon = schema.attribute(field)?.name().to_owned();
    allowed.contains(&canon).then_some(canon)
}

/// LDAP values of one JSON field value: a string, a number, a boolean, or an array of
/// those; `null` is `None` (remove). Anything else is a 400 naming the field.
pub(crate) fn values_of(field: &str, v: &Value) -> Result<Option<Vec<String>>> {
    let scalar = |v: &Value| -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(if *b { "TRUE" } else { "FALSE" }.to_owned()),
            _ => Err(Error::validation(
                field,
                format!("'{field}' must be a string, a number, a boolean or a list of them"),
            )),
        }
    };
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            let vals = items.iter().map(scalar).collect::<Result<Vec<_>>>()?;
            if vals.iter().any(String::is_empty) {
                return Err(Error::validation(
                    field,
                    format!("'{field}' has an empty value"),
                ));
            }
            Ok(Some(vals))
        }
        other => {
            let s = scalar(other)?;
            if s.is_empty() {
                return Err(Error::validation(
                    field,
                    format!("'{field}' is empty; use null to remove it"),
                ));
            }
            Ok(Some(vec![s]))
        }
    }
}

/// An unknown-field error (SPEC §1: unknown fields are a 400).
pub(crate) fn unknown_field(field: &str) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!("unknown field '{field}'"),
    )
    .with_detail("field", field)
}

/// The JSON value of the values of an attribute, shaped by the schema: numbers for numeric
/// attributes, a string for single-valued ones, a list otherwise. `def` is its type if the
/// schema knows it, `canon` its canonical name.
fn json_from(def: Option<&AttributeType>, canon: &str, values: &[Vec<u8>]) -> Option<Value> {
    let vals: Vec<&str> = values
        .iter()
        .filter_map(|v| std::str::from_utf8(v).ok())
        .collect();
    if vals.is_empty() {
        return None;
    }
    if NUMERIC.iter().any(|n| n.eq_ignore_ascii_case(canon)) {
        return vals
            .first()
            .and_then(|v| v.parse::<i64>().ok())
            .map(Value::from);
    }
    let single = SCALAR.iter().any(|n| n.eq_ignore_ascii_case(canon))
        || def.is_some_and(AttributeType::is_single_value);
    if single {
        return vals.first().map(|v| Value::from(*v));
    }
    Some(Value::Array(vals.into_iter().map(Value::from).collect()))
}

/// Every user-visible attribute of an entry as JSON (skipping secrets, operational
/// attributes and the names in `skip`).
pub(crate) fn other_fields(schema: &Schema, entry: &Entry, skip: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for a in entry.attrs.iter() {
        let name = a.name();
        if skip.iter().any(|s| s.eq_ignore_ascii_case(name))
            || SECRET.iter().any(|s| s.eq_ignore_ascii_case(name))
        {
            continue;
        }
        // One schema look-up per attribute.
        let def = schema.attribute(name);
        if def.is_some_and(AttributeType::is_operational) {
            continue;
        }
        let canon = def.map_or(name, |a| a.name());
        if let Some(v) = json_from(def, canon, a.values()) {
            out.insert(canon.to_owned(), v);
        }
    }
    out
}

/// A string, a list of strings, or `null` (no values).
pub(crate) fn strings_of<E: serde::de::Error>(
    v: Value,
) -> std::result::Result<Option<Vec<String>>, E> {
    let bad = || E::custom("expected a string or a list of strings");
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(vec![s])),
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<std::result::Result<Vec<_>, E>>()
            .map(Some),
        _ => Err(bad()),
    }
}

/// A field holding one string or a list of strings (absent or `null`: none).
pub(crate) fn list<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(strings_of(Value::deserialize(d)?)?.unwrap_or_default())
}

/// [`list`] for updates: absent (`None`, through `#[serde(default)]`), `null` (`Some(None)`)
/// or one string or a list (`Some(Some(..))`).
#[allow(clippy::option_option)]
pub(crate) fn nullable_list<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<Vec<String>>>, D::Error> {
    Ok(Some(strings_of(Value::deserialize(d)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_become_ldap_values() {
        assert_eq!(
            values_of("cn", &json!("x")).unwrap(),
            Some(vec!["x".to_owned()])
        );
        assert_eq!(
            values_of("n", &json!(5)).unwrap(),
            Some(vec!["5".to_owned()])
        );
        assert_eq!(
            values_of("m", &json!(["a", "b"])).unwrap(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(values_of("m", &Value::Null).unwrap(), None);
        assert!(values_of("m", &json!({"a": 1})).is_err());
        assert!(values_of("m", &json!("")).is_err());
        assert!(values_of("m", &json!([""])).is_err());
    }
}
