//! Sorted windows, change markers and batched reads on an LDAP server: what the lists need
//! so that a deep page costs what page 1 costs and a total costs no attribute.
//!
//! - The root DSE is read once (`supportedControl`, `namingContexts`); a server that
//!   advertises both the server-side sort (RFC 2891) and the virtual list view controls
//!   answers [`Directory::search_window`] with them, one search per page. Any other server,
//!   or a sort/VLV refusal (unknown ordering rule, `olcSssVlvMax` contexts busy, ...),
//!   gets the scan of DNs and sort keys ([`scan_window`]).
//! - The change marker is the `contextCSN` of the naming context holding the base (kept
//!   by the syncprov overlay): it changes with every write to that database.
//! - [`Directory::fetch`] of a page reads its entries with one search — an OR of the RDN
//!   equalities below their common ancestor — instead of one read per entry.

use std::collections::HashMap;

use ldap3::controls::RawControl;
use tokio::sync::OnceCell;
use tokio::time::{timeout, timeout_at};

use super::controls::{
    decode_sort_response, decode_vlv_response, sort_request, SortKeySpec, VlvRequest,
    SORT_REQUEST_OID, SORT_RESPONSE_OID, VLV_REQUEST_OID, VLV_RESPONSE_OID,
};
use super::convert::{entry_from_result, map_error};
use super::{ldap_scope, watch, LdapDirectory, OpError};
use crate::directory::sort::ordering_rule;
use crate::directory::{
    check_attribute_name, scan_window, Directory, Entry, Marker, Scope, SearchRequest, Window,
};
use crate::dn::Dn;
use crate::error::{Error, LdapOperation, Result};
use crate::filter::Filter;
use crate::schema::Schema;

/// The result code of a refused VLV request (draft-ietf-ldapext-ldapv3-vlv-09).
const VLV_ERROR: u32 = 76;
/// The VLV response's result for a target past the end of the list: offsetRangeError (61)
/// in the draft; OpenLDAP's `LDAP_VLV_RANGE_ERROR` is 77.
const OFFSET_RANGE_ERRORS: [u32; 2] = [61, 77];

/// Most entries [`Directory::fetch`] reads with one search.
const FETCH_CHUNK: usize = 500;

/// What the root DSE says about the server, read once.
#[derive(Debug, Default)]
pub(super) struct ServerInfo {
    /// Both the sort and the VLV request controls are supported.
    pub(super) sorted_windows: bool,
    /// The naming contexts the server holds.
    pub(super) naming_contexts: Vec<Dn>,
    /// The content synchronization control is supported (change notifications).
    pub(super) sync: bool,
}

/// The root DSE, read on first use (a failed read is retried next time).
#[derive(Debug, Default)]
pub(super) struct RootDse(OnceCell<ServerInfo>);

impl RootDse {
    async fn get(&self, dir: &LdapDirectory) -> Result<&ServerInfo> {
        self.0
            .get_or_try_init(|| async {
                let req =
                    SearchRequest::new(Dn::root(), Scope::Base, Filter::present("objectClass"))
                        .attributes(["supportedControl", "namingContexts"]);
                let found = dir.search(&req).await?;
                let Some(dse) = found.first() else {
                    return Ok(ServerInfo::default());
                };
                let controls = dse.strs("supportedControl");
                let has = |oid: &str| controls.contains(&oid);
                Ok(ServerInfo {
                    sorted_windows: has(SORT_REQUEST_OID) && has(VLV_REQUEST_OID),
                    sync: has(watch::SYNC_REQUEST_OID),
                    naming_contexts: dse
                        .strs("namingContexts")
                        .iter()
                        .filter_map(|s| Dn::parse(s).ok())
                        .collect(),
                })
            })
            .await
    }
}

/// The sort control's keys for `req`, naming an ordering rule where the attribute has
/// none of its own (slapd's sssvlv refuses those otherwise).
fn sort_keys(schema: &Schema, req: &SearchRequest) -> Vec<SortKeySpec> {
    req.sort
        .iter()
        .map(|k| {
            let mut spec = SortKeySpec::new(&k.attr);
            if schema.effective_ordering(&k.attr).is_none() {
                spec = spec.ordering_rule(ordering_rule(schema, &k.attr).name());
            }
            if k.descending {
                spec = spec.reverse();
            }
            spec
        })
        .collect()
}

/// Why a sorted window came back unusable: the scan answers instead.
struct Refused(String);

impl LdapDirectory {
    /// Whether the server offers sorted windows (sort + VLV controls).
    pub async fn supports_sorted_windows(&self) -> Result<bool> {
        Ok(self.root_dse.get(self).await?.sorted_windows)
    }

    pub(super) async fn window(
        &self,
        req: &SearchRequest,
        offset: u64,
        limit: u32,
    ) -> Result<Window> {
        match self.sorted_window(req, offset, limit).await? {
            Some(w) => Ok(w),
            None => scan_window(self, req, offset, limit).await,
        }
    }

