//! Reading the audit trail ([`Audit::list`], [`Audit::get`]) and retention
//! ([`Audit::purge`]).

use std::time::{Duration, SystemTime};

use super::time;
use super::{
    Audit, AuditEvent, ACTION, ACTOR, CHANGES, CLASS, CLIENT_ADDRESS, ID, OBJECT_TYPE, REQUEST_ID,
    RESULT, TARGET, TIMESTAMP,
};
use crate::acl::{Action, ObjectType, Permission};
use crate::directory::{Entry, Scope, SearchRequest, SortKey};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{compile, AllowList, AllowedAttribute, Clause, Filter, Op};
use crate::page::Page;
use crate::service::common::{field, list_entries_with, ListSpec};

const READ: Permission = Permission::new(ObjectType::Audit, Action::Read);
use crate::service::{ListQuery, Principal};

/// The event fields `filter=` may name, and their attributes.
const FILTER_FIELDS: &[(&str, &str)] = &[
    ("actor", ACTOR),
    ("action", ACTION),
    ("target", TARGET),
    ("object_type", OBJECT_TYPE),
    ("result", RESULT),
    ("request_id", REQUEST_ID),
];

/// The event fields `sort=` may name besides those, and their attributes.
const SORT_ONLY_FIELDS: &[(&str, &str)] = &[("timestamp", TIMESTAMP), ("id", ID)];

/// Every field of an event (what `attributes=` may name).
const ALL_FIELDS: &[&str] = &[
    "id",
    "timestamp",
    "actor",
    "action",
    "object_type",
    "target",
    "result",
    "request_id",
    "client_address",
    "changes",
];

/// Fields whose values are DNs: an `eq` value that parses as a DN is compared in the form
/// events are written in (`uid=a, ou=People` finds `uid=a,ou=People`).
const DN_FIELDS: &[&str] = &["actor", "target"];

fn allow(h: &crate::service::Heracles, fields: &[&[(&str, &str)]]) -> AllowList {
    AllowList::new(
        fields
            .iter()
            .flat_map(|f| f.iter())
            .map(|(field, ldap)| AllowedAttribute::new(*field, *ldap, h.schema().has_substr(ldap))),
    )
}

/// The clauses with DN values of `actor`/`target` `eq` clauses in the stored form.
fn normalise_clauses(clauses: &[String]) -> Vec<String> {
    clauses
        .iter()
        .map(|c| {
            let Ok(parsed) = Clause::parse(c) else {
                return c.clone(); // `compile` reports it
            };
            let is_dn_field = DN_FIELDS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(parsed.attr));
            match (is_dn_field, parsed.op, parsed.value.map(Dn::parse)) {
                (true, Op::Eq, Some(Ok(dn))) if !dn.is_root() => {
                    format!("{}:eq:{dn}", parsed.attr)
                }
                _ => c.clone(),
            }
        })
        .collect()
}

/// The event of a stored entry (lenient: an entry edited by hand still shows).
fn event_of(e: &Entry) -> AuditEvent {
    let s = |attr: &str| e.first_str(attr).unwrap_or_default().to_owned();
    let id = e
        .first_str(ID)
        .map(str::to_owned)
        .or_else(|| e.dn.rdn().map(|r| r.value().to_owned()))
        .unwrap_or_default();
    let timestamp = e.first_str(TIMESTAMP).map_or_else(String::new, |raw| {
        time::from_generalized(raw).map_or_else(|| raw.to_owned(), time::rfc3339)
    });
    let changes = match e.first_str(CHANGES) {
        None => Vec::new(),
        Some(json) => serde_json::from_str(json).unwrap_or_else(|err| {
            tracing::warn!(event = %id, error = %err, "audit: an event's changes are not valid JSON");
            Vec::new()
        }),
    };
    AuditEvent {
        timestamp,
        actor: s(ACTOR),
        action: s(ACTION),
        object_type: s(OBJECT_TYPE),
        target: s(TARGET),
        result: s(RESULT),
        request_id: s(REQUEST_ID),
        client_address: e.first_str(CLIENT_ADDRESS).map(str::to_owned),
        changes,
        id,
    }
}

