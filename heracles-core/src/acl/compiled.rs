//! A principal's compiled ACL: every assignment that applies to it, flattened into a
//! table that answers "may it do `object:action` on this DN?" without allocating.
//!
//! ## The decision
//!
//! Among the rules (assignment × policy) whose scope contains the target and whose policy
//! has the permission, the most specific scope decides: an entry (or self) scope beats a
//! deeper subtree, which beats a shallower subtree, which beats the whole tree. At equal
//! specificity deny wins. No rule: denied.
//!
//! Attribute rules come from the allowing rules that are more specific than every denying
//! one: an attribute may be read (written) if any of their policies lets it be.
//!
//! ## The fast path
//!
//! Rules with the same scope are merged into one level holding two permission sets (allow
//! and deny). Entry and subtree levels sit in an open-addressing table keyed by the scope's
//! depth and a hash of its most specific RDN; two 64-bit masks say at which depths there
//! are levels at all. A check hashes only the target's RDNs at those depths (deepest
//! first), confirms a hit by comparing the parsed, normalised RDNs (never strings), and
//! stops at the first level that mentions the permission. Scopes deeper than 63 RDNs
//! (which no real tree has) switch the ACL to a plain scan.

use std::sync::Arc;

use serde::Serialize;

use super::assignment::{Assignment, ScopeType, SubjectType};
use super::permission::{Action, ObjectType, PermSet, Permission};
use super::policy::{AttrAccess, Policy};
use crate::dn::{Dn, Rdn};

/// Where a rule applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleScope {
    /// Everywhere.
    Tree,
    /// The DN and everything below it.
    Subtree(Dn),
    /// The DN only.
    Entry(Dn),
}

impl RuleScope {
    /// Whether `target` is in the scope.
    pub fn contains(&self, target: &Dn) -> bool {
        match self {
            RuleScope::Tree => true,
            RuleScope::Subtree(base) => target.is_descendant_or_self(base),
            RuleScope::Entry(dn) => target == dn,
        }
    }

    /// Specificity: tree 0, a subtree of depth k 2k, an entry of depth d 2d+1.
    pub fn specificity(&self) -> usize {
        match self {
            RuleScope::Tree => 0,
            RuleScope::Subtree(d) => 2 * d.len(),
            RuleScope::Entry(d) => 2 * d.len() + 1,
        }
    }

    /// `tree`, `subtree:<dn>`, `entry:<dn>`.
    pub fn describe(&self) -> String {
        match self {
            RuleScope::Tree => "tree".to_owned(),
            RuleScope::Subtree(d) => format!("subtree:{d}"),
            RuleScope::Entry(d) => format!("entry:{d}"),
        }
    }
}

/// One assignment (or the implicit `self`) of a compiled ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The policy's permissions.
    pub perms: PermSet,
    /// Denies instead of granting.
    pub deny: bool,
    /// Where.
    pub scope: RuleScope,
    /// Index of the policy in [`CompiledAcl::policies`].
    pub policy: usize,
    /// The assignment's id; `None` for the implicit `self`.
    pub assignment: Option<String>,
}

/// Why a permission was granted (for `GET /acl/permissions/{uid}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// `object:action`.
    pub permission: Permission,
    /// The policy's name.
    pub policy: String,
    /// The assignment's id (`self` for the implicit one).
    pub assignment: String,
    /// `tree`, `subtree:<dn>` or `entry:<dn>`.
    pub scope: String,
    /// A denial rather than a grant.
    pub deny: bool,
}

/// The outcome of a check, with the rule that decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allowed or not.
    pub allowed: bool,
    /// In words: which assignment and policy decided, or that none applies.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Entry,
    Subtree,
}

#[derive(Debug, Clone)]
struct Level {
    key: u64,
    kind: Kind,
    dn: Dn,
    allow: PermSet,
    deny: PermSet,
}