    /// [`Directory::search_window`] by the sort and VLV controls only: `None` when the
    /// server does not offer them or refused this request (the reason is logged at debug
    /// level), or when there is nothing to sort by.
    pub async fn sorted_window(
        &self,
        req: &SearchRequest,
        offset: u64,
        limit: u32,
    ) -> Result<Option<Window>> {
        for a in &req.attributes {
            check_attribute_name(a)?;
        }
        for k in &req.sort {
            check_attribute_name(&k.attr)?;
        }
        req.filter.validate()?;
        if limit == 0 || req.sort.is_empty() || !self.root_dse.get(self).await?.sorted_windows {
            return Ok(None);
        }
        match self.vlv_window(req, offset, limit).await? {
            Ok(w) => Ok(Some(w)),
            Err(Refused(why)) => {
                tracing::debug!(reason = %why, "sorted window refused; scanning instead");
                Ok(None)
            }
        }
    }

    /// One search with the sort and VLV controls.
    async fn vlv_window(
        &self,
        req: &SearchRequest,
        offset: u64,
        limit: u32,
    ) -> Result<Result<Window, Refused>> {
        let controls = vec![
            RawControl {
                ctype: SORT_REQUEST_OID.into(),
                crit: true,
                val: Some(sort_request(&sort_keys(&self.schema, req))),
            },
            RawControl {
                ctype: VLV_REQUEST_OID.into(),
                crit: true,
                val: Some(VlvRequest::page(offset, u64::from(limit)).encode()),
            },
        ];
        let base = req.base.to_string();
        let filter = req.filter.to_string();
        let scope = ldap_scope(req.scope);
        let attrs: Vec<&str> = if req.attributes.is_empty() {
            vec!["*"]
        } else {
            req.attributes.iter().map(String::as_str).collect()
        };
        // sssvlv keeps every VLV search's sorted list for its connection until the
        // connection closes (olcSssVlvMaxPerConn of them, then "busy"): the connection is
        // used once and closed.
        let limit_time = self.pool.config().operation_timeout;
        let deadline = tokio::time::Instant::now() + limit_time;
        let conn = self.pool.get_by(deadline, super::pool::Loan::Taken).await?;
        let mut ldap = conn.ldap.clone();
        let answer = timeout_at(deadline, async {
            let res = ldap
                .with_controls(controls)
                .search(&base, scope, &filter, attrs)
                .await;
            let (raw, res) = match res {
                Ok(ldap3::SearchResult(raw, res)) => (raw, res),
                Err(e) => return Err(OpError::Ldap(e)),
            };
            let mut entries = Vec::with_capacity(raw.len());
            for re in raw {
                entries.push(entry_from_result(re)?);
            }
            let mut sort = None;
            let mut vlv = None;
            for c in &res.ctrls {
                let raw = &c.1;
                match (raw.ctype.as_str(), raw.val.as_deref()) {
                    (SORT_RESPONSE_OID, Some(v)) => sort = Some(decode_sort_response(v)?),
                    (VLV_RESPONSE_OID, Some(v)) => vlv = Some(decode_vlv_response(v)?),
                    _ => {}
                }
            }
            Ok((entries, res.rc, res.text, sort, vlv))
        })
        .await;
        let _ = timeout(limit_time, ldap.unbind()).await;
        drop(conn);
        let (entries, rc, text, sort, vlv) = match answer {
            Ok(Ok(a)) => a,
            Ok(Err(OpError::Ldap(e))) => return Err(map_error(LdapOperation::Search, &base, e).0),
            Ok(Err(OpError::Heracles(e))) => return Err(e),
            Err(_) => return Err(Error::timeout(LdapOperation::Search, limit_time)),
        };
        match (rc, &vlv) {
            (0, _) => {}
            // Past the end: offsetRangeError, with the count.
            (VLV_ERROR, Some(v)) if OFFSET_RANGE_ERRORS.contains(&v.result) => {
                return Ok(Ok(Window {
                    entries: Vec::new(),
                    total: v.content_count,
                }))
            }
            (32, _) => {
                return Err(Error::from_ldap(LdapOperation::Search, 32, &base, &text));
            }
            _ => return Ok(Err(Refused(format!("result {rc}: {text}")))),
        }
        if let Some(s) = sort.filter(|s| s.result != 0) {
            return Ok(Err(Refused(format!("sort result {}", s.result))));
        }
        let Some(vlv) = vlv else {
            return Ok(Err(Refused("no VLV response".into())));
        };
        if vlv.result != 0 {
            return Ok(Err(Refused(format!("VLV result {}", vlv.result))));
        }
        let total = vlv.content_count;
        if offset >= total {
            // Past the end (an empty list): the page is empty.
            return Ok(Ok(Window {
                entries: Vec::new(),
                total,
            }));
        }
        if vlv.target_position != offset + 1 {
            return Ok(Err(Refused(format!(
                "VLV target position {} for offset {offset}",
                vlv.target_position
            ))));
        }
        Ok(Ok(Window { entries, total }))
    }

