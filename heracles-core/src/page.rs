//! Page requests and pages (SPEC §1).
//!
//! Every list takes a `limit` (1–1000, default 50) and an `offset` (≥ 0, default 0); anything
//! else is an `INVALID_PAGINATION` error. A [`Page`] serialises exactly as the SPEC's list
//! answer: `{"data": [...], "pagination": {"total", "limit", "offset", "has_more"}}`.
//!
//! ```
//! use heracles_core::page::{Page, PageRequest};
//!
//! let req = PageRequest::from_query(Some("20"), Some("40"))?;
//! let page = Page::new(vec!["a", "b"], 150, req);
//! let json = serde_json::to_value(&page).unwrap();
//! assert_eq!(json["pagination"]["has_more"], true);
//! assert!(PageRequest::new(0, 0).is_err());
//! # Ok::<(), heracles_core::error::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// A validated page request. Deserialising validates too (`{"limit": 0}` is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPageRequest")]
pub struct PageRequest {
    limit: u32,
    offset: u64,
}

/// The unchecked form a `PageRequest` is deserialised from.
#[derive(Deserialize)]
struct RawPageRequest {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    i64::from(PageRequest::DEFAULT_LIMIT)
}

impl TryFrom<RawPageRequest> for PageRequest {
    type Error = Error;

    fn try_from(raw: RawPageRequest) -> Result<Self> {
        PageRequest::new(raw.limit, raw.offset)
    }
}

impl PageRequest {
    /// Default page size.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 1000;

    /// A page request; `limit` must be 1–1000, `offset` ≥ 0.
    pub fn new(limit: i64, offset: i64) -> Result<Self> {
        let max = i64::from(Self::MAX_LIMIT);
        if !(1..=max).contains(&limit) {
            return Err(Error::new(
                ErrorCode::InvalidPagination,
                format!("limit must be between 1 and {max}, got {limit}"),
            )
            .with_detail("limit", limit));
        }
        if offset < 0 {
            return Err(Error::new(
                ErrorCode::InvalidPagination,
                format!("offset must be 0 or more, got {offset}"),
            )
            .with_detail("offset", offset));
        }
        // Both conversions are in range after the checks above.
        Ok(PageRequest {
            limit: u32::try_from(limit).unwrap_or(Self::DEFAULT_LIMIT),
            offset: u64::try_from(offset).unwrap_or(0),
        })
    }

    /// Parses the raw `limit` and `offset` query values (absent means the default).
    pub fn from_query(limit: Option<&str>, offset: Option<&str>) -> Result<Self> {
        fn num(name: &str, raw: Option<&str>, default: i64) -> Result<i64> {
            match raw {
                None => Ok(default),
                Some(s) => s.trim().parse::<i64>().map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidPagination,
                        format!("{name} must be an integer, got '{s}'"),
                    )
                    .with_detail(name, s)
                }),
            }
        }
        Self::new(
            num("limit", limit, i64::from(Self::DEFAULT_LIMIT))?,
            num("offset", offset, 0)?,
        )
    }

    /// Page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Number of matches skipped.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Applies the request to a full, already ordered list (used where the whole list is
    /// cheap to have, e.g. after a DN-only scan).
    pub fn slice<T>(&self, all: Vec<T>) -> Page<T> {
        let total = all.len() as u64;
        let data = all
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(self.limit as usize)
            .collect();
        Page::new(data, total, *self)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// The `pagination` object of a list answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// Number of matches in all pages (only those the caller may see).
    pub total: u64,
    /// Page size requested.
    pub limit: u32,
    /// Matches skipped.
    pub offset: u64,
    /// Whether matches follow this page.
    pub has_more: bool,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Where this page lies in the whole list.
    pub pagination: Pagination,
}

impl<T> Page<T> {
    /// A page of `data` out of `total` matches for `req`.
    pub fn new(data: Vec<T>, total: u64, req: PageRequest) -> Self {
        let has_more = req.offset.saturating_add(data.len() as u64) < total;
        Page {
            data,
            pagination: Pagination {
                total,
                limit: req.limit,
                offset: req.offset,
                has_more,
            },
        }
    }

    /// Converts every item, keeping the pagination.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            pagination: self.pagination,
        }
    }
}

/// Keeps only the requested fields of an answer object (a list's `attributes`), plus its
/// `dn`: what every front shows of a listed object. Names match case-insensitively;
/// `aliases` maps a list field to the answer field that shows it (`member` → `members`).
/// Fields the object does not have are left out; without `fields` the object is unchanged.
///
/// ```
/// use heracles_core::page::project;
/// use serde_json::json;
///
/// let user = json!({"dn": "uid=jdoe,dc=example,dc=com", "uid": "jdoe", "mail": "j@example.com"});
/// let fields = ["MAIL".to_owned()];
/// assert_eq!(
///     project(user, Some(&fields), &[]),
///     json!({"dn": "uid=jdoe,dc=example,dc=com", "mail": "j@example.com"})
/// );
/// ```
pub fn project(value: Value, fields: Option<&[String]>, aliases: &[(&str, &str)]) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &value) else {
        return value;
    };
    let wanted: Vec<&str> = fields
        .iter()
        .map(|f| {
            aliases
                .iter()
                .find(|(from, _)| from.eq_ignore_ascii_case(f))
                .map_or(f.as_str(), |(_, to)| *to)
        })
        .collect();
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| k.as_str() == "dn" || wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(PageRequest::new(1, 0).is_ok());
        assert!(PageRequest::new(1000, 5).is_ok());
        for (l, o) in [(0, 0), (1001, 0), (-1, 0), (10, -1), (i64::MAX, 0)] {
            let e = PageRequest::new(l, o).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidPagination, "{l} {o}");
        }
        let d = PageRequest::from_query(None, None).unwrap();
        assert_eq!((d.limit(), d.offset()), (50, 0));
        for bad in ["abc", "", "1.5", "99999999999999999999999"] {
            assert!(PageRequest::from_query(Some(bad), None).is_err(), "{bad}");
            assert!(PageRequest::from_query(None, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn deserialising_validates() {
        let ok: PageRequest = serde_json::from_str(r#"{"limit": 20, "offset": 40}"#).unwrap();
        assert_eq!((ok.limit(), ok.offset()), (20, 40));
        let dflt: PageRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(dflt, PageRequest::default());
        for bad in [
            r#"{"limit": 0}"#,
            r#"{"limit": 100000}"#,
            r#"{"offset": -1}"#,
        ] {
            assert!(serde_json::from_str::<PageRequest>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serialises_as_spec() {
        let req = PageRequest::new(20, 40).unwrap();
        let page = Page::new(vec![1, 2], 150, req);
        let v = serde_json::to_value(&page).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"data": [1, 2], "pagination":
                {"total": 150, "limit": 20, "offset": 40, "has_more": true}})
        );
        let last = Page::new(vec![1], 41, req);
        assert!(!last.pagination.has_more);
    }

    #[test]
    fn slice_applies_offset_and_limit() {
        let req = PageRequest::new(2, 3).unwrap();
        let p = req.slice((0..6).collect());
        assert_eq!(p.data, vec![3, 4]);
        assert_eq!(p.pagination.total, 6);
        assert!(p.pagination.has_more);
        let past = PageRequest::new(2, 10)
            .unwrap()
            .slice((0..6).collect::<Vec<_>>());
        assert!(past.data.is_empty());
        assert!(!past.pagination.has_more);
    }
}