/// A hash of an RDN's normalised AVAs, independent of their order (the AVAs' own
/// fingerprints, computed when the DN was parsed).
#[inline]
fn rdn_hash(rdn: &Rdn) -> u64 {
    rdn.avas()
        .iter()
        .fold(0u64, |acc, a| acc.wrapping_add(a.fingerprint()))
}

/// RDN-by-RDN equality, with a shortcut for the usual single-valued RDNs.
#[inline]
fn same_rdns(a: &[Rdn], b: &[Rdn]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x.avas(), y.avas()) {
            ([p], [q]) => p == q,
            _ => x == y,
        })
}

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// The first slot of `key` in a table of `mask + 1` slots (the low bits of the key).
#[inline]
#[allow(clippy::cast_possible_truncation)] // only the low bits are wanted
fn slot(key: u64, mask: usize) -> usize {
    (key as usize) & mask
}

#[inline]
fn key_of(kind: Kind, depth: usize, rdn: u64) -> u64 {
    let k = match kind {
        Kind::Entry => 0x9e37_79b9_7f4a_7c15,
        Kind::Subtree => 0xc2b2_ae3d_27d4_eb4f,
    };
    mix(rdn ^ k, depth as u64)
}

/// A principal's compiled ACL. Cheap to share (`Arc`); see the module docs.
#[derive(Debug, Clone)]
pub struct CompiledAcl {
    principal: Dn,
    all: bool,
    tree_allow: PermSet,
    tree_deny: PermSet,
    levels: Vec<Level>,
    slots: Vec<u32>,
    slot_mask: usize,
    entry_depths: u64,
    subtree_depths: u64,
    scan_only: bool,
    mentioned: PermSet,
    granted: PermSet,
    rules: Vec<Rule>,
    policies: Vec<Arc<Policy>>,
}

impl CompiledAcl {
    /// An ACL that allows everything (the server itself, maintenance).
    pub fn allow_all(principal: Dn) -> CompiledAcl {
        let mut acl = CompiledAcl::build(principal, Vec::new(), Vec::new());
        acl.all = true;
        acl
    }

