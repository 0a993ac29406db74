//! Atomic allocation of uidNumber / gidNumber values.
//!
//! The next free number lives in the counter entry `cn=counters,ou=heracles` (attributes
//! `heraclesNextUidNumber`, `heraclesNextGidNumber`, both SINGLE-VALUE). Claiming number `n`
//! is one modify that deletes the value `n` and adds `n + 1`: if another instance claimed
//! it first, the delete fails (noSuchAttribute) and the whole modify is rejected, so two
//! claimants never get the same number — on slapd and on the embedded directory alike.
//! Numbers already used by entries written outside Heracles are skipped.
//!
//! Within one instance, allocations of one kind take turns (an async mutex): concurrent
//! creations then queue instead of colliding on the counter and retrying with back-off,
//! which under load cost far more than the wait. The compare-and-swap still settles races
//! between instances.

use std::time::Duration;

use super::{Container, Heracles};
use crate::directory::{Modification, Scope, SearchRequest};
use crate::dn::Rdn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;

/// Which number to allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// uidNumber of users.
    Uid,
    /// gidNumber of groups.
    Gid,
}

impl IdKind {
    fn counter(self) -> &'static str {
        match self {
            IdKind::Uid => "heraclesNextUidNumber",
            IdKind::Gid => "heraclesNextGidNumber",
        }
    }

    /// Its position in per-kind tables.
    pub(crate) fn index(self) -> usize {
        match self {
            IdKind::Uid => 0,
            IdKind::Gid => 1,
        }
    }

    fn attr(self) -> &'static str {
        match self {
            IdKind::Uid => "uidNumber",
            IdKind::Gid => "gidNumber",
        }
    }
}

const MAX_ATTEMPTS: u32 = 64;

/// Allocates the next free number of `kind` in `[min, max]`.
pub(crate) async fn allocate(h: &Heracles, kind: IdKind, min: u32, max: u32) -> Result<u32> {
    let counters = h
        .container(Container::Heracles)?
        .child(Rdn::new("cn", "counters")?);
    let dir = h.directory();
    let _turn = h.id_turn(kind).lock().await;
    for attempt in 0..MAX_ATTEMPTS {
        let entry = dir
            .get(&counters, &[kind.counter()])
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Internal,
                    format!("the counter entry '{counters}' is missing (run the bootstrap)"),
                )
            })?;
        let stored: Option<u32> = entry.first_str(kind.counter()).and_then(|s| s.parse().ok());
        let mut candidate = stored.unwrap_or(min).max(min);
        // Skip numbers taken by entries Heracles did not create.
        loop {
            if candidate > max {
                return Err(Error::new(
                    ErrorCode::BusinessRuleViolation,
                    format!("the {} range {min}-{max} is exhausted", kind.attr()),
                )
                .with_detail("attribute", kind.attr())
                .with_detail("min", min)
                .with_detail("max", max));
            }
            let used = dir
                .search(
                    &SearchRequest::new(
                        h.base().clone(),
                        Scope::Subtree,
                        Filter::eq(kind.attr(), candidate.to_string()),
                    )
                    .attributes(["1.1"])
                    .size_limit(1),
                )
                .await?;
            if used.is_empty() {
                break;
            }
            candidate += 1;
        }
        let next = candidate.saturating_add(1).to_string();
        let mut change = Vec::with_capacity(2);
        if let Some(old) = stored {
            change.push(Modification::delete(kind.counter(), [old.to_string()]));
        }
        change.push(Modification::add(kind.counter(), [next]));
        match dir.modify(&counters, &change).await {
            Ok(()) => return Ok(candidate),
            // Someone else moved the counter first: read it again.
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::NoSuchAttribute
                        | ErrorCode::ConstraintViolation
                        | ErrorCode::ValueAlreadyExists
                ) =>
            {
                let backoff = u64::from(attempt % 8) * 3 + 1;
                tokio::time::sleep(Duration::from_millis(backoff)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorCode::Timeout,
        format!(
            "could not allocate a {} after {MAX_ATTEMPTS} attempts (contention)",
            kind.attr()
        ),
    ))
}