fn is_missing_container(e: &Error) -> bool {
    e.code() == ErrorCode::EntryNotFound
}

impl Audit<'_> {
    fn require_read(self, p: &Principal) -> Result<Dn> {
        let container = self.container()?;
        p.check(READ, &container)?;
        Ok(container)
    }

    /// One page of events, newest first unless `q.sort` says otherwise.
    ///
    /// - `q.filters`: `attr:op:value` clauses (SPEC §1) on the fields `actor`, `action`,
    ///   `target`, `object_type`, `result`, `request_id` (all text with a substring rule, so
    ///   every operator works; `eq` ignores case, and an `eq` value of `actor` or `target`
    ///   that is a DN matches however it is spaced).
    /// - `from`, `to`: only events from / until these times, both included (to the
    ///   microsecond; parse the API's RFC 3339 text with [`super::parse_time`]). `from` after
    ///   `to` is `VALIDATION_FAILED`.
    /// - `q.sort`: one of the filter fields, `timestamp` or `id` (`-` for descending);
    ///   without it, by `timestamp` descending, then `id` descending.
    /// - `q.attributes`: must name event fields (`id`, `timestamp`, `actor`, `action`,
    ///   `object_type`, `target`, `result`, `request_id`, `client_address`, `changes`); the
    ///   fronts project the answer.
    ///
    /// Needs `audit:read` (`ACL_DENIED` otherwise).
    pub async fn list(
        &self,
        p: &Principal,
        q: &ListQuery,
        from: Option<SystemTime>,
        to: Option<SystemTime>,
    ) -> Result<Page<AuditEvent>> {
        let container = self.require_read(p)?;
        let from = from.map(time::ceil_micros);
        let to = to.map(time::floor_micros);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(Error::validation("from", "from must not be after to")
                    .with_detail("from", time::rfc3339(f))
                    .with_detail("to", time::rfc3339(t)));
            }
        }
        if let Some(attrs) = &q.attributes {
            let fields = AllowList::new(ALL_FIELDS.iter().map(|f| (*f, "cn", false)));
            for a in attrs {
                field(&fields, a, "attributes")?;
            }
        }
        let mut object = vec![Filter::eq("objectClass", CLASS)];
        if let Some(f) = from {
            object.push(Filter::ge(TIMESTAMP, time::generalized(f)));
        }
        if let Some(t) = to {
            object.push(Filter::le(TIMESTAMP, time::generalized(t)));
        }
        let filter_allow = allow(self.h, &[FILTER_FIELDS]);
        let sort_allow = allow(self.h, &[FILTER_FIELDS, SORT_ONLY_FIELDS]);
        let spec = ListSpec {
            filter_allow: &filter_allow,
            field_allow: &sort_allow,
            default_sort: vec![SortKey::desc(TIMESTAMP), SortKey::desc(ID)],
            fetch: &[ID],
        };
        let query = ListQuery {
            filters: normalise_clauses(&q.filters),
            page: q.page,
            sort: q.sort.clone(),
            attributes: None,
        };
        let ids = match list_entries_with(
            self.h,
            (p, READ),
            &container,
            Filter::and(object),
            &spec,
            &query,
        )
        .await
        {
            Ok(page) => page,
            // No `ou=audit` yet: no events. The filters were checked by then.
            Err(e) if is_missing_container(&e) => {
                compile(&query.filters, &filter_allow)?;
                return Ok(q.page.slice(Vec::new()));
            }
            Err(e) => return Err(e),
        };
        // The page's events, read whole in one search, in the page's order.
        let wanted: Vec<String> = ids
            .data
            .iter()
            .filter_map(|e| e.first_str(ID).map(str::to_owned))
            .collect();
        let mut found = if wanted.is_empty() {
            Vec::new()
        } else {
            self.h
                .directory()
                .search(&SearchRequest::new(
                    container,
                    Scope::One,
                    Filter::and([
                        Filter::eq("objectClass", CLASS),
                        Filter::or(wanted.iter().map(|id| Filter::eq(ID, id))),
                    ]),
                ))
                .await?
        };
        let mut data = Vec::with_capacity(wanted.len());
        for id in &wanted {
            // An event purged meanwhile is left out.
            if let Some(pos) = found
                .iter()
                .position(|e| e.first_str(ID).is_some_and(|v| v.eq_ignore_ascii_case(id)))
            {
                data.push(event_of(&found.swap_remove(pos)));
            }
        }
        Ok(Page::new(data, ids.pagination.total, q.page))
    }

    /// One event by id (`NOT_FOUND` if there is none). Needs `audit:read`.
    pub async fn get(&self, p: &Principal, id: &str) -> Result<AuditEvent> {
        self.require_read(p)?;
        let not_found = || {
            Error::new(
                ErrorCode::NotFound,
                format!("no audit event '{}'", crate::directory::truncate(id, 80)),
            )
            .with_detail("id", crate::directory::truncate(id, 80))
        };
        let Ok(dn) = self.dn(id) else {
            return Err(not_found());
        };
        match self.h.directory().get(&dn, &[]).await? {
            Some(e) if e.has_value("objectClass", CLASS) => Ok(event_of(&e)),
            _ => Err(not_found()),
        }
    }

    /// Deletes the events older than the retention (setting `audit_retention_days`) at
    /// `now`: those whose timestamp is before `now` minus that many days. Answers how many
    /// were deleted. An internal operation (no principal): the fronts run it on a schedule.
    pub async fn purge(&self, now: SystemTime) -> Result<usize> {
        self.purge_matching(now, &[]).await
    }

    /// [`Audit::purge`] limited to the expired events that also match `clauses`
    /// (`attr:op:value` as in [`Audit::list`]) — e.g. only one client's events, or in tests
    /// on a shared directory only their own.
    pub async fn purge_matching(&self, now: SystemTime, clauses: &[String]) -> Result<usize> {
        let days = self.h.settings().effective().await?.audit_retention_days;
        let cutoff = now
            .checked_sub(Duration::from_secs(u64::from(days) * 86_400))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        self.delete_before(cutoff, clauses).await
    }

    async fn delete_before(self, cutoff: SystemTime, clauses: &[String]) -> Result<usize> {
        let allow = allow(self.h, &[FILTER_FIELDS]);
        let mut filter = vec![
            Filter::eq("objectClass", CLASS),
            Filter::not(Filter::ge(
                TIMESTAMP,
                time::generalized(time::ceil_micros(cutoff)),
            )),
        ];
        if let Some(f) = compile(normalise_clauses(clauses), &allow)? {
            filter.push(f);
        }
        let req = SearchRequest::new(self.container()?, Scope::One, Filter::and(filter))
            .attributes(["1.1"]);
        let found = match self.h.directory().search(&req).await {
            Ok(f) => f,
            Err(e) if is_missing_container(&e) => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for e in found {
            match self.h.directory().delete(&e.dn).await {
                Ok(()) => n += 1,
                // Purged by another instance meanwhile.
                Err(err) if err.code() == ErrorCode::EntryNotFound => {}
                Err(err) => return Err(err),
            }
        }
        if n > 0 {
            tracing::info!(events = n, "audit: deleted events past the retention");
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_values_are_normalised() {
        let c = normalise_clauses(&[
            "actor:eq:uid=a, ou=People,dc=x".into(),
            "target:contains:uid=a, ou".into(),
            "action:eq:a=b".into(),
            "actor:eq:not a dn".into(),
            "broken".into(),
        ]);
        assert_eq!(
            c,
            [
                "actor:eq:uid=a,ou=People,dc=x",
                "target:contains:uid=a, ou",
                "action:eq:a=b",
                "actor:eq:not a dn",
                "broken"
            ]
        );
    }

    #[test]
    fn the_allow_lists_are_valid() {
        let lists = [
            AllowList::new(FILTER_FIELDS.iter().map(|(f, l)| (*f, *l, true))),
            AllowList::new(SORT_ONLY_FIELDS.iter().map(|(f, l)| (*f, *l, false))),
        ];
        for l in lists {
            l.validate().unwrap();
        }
    }
}