    /// Compiles the ACL of `principal`, member of `groups` (with nested groups resolved):
    /// the assignments for it or its groups, each with its policy (looked up by name,
    /// case-insensitively; an assignment of an unknown policy is ignored), plus the
    /// implicit `self` policy on its own entry when `self_policy` is given.
    pub fn compile(
        principal: &Dn,
        groups: &[Dn],
        assignments: &[Assignment],
        policies: &[Arc<Policy>],
        self_policy: Option<&Arc<Policy>>,
    ) -> CompiledAcl {
        let mut used: Vec<Arc<Policy>> = Vec::new();
        let mut rules = Vec::new();
        let index_of = |p: &Arc<Policy>, used: &mut Vec<Arc<Policy>>| -> usize {
            if let Some(i) = used.iter().position(|u| Arc::ptr_eq(u, p)) {
                return i;
            }
            used.push(p.clone());
            used.len() - 1
        };
        if let Some(me) = self_policy {
            let i = index_of(me, &mut used);
            rules.push(Rule {
                perms: me.perm_set(),
                deny: false,
                scope: RuleScope::Entry(principal.clone()),
                policy: i,
                assignment: None,
            });
        }
        for a in assignments {
            let applies = match a.subject_type {
                SubjectType::User => &a.subject == principal,
                SubjectType::Group => groups.contains(&a.subject),
            };
            if !applies {
                continue;
            }
            let Some(policy) = policies
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&a.policy))
            else {
                tracing::warn!(assignment = %a.id, policy = %a.policy, "assignment of an unknown policy ignored");
                continue;
            };
            let scope = match (a.scope_type, &a.scope) {
                (ScopeType::Tree, _) => RuleScope::Tree,
                (ScopeType::Subtree, Some(d)) => RuleScope::Subtree(d.clone()),
                (ScopeType::Entry, Some(d)) => RuleScope::Entry(d.clone()),
                (ScopeType::SelfEntry, _) => RuleScope::Entry(principal.clone()),
                (ScopeType::Subtree | ScopeType::Entry, None) => continue,
            };
            let i = index_of(policy, &mut used);
            rules.push(Rule {
                perms: policy.perm_set(),
                deny: a.deny,
                scope,
                policy: i,
                assignment: Some(a.id.clone()),
            });
        }
        CompiledAcl::build(principal.clone(), rules, used)
    }

    fn build(principal: Dn, rules: Vec<Rule>, policies: Vec<Arc<Policy>>) -> CompiledAcl {
        let mut acl = CompiledAcl {
            principal,
            all: false,
            tree_allow: PermSet::EMPTY,
            tree_deny: PermSet::EMPTY,
            levels: Vec::new(),
            slots: Vec::new(),
            slot_mask: 0,
            entry_depths: 0,
            subtree_depths: 0,
            scan_only: false,
            mentioned: PermSet::EMPTY,
            granted: PermSet::EMPTY,
            rules,
            policies,
        };
        for r in &acl.rules {
            acl.mentioned = acl.mentioned.union(r.perms);
            if !r.deny {
                acl.granted = acl.granted.union(r.perms);
            }
            let (kind, dn) = match &r.scope {
                RuleScope::Tree => {
                    if r.deny {
                        acl.tree_deny = acl.tree_deny.union(r.perms);
                    } else {
                        acl.tree_allow = acl.tree_allow.union(r.perms);
                    }
                    continue;
                }
                RuleScope::Subtree(d) => (Kind::Subtree, d),
                RuleScope::Entry(d) => (Kind::Entry, d),
            };
            let depth = dn.len();
            if depth >= 64 || depth == 0 {
                // The root DN as a subtree is the whole tree; as an entry it names
                // nothing a service manages. Either way: scan.
                acl.scan_only = true;
            } else if kind == Kind::Entry {
                acl.entry_depths |= 1 << depth;
            } else {
                acl.subtree_depths |= 1 << depth;
            }
            let key = dn.rdn().map_or(0, |rdn| key_of(kind, depth, rdn_hash(rdn)));
            let at = if let Some(i) = acl
                .levels
                .iter()
                .position(|l| l.kind == kind && &l.dn == dn)
            {
                i
            } else {
                acl.levels.push(Level {
                    key,
                    kind,
                    dn: dn.clone(),
                    allow: PermSet::EMPTY,
                    deny: PermSet::EMPTY,
                });
                acl.levels.len() - 1
            };
            let level = &mut acl.levels[at];
            if r.deny {
                level.deny = level.deny.union(r.perms);
            } else {
                level.allow = level.allow.union(r.perms);
            }
        }
        let capacity = (acl.levels.len() * 2).next_power_of_two().max(4);
        acl.slots = vec![0; capacity];
        acl.slot_mask = capacity - 1;
        for (i, l) in acl.levels.iter().enumerate() {
            let mut s = slot(l.key, acl.slot_mask);
            while acl.slots[s] != 0 {
                s = (s + 1) & acl.slot_mask;
            }
            acl.slots[s] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        acl
    }

    /// The principal this ACL is for.
    pub fn principal(&self) -> &Dn {
        &self.principal
    }

    /// The rules, for explanations.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The policies the rules refer to.
    pub fn policies(&self) -> &[Arc<Policy>] {
        &self.policies
    }

    /// Whether this ACL allows everything (the server's own principal).
    pub fn is_unrestricted(&self) -> bool {
        self.all
    }

    /// Whether some rule grants `p` somewhere (a cheap pre-check before a lookup, so a
    /// caller without any right on an object type learns nothing about what exists).
    pub fn granted_somewhere(&self, p: Permission) -> bool {
        self.all || self.granted.contains(p)
    }

    /// Whether the principal holds the `admin` policy over the whole tree (not denied).
    pub fn holds_admin(&self) -> bool {
        self.all
            || (self.rules.iter().any(|r| {
                !r.deny && r.scope == RuleScope::Tree && self.policies[r.policy].name == "admin"
            }) && self.tree_deny.is_empty()
                && self.levels.iter().all(|l| l.deny.is_empty()))
    }

    #[inline]
    fn find(&self, kind: Kind, rdns: &[Rdn], start: usize) -> Option<&Level> {
        let depth = rdns.len() - start;
        let key = key_of(kind, depth, rdn_hash(&rdns[start]));
        let mut s = slot(key, self.slot_mask);
        loop {
            let i = self.slots[s] as usize;
            if i == 0 {
                return None;
            }
            let l = &self.levels[i - 1];
            if l.key == key && l.kind == kind && same_rdns(l.dn.rdns(), &rdns[start..]) {
                return Some(l);
            }
            s = (s + 1) & self.slot_mask;
        }
    }

    /// Whether `p` is allowed on `target`. Allocation-free; see the module docs.
    #[inline]
    pub fn allows(&self, p: Permission, target: &Dn) -> bool {
        if self.all {
            return true;
        }
        let bit = 1u64 << p.bit();
        if self.mentioned.0 & bit == 0 {
            return false;
        }
        if self.scan_only {
            return self.decide_by_scan(p, target).0;
        }
        let rdns = target.rdns();
        let d = rdns.len();
        if d < 64 && self.entry_depths & (1 << d) != 0 {
            if let Some(l) = self.find(Kind::Entry, rdns, 0) {
                if (l.allow.0 | l.deny.0) & bit != 0 {
                    return l.deny.0 & bit == 0;
                }
            }
        }
        let upto = if d >= 63 {
            u64::MAX
        } else {
            (1u64 << (d + 1)) - 1
        };
        let mut depths = self.subtree_depths & upto;
        while depths != 0 {
            let k = 63 - depths.leading_zeros() as usize;
            depths &= !(1u64 << k);
            if let Some(l) = self.find(Kind::Subtree, rdns, d - k) {
                if (l.allow.0 | l.deny.0) & bit != 0 {
                    return l.deny.0 & bit == 0;
                }
            }
        }
        (self.tree_allow.0 | self.tree_deny.0) & bit != 0 && self.tree_deny.0 & bit == 0
    }

    /// Whether `p` is allowed on `base` and on every entry below it, whatever its DN: no
    /// rule inside the subtree denies `p`, and the rules above decide for it. Lists use it
    /// to skip the check of each entry.
    pub fn allows_subtree(&self, p: Permission, base: &Dn) -> bool {
        if self.all {
            return true;
        }
        if !self.allows(p, base) {
            return false;
        }
        // The decision for the entries below `base` from the rules that contain them all.
        let mut best: Option<(usize, bool)> = None;
        for r in &self.rules {
            if !r.perms.contains(p) {
                continue;
            }
            let inside = match &r.scope {
                RuleScope::Tree => false,
                RuleScope::Subtree(d) => d.is_descendant_of(base),
                RuleScope::Entry(d) => {
                    if d.is_descendant_of(base) && r.deny {
                        return false;
                    }
                    continue;
                }
            };
            if inside {
                if r.deny {
                    return false;
                }
                continue;
            }
            if !r.scope.contains(base) {
                continue;
            }
            let s = r.scope.specificity();
            best = match best {
                Some((bs, denied)) if bs > s => Some((bs, denied)),
                Some((bs, denied)) if bs == s => Some((bs, denied || r.deny)),
                _ => Some((s, r.deny)),
            };
        }
        best.is_some_and(|(_, denied)| !denied)
    }

    /// The same decision by scanning every rule: (allowed, specificity of the deciding
    /// level, or `None`). The reference the fast path is tested against.
    fn decide_by_scan(&self, p: Permission, target: &Dn) -> (bool, Option<usize>) {
        if self.all {
            return (true, None);
        }
        let mut best: Option<(usize, bool)> = None;
        for r in &self.rules {
            if !r.perms.contains(p) || !r.scope.contains(target) {
                continue;
            }
            let s = r.scope.specificity();
            best = match best {
                Some((bs, denied)) if bs > s => Some((bs, denied)),
                Some((bs, denied)) if bs == s => Some((bs, denied || r.deny)),
                _ => Some((s, r.deny)),
            };
        }
        match best {
            Some((s, denied)) => (!denied, Some(s)),
            None => (false, None),
        }
    }

    /// The decision on `p` for `target` with the reason, naming the deciding assignment(s).
    pub fn explain(&self, p: Permission, target: &Dn) -> Decision {
        if self.all {
            return Decision {
                allowed: true,
                reason: "the server's own principal may do everything".to_owned(),
            };
        }
        let (allowed, spec) = self.decide_by_scan(p, target);
        let Some(spec) = spec else {
            return Decision {
                allowed: false,
                reason: format!("no assignment grants {p} on '{target}'"),
            };
        };
        let deciding: Vec<String> = self
            .rules
            .iter()
            .filter(|r| {
                r.perms.contains(p)
                    && r.scope.contains(target)
                    && r.scope.specificity() == spec
                    && r.deny != allowed
            })
            .map(|r| {
                format!(
                    "policy '{}' via {} ({})",
                    self.policies[r.policy].name,
                    r.assignment.as_ref().map_or_else(
                        || "the implicit self assignment".to_owned(),
                        |a| format!("assignment '{a}'")
                    ),
                    r.scope.describe()
                )
            })
            .collect();
        Decision {
            allowed,
            reason: format!(
                "{} by {}",
                if allowed { "granted" } else { "denied" },
                deciding.join(" and ")
            ),
        }
    }

    /// The policies whose attribute rules apply to `p` on `target`: those of the allowing
    /// rules more specific than every denying one. Empty when `p` is not allowed.
    fn contributing(&self, p: Permission, target: &Dn) -> Vec<&Policy> {
        let mut max_deny: Option<usize> = None;
        for r in &self.rules {
            if r.deny && r.perms.contains(p) && r.scope.contains(target) {
                max_deny = max_deny.max(Some(r.scope.specificity()));
            }
        }
        self.rules
            .iter()
            .filter(|r| {
                !r.deny
                    && r.perms.contains(p)
                    && r.scope.contains(target)
                    && max_deny.is_none_or(|d| r.scope.specificity() > d)
            })
            .map(|r| &*self.policies[r.policy])
            .collect()
    }

    /// Which attributes of an `object` on `target` may be read (`Action::Read`) or written
    /// (any other action); compute once per answer, then ask per attribute.
    pub fn attributes(
        &self,
        object: ObjectType,
        action: Action,
        target: &Dn,
    ) -> AttributeFilter<'_> {
        if self.all {
            return AttributeFilter {
                object,
                access: AttrAccess::Read,
                policies: Vec::new(),
                all: true,
            };
        }
        let p = Permission::new(object, action);
        AttributeFilter {
            object,
            access: if action == Action::Read {
                AttrAccess::Read
            } else {
                AttrAccess::Write
            },
            policies: self.contributing(p, target),
            all: false,
        }
    }

    /// Every grant and denial, for `GET /acl/permissions/{uid}`: permission by permission,
    /// in bit order.
    pub fn grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        for p in Permission::all() {
            for r in self.rules.iter().filter(|r| r.perms.contains(p)) {
                out.push(Grant {
                    permission: p,
                    policy: self.policies[r.policy].name.clone(),
                    assignment: r.assignment.clone().unwrap_or_else(|| "self".to_owned()),
                    scope: r.scope.describe(),
                    deny: r.deny,
                });
            }
        }
        out
    }

    /// The permissions some rule grants somewhere.
    pub fn granted(&self) -> PermSet {
        if self.all {
            PermSet::ALL
        } else {
            self.granted
        }
    }
}