    pub(super) async fn marker(&self, base: &Dn) -> Result<Option<Marker>> {
        let info = self.root_dse.get(self).await?;
        let Some(context) = info
            .naming_contexts
            .iter()
            .filter(|c| base.is_descendant_or_self(c))
            .max_by_key(|c| c.len())
        else {
            return Ok(None);
        };
        let watch = info.sync.then(|| self.watches.of(context));
        if let Some(m) = watch.as_ref().and_then(|w| w.marker()) {
            return Ok(Some(m));
        }
        let Some(e) = self.get(context, &["contextCSN"]).await? else {
            return Ok(None);
        };
        let mut csns: Vec<String> = e
            .strs("contextCSN")
            .into_iter()
            .map(str::to_owned)
            .collect();
        if csns.is_empty() {
            return Ok(None);
        }
        csns.sort_unstable();
        if let Some(w) = watch.filter(|w| w.should_start()) {
            self.start_watch(context, csns.clone(), w).await;
        }
        Ok(Some(Marker::opaque(csns.join(" "))))
    }

    /// Opens a connection for the persistent search of `context` and spawns it (see
    /// `watch.rs`); a failure leaves the watch stopped, to be tried again later.
    async fn start_watch(&self, context: &Dn, csns: Vec<String>, w: std::sync::Arc<watch::Watch>) {
        match self.pool.open(&self.pool.config().bind).await {
            Ok(ldap) => {
                tokio::spawn(watch::run(ldap, context.to_string(), csns, w));
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot open the change watch's connection");
                w.stop();
            }
        }
    }

    /// Whether a change watch is live: list markers then cost no directory operation
    /// (see [`Directory::change_marker`]).
    pub fn watching_changes(&self) -> bool {
        self.watches.any_live()
    }

    pub(super) async fn fetch_many(&self, dns: &[Dn], attributes: &[String]) -> Result<Vec<Entry>> {
        let mut out = Vec::with_capacity(dns.len());
        for chunk in dns.chunks(FETCH_CHUNK) {
            if let Some(found) = self.fetch_chunk(chunk, attributes).await? {
                out.extend(found);
            } else {
                let attrs: Vec<&str> = attributes.iter().map(String::as_str).collect();
                for dn in chunk {
                    if let Some(e) = self.get(dn, &attrs).await? {
                        out.push(e);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One search for the chunk, when its DNs share an RDN attribute and an ancestor below
    /// the root; `None` otherwise.
    async fn fetch_chunk(&self, dns: &[Dn], attributes: &[String]) -> Result<Option<Vec<Entry>>> {
        let Some(first) = dns.first() else {
            return Ok(Some(Vec::new()));
        };
        let Some(attr) = first.rdn().map(|r| r.attr().to_ascii_lowercase()) else {
            return Ok(None);
        };
        let mut ancestor = first.parent().unwrap_or_else(Dn::root);
        let mut clauses = Vec::with_capacity(dns.len());
        for dn in dns {
            let Some(rdn) = dn.rdn().filter(|r| !r.is_multi_valued()) else {
                return Ok(None);
            };
            if !rdn.attr().eq_ignore_ascii_case(&attr) {
                return Ok(None);
            }
            while !dn.is_descendant_of(&ancestor) {
                match ancestor.parent() {
                    Some(p) => ancestor = p,
                    None => return Ok(None),
                }
            }
            clauses.push(Filter::eq(rdn.attr(), rdn.value()));
        }
        if ancestor.is_root() {
            return Ok(None);
        }
        // At most one entry per DN is wanted: a plain search with that size limit (no
        // paged-results control, which costs both sides a little on every page).
        let mut req =
            SearchRequest::new(ancestor, Scope::Subtree, Filter::or(clauses)).size_limit(dns.len());
        req.attributes = attributes.to_vec();
        let found = self.search(&req).await?;
        let full = found.len() >= dns.len();
        let mut by_dn: HashMap<Dn, Entry> = found.into_iter().map(|e| (e.dn.clone(), e)).collect();
        if full && dns.iter().any(|dn| !by_dn.contains_key(dn)) {
            // The limit was reached without some DN: other entries below the ancestor with
            // the same RDN may have taken its place. Read every match.
            req.size_limit = None;
            by_dn = self
                .search(&req)
                .await?
                .into_iter()
                .map(|e| (e.dn.clone(), e))
                .collect();
        }
        Ok(Some(dns.iter().filter_map(|dn| by_dn.remove(dn)).collect()))
    }
}
