//! `/api/v1/settings`: list, get, set, reset (SPEC §3).
//!
//! The list is small and fixed (one entry per known key), so `filter=`, `sort=`,
//! `attributes=` and paging are applied here over the answers, with the same syntax and
//! errors as every other list. Its fields are `key`, `value`, `default` and `description`;
//! text comparisons ignore case (like the directory's `caseIgnoreMatch`), `value` compares
//! its JSON text (strings without quotes). Without `sort`, settings are ordered by key.
//!
//! `DELETE /settings/{key}` resets the setting to its default and answers 204, like every
//! DELETE (SPEC §1); a `GET` then shows the default.

use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::filter::{Clause, Op, MAX_CLAUSES};
use heracles_core::service::settings::{SettingUpdate, SettingValue};
use heracles_core::service::{Heracles, Principal};
use http::header::IF_MATCH;
use http::HeaderMap;
use serde_json::{json, Value};

use crate::reply::{etag_of, page_reply, Reply};
use crate::request::{check_if_match, Ctx};
use crate::router::{with_principal, HandlerFuture};

/// The fields of a setting answer.
const FIELDS: &[&str] = &["key", "value", "default", "description"];

/// `GET /api/v1/settings`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_settings)
}

/// `GET /api/v1/settings/{key}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_setting)
}

/// `PUT /api/v1/settings/{key}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, set_setting)
}

/// `DELETE /api/v1/settings/{key}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, reset_setting)
}

fn answer(setting: &SettingValue) -> Result<Reply> {
    Ok(Reply::ok(setting)?.with_etag(&etag_of(setting)?))
}

/// The field name as written in [`FIELDS`], if it is one (ignoring case).
fn known(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .copied()
        .find(|f| f.eq_ignore_ascii_case(name))
}

fn unknown_field(name: &str, param: &str) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!(
            "'{name}' is not a field of this object type (allowed: {})",
            FIELDS.join(", ")
        ),
    )
    .with_detail("field", param)
    .with_detail("value", name)
}

/// The text of a field, as filters and sorting see it.
fn text(s: &SettingValue, field: &str) -> String {
    match field {
        "key" => s.key.clone(),
        "description" => s.description.clone(),
        "default" => s.default.to_string(),
        _ => match &s.value {
            Value::String(v) => v.clone(),
            other => other.to_string(),
        },
    }
}

/// One parsed `filter=` clause.
struct Matcher {
    field: &'static str,
    op: Op,
    value: String,
}

impl Matcher {
    fn matches(&self, s: &SettingValue) -> bool {
        if self.op == Op::Present {
            return !(self.field == "value" && s.value.is_null());
        }
        let have = text(s, self.field).to_lowercase();
        let want = self.value.as_str();
        match self.op {
            Op::Eq => have == want,
            Op::Contains => have.contains(want),
            Op::Starts => have.starts_with(want),
            Op::Ends => have.ends_with(want),
            Op::Present => true,
        }
    }
}

fn matchers(clauses: &[String]) -> Result<Vec<Matcher>> {
    if clauses.len() > MAX_CLAUSES {
        return Err(Error::new(
            ErrorCode::InvalidFilter,
            format!("at most {MAX_CLAUSES} filter clauses are allowed"),
        )
        .with_detail("max_clauses", MAX_CLAUSES));
    }
    let mut out = Vec::with_capacity(clauses.len());
    for (i, raw) in clauses.iter().enumerate() {
        let c = Clause::parse(raw).map_err(|e| e.with_detail("index", i))?;
        let Some(field) = known(c.attr) else {
            return Err(Error::new(
                ErrorCode::InvalidFilter,
                format!(
                    "invalid filter clause {i} '{raw}': unknown attribute '{}': allowed are {}",
                    c.attr,
                    FIELDS.join(", ")
                ),
            )
            .with_detail("clause", raw.as_str())
            .with_detail("index", i)
            .with_detail("allowed", FIELDS));
        };
        out.push(Matcher {
            field,
            op: c.op,
            value: c.value.unwrap_or_default().to_lowercase(),
        });
    }
    Ok(out)
}

async fn list_settings(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let filters = matchers(&q.filters)?;
    let (sort_field, descending) = match q.sort.as_deref() {
        None => ("key", false),
        Some(s) => {
            let (name, descending) = match s.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (s.strip_prefix('+').unwrap_or(s), false),
            };
            (
                known(name).ok_or_else(|| unknown_field(name, "sort"))?,
                descending,
            )
        }
    };
    if let Some(attrs) = &q.attributes {
        for a in attrs {
            known(a).ok_or_else(|| unknown_field(a, "attributes"))?;
        }
    }
    let mut all: Vec<SettingValue> = ctx
        .state()
        .heracles()
        .settings()
        .list(&p)
        .await?
        .into_iter()
        .filter(|s| filters.iter().all(|m| m.matches(s)))
        .collect();
    all.sort_by(|a, b| {
        let order = text(a, sort_field)
            .to_lowercase()
            .cmp(&text(b, sort_field).to_lowercase())
            .then_with(|| a.key.cmp(&b.key));
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    let page = q.page.slice(all);
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn get_setting(ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?;
    let s = ctx.state().heracles().settings().get(&p, key).await?;
    answer(&s)
}

async fn precondition(h: &Heracles, headers: &HeaderMap, p: &Principal, key: &str) -> Result<()> {
    if headers.contains_key(IF_MATCH) {
        let current = h.settings().get(p, key).await?;
        check_if_match(headers, &etag_of(&current)?)?;
    }
    Ok(())
}

async fn set_setting(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?.to_owned();
    let body: SettingUpdate = ctx.json().await?;
    precondition(ctx.state().heracles(), ctx.headers(), &p, &key).await?;
    let s = ctx
        .state()
        .heracles()
        .settings()
        .set(&p, &key, body.value)
        .await?;
    answer(&s)
}

async fn reset_setting(ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?;
    precondition(ctx.state().heracles(), ctx.headers(), &p, key).await?;
    ctx.state().heracles().settings().reset(&p, key).await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Setting",
            json!({
                "type": "object",
                "required": ["key", "value", "default", "description"],
                "properties": {
                    "key": {"type": "string", "example": "uid_range"},
                    "value": {"description": "The value in force (typed per key).",
                              "example": {"min": 10000, "max": 60000}},
                    "default": {"type": "boolean", "description": "Whether that is the default."},
                    "description": {"type": "string"}
                }
            }),
        ),
        ("SettingList", crate::openapi::page_schema("Setting")),
        (
            "SettingUpdate",
            json!({
                "type": "object",
                "required": ["value"],
                "properties": {"value": {"description": "The new value (validated per key)."}},
                "additionalProperties": false
            }),
        ),
    ]
}