/// Which attributes may be read or written (see [`CompiledAcl::attributes`]).
#[derive(Debug)]
pub struct AttributeFilter<'a> {
    object: ObjectType,
    access: AttrAccess,
    policies: Vec<&'a Policy>,
    all: bool,
}

impl AttributeFilter<'_> {
    /// Whether `attr` may be read (written).
    pub fn allows(&self, attr: &str) -> bool {
        self.all
            || self
                .policies
                .iter()
                .any(|p| p.allows_attribute(self.object, self.access, attr))
    }

    /// Whether the permission itself is granted (some policy contributes).
    pub fn granted(&self) -> bool {
        self.all || !self.policies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::policy::{builtin_policies, AttributeRule};
    use proptest::prelude::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    fn perm(s: &str) -> Permission {
        s.parse().unwrap()
    }

    fn policies() -> Vec<Arc<Policy>> {
        let mut v: Vec<Arc<Policy>> = builtin_policies().into_iter().map(Arc::new).collect();
        v.push(Arc::new(Policy {
            name: "phone-only".into(),
            description: None,
            permissions: vec![perm("user:read"), perm("user:write")],
            attributes: [(
                "user".to_owned(),
                AttributeRule {
                    read: Some(vec!["cn".into(), "telephoneNumber".into()]),
                    write: Some(vec!["telephoneNumber".into()]),
                    deny: vec![],
                },
            )]
            .into_iter()
            .collect(),
            builtin: false,
        }));
        v
    }

    fn assignment(
        id: &str,
        policy: &str,
        subject: (SubjectType, &str),
        scope: (ScopeType, Option<&str>),
        deny: bool,
    ) -> Assignment {
        Assignment {
            id: id.into(),
            policy: policy.into(),
            subject_type: subject.0,
            subject: dn(subject.1),
            scope_type: scope.0,
            scope: scope.1.map(dn),
            deny,
            builtin: false,
        }
    }

    const ME: &str = "uid=me,ou=people,dc=example,dc=com";
    const HELPDESK: &str = "cn=helpdesk,ou=groups,dc=example,dc=com";
    const SALES: &str = "ou=sales,ou=departments,dc=example,dc=com";

    fn sample() -> CompiledAcl {
        let p = policies();
        let me_policy = p.iter().find(|x| x.name == "self").cloned();
        CompiledAcl::compile(
            &dn(ME),
            &[dn(HELPDESK)],
            &[
                assignment(
                    "a1",
                    "viewer",
                    (SubjectType::User, ME),
                    (ScopeType::Tree, None),
                    false,
                ),
                assignment(
                    "a2",
                    "user-manager",
                    (SubjectType::Group, HELPDESK),
                    (ScopeType::Subtree, Some(SALES)),
                    false,
                ),
                assignment(
                    "a3",
                    "user-manager",
                    (SubjectType::User, ME),
                    (
                        ScopeType::Subtree,
                        Some("ou=secret,ou=sales,ou=departments,dc=example,dc=com"),
                    ),
                    true,
                ),
                assignment(
                    "a4",
                    "admin",
                    (SubjectType::User, "uid=other,ou=people,dc=example,dc=com"),
                    (ScopeType::Tree, None),
                    false,
                ),
                assignment(
                    "a5",
                    "user-manager",
                    (SubjectType::User, ME),
                    (
                        ScopeType::Entry,
                        Some("uid=vip,ou=secret,ou=sales,ou=departments,dc=example,dc=com"),
                    ),
                    false,
                ),
            ],
            &p,
            me_policy.as_ref(),
        )
    }

    #[test]
    fn most_specific_scope_decides() {
        let acl = sample();
        let in_sales = dn("uid=a,ou=sales,ou=departments,dc=example,dc=com");
        let elsewhere = dn("uid=b,ou=people,dc=example,dc=com");
        let secret = dn("uid=c,ou=secret,ou=sales,ou=departments,dc=example,dc=com");
        let vip = dn("uid=vip,ou=secret,ou=sales,ou=departments,dc=example,dc=com");
        // Delegation: user management in sales only.
        assert!(acl.allows(perm("user:write"), &in_sales));
        assert!(acl.allows(perm("user:delete"), &in_sales));
        assert!(!acl.allows(perm("user:write"), &elsewhere));
        // Viewer on the tree reads everywhere.
        assert!(acl.allows(perm("user:read"), &elsewhere));
        assert!(acl.allows(perm("dns:read"), &elsewhere));
        assert!(!acl.allows(perm("audit:read"), &elsewhere));
        // The deeper deny beats the shallower grant, also for reading (user-manager has
        // user:read), even though viewer on the tree grants it: most specific decides.
        assert!(!acl.allows(perm("user:write"), &secret));
        assert!(!acl.allows(perm("user:read"), &secret));
        // An entry grant beats the deny on its subtree.
        assert!(acl.allows(perm("user:write"), &vip));
        // Self: own entry writable (contact fields), but not deletable.
        assert!(acl.allows(perm("user:write"), &dn(ME)));
        assert!(!acl.allows(perm("user:delete"), &dn(ME)));
        // Not below the base at all.
        assert!(!acl.allows(perm("user:write"), &dn("uid=x,dc=other")));
        assert!(acl.granted_somewhere(perm("user:create")));
        assert!(!acl.granted_somewhere(perm("settings:read")));
        assert!(!acl.holds_admin());
        // Whole subtrees: reading people is allowed everywhere there; sales has the deny
        // on secret below it; the secret subtree itself is denied.
        let sales = dn("ou=sales,ou=departments,dc=example,dc=com");
        assert!(acl.allows_subtree(perm("user:read"), &dn("ou=people,dc=example,dc=com")));
        assert!(!acl.allows_subtree(perm("user:read"), &sales));
        assert!(acl.allows_subtree(
            perm("user:delete"),
            &dn("ou=x,ou=sales,ou=departments,dc=example,dc=com")
        ));
        assert!(!acl.allows_subtree(perm("user:write"), &secret.parent().unwrap()));
    }

    #[test]
    fn equal_specificity_deny_wins_and_names_are_not_suffixes() {
        let p = policies();
        let acl = CompiledAcl::compile(
            &dn(ME),
            &[],
            &[
                assignment(
                    "g",
                    "viewer",
                    (SubjectType::User, ME),
                    (ScopeType::Subtree, Some(SALES)),
                    false,
                ),
                assignment(
                    "d",
                    "viewer",
                    (SubjectType::User, ME),
                    (ScopeType::Subtree, Some(SALES)),
                    true,
                ),
                assignment(
                    "x",
                    "viewer",
                    (SubjectType::User, ME),
                    (ScopeType::Subtree, Some("ou=people,dc=example,dc=com")),
                    false,
                ),
            ],
            &p,
            None,
        );
        assert!(!acl.allows(
            perm("user:read"),
            &dn("uid=a,ou=sales,ou=departments,dc=example,dc=com")
        ));
        // `ou=xpeople` is not below `ou=people`; case and spacing do not matter.
        assert!(!acl.allows(perm("user:read"), &dn("uid=a,ou=xpeople,dc=example,dc=com")));
        assert!(acl.allows(perm("user:read"), &dn("UID=a, OU=People,DC=Example,DC=com")));
        assert!(acl
            .explain(
                perm("user:read"),
                &dn("uid=a,ou=sales,ou=departments,dc=example,dc=com")
            )
            .reason
            .contains("assignment 'd'"));
    }

    #[test]
    fn attribute_rules() {
        let p = policies();
        let me_policy = p.iter().find(|x| x.name == "self").cloned();
        let acl = CompiledAcl::compile(
            &dn(ME),
            &[],
            &[assignment(
                "ph",
                "phone-only",
                (SubjectType::User, ME),
                (ScopeType::Subtree, Some("ou=people,dc=example,dc=com")),
                false,
            )],
            &p,
            me_policy.as_ref(),
        );
        let other = dn("uid=b,ou=people,dc=example,dc=com");
        let read = acl.attributes(ObjectType::User, Action::Read, &other);
        assert!(read.allows("telephoneNumber") && read.allows("cn"));
        assert!(!read.allows("mail"));
        let write = acl.attributes(ObjectType::User, Action::Write, &other);
        assert!(write.allows("telephoneNumber"));
        assert!(!write.allows("mail"));
        // On its own entry, self (entry) and phone-only (subtree) both grant: union.
        let mine = acl.attributes(ObjectType::User, Action::Write, &dn(ME));
        assert!(mine.allows("mobile") && mine.allows("telephoneNumber"));
        assert!(!mine.allows("uidNumber"));
        let mine = acl.attributes(ObjectType::User, Action::Read, &dn(ME));
        assert!(mine.allows("mail"));
        // Nothing granted, nothing allowed.
        let none = acl.attributes(ObjectType::Group, Action::Read, &other);
        assert!(!none.granted() && !none.allows("cn"));
    }

    #[test]
    fn grants_and_admin() {
        let p = policies();
        let acl = CompiledAcl::compile(
            &dn(ME),
            &[],
            &[assignment(
                "boot",
                "admin",
                (SubjectType::User, ME),
                (ScopeType::Tree, None),
                false,
            )],
            &p,
            None,
        );
        assert!(acl.holds_admin());
        assert!(acl.allows_subtree(perm("user:read"), &dn("ou=people,dc=example,dc=com")));
        assert_eq!(acl.granted(), PermSet::ALL);
        assert_eq!(acl.grants().len(), 55);
        assert!(
            CompiledAcl::allow_all(dn("dc=example,dc=com")).allows(perm("acl:manage"), &dn("cn=x"))
        );
    }

    fn arb_dn() -> impl Strategy<Value = Dn> {
        // Small alphabets so that scopes and targets collide often.
        proptest::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("B"), Just("c")],
            1..6,
        )
        .prop_map(|parts| {
            let s: Vec<String> = parts.iter().map(|p| format!("ou={p}")).collect();
            Dn::parse(&s.join(",")).unwrap()
        })
    }

    proptest! {
        /// The fast path and the plain scan always agree.
        #[test]
        fn fast_path_matches_the_scan(
            scopes in proptest::collection::vec((0u8..3, arb_dn(), any::<bool>(), 0usize..5), 0..12),
            targets in proptest::collection::vec(arb_dn(), 1..8),
        ) {
            let p = policies();
            let names = ["admin", "viewer", "user-manager", "group-manager", "phone-only"];
            let assignments: Vec<Assignment> = scopes.iter().enumerate().map(|(i, (kind, d, deny, pol))| {
                let (scope_type, scope) = match kind {
                    0 => (ScopeType::Tree, None),
                    1 => (ScopeType::Subtree, Some(d.clone())),
                    _ => (ScopeType::Entry, Some(d.clone())),
                };
                Assignment {
                    id: format!("a{i}"),
                    policy: names[*pol].into(),
                    subject_type: SubjectType::User,
                    subject: dn(ME),
                    scope_type,
                    scope,
                    deny: *deny,
                    builtin: false,
                }
            }).collect();
            let acl = CompiledAcl::compile(&dn(ME), &[], &assignments, &p, None);
            for t in &targets {
                for perm in Permission::all() {
                    prop_assert_eq!(acl.allows(perm, t), acl.decide_by_scan(perm, t).0, "{} on {}", perm, t);
                    // Allowed on a whole subtree: allowed on every target inside it.
                    if acl.allows_subtree(perm, t) {
                        for u in targets.iter().filter(|u| u.is_descendant_or_self(t)) {
                            prop_assert!(acl.allows(perm, u), "{} on {} below {}", perm, u, t);
                        }
                    }
                }
            }
        }
    }
}
