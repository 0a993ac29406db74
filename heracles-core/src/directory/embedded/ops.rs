//! The write operations of the embedded directory, as slapd performs them: each computes
//! the log batch that applies it, or the error slapd returns for the same request (by LDAP
//! result code, so both backends produce the same `ErrorCode`).

use std::collections::HashSet;
use std::time::SystemTime;

use super::log::LogOp;
use super::rules::Rules;
use super::store::View;
use super::{ldap_error, time};
use crate::directory::{check_attribute_name, Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::{LdapOperation, Result};
use crate::filter::Filter;

/// Who and when, for the operational attributes of one write.
#[derive(Debug)]
pub(super) struct Stamp {
    time: String,
    csn: String,
    who: String,
}

impl Stamp {
    pub(super) fn now(identity: &Dn, counter: u32) -> Stamp {
        let t = SystemTime::now();
        Stamp {
            time: time::generalized(t).0,
            csn: time::csn(t, counter),
            who: identity.to_string(),
        }
    }

    fn touch(&self, e: &mut Entry) {
        e.set("modifyTimestamp", [self.time.as_str()]);
        e.set("modifiersName", [self.who.as_str()]);
        e.set("entryCSN", [self.csn.as_str()]);
    }
}

/// Which attributes a search returns (RFC 4511 §4.5.1.8): none listed or `*` = all user
/// attributes; `+` = all operational ones; names = those; `1.1` alone = none.
#[derive(Debug)]
pub(super) struct Projection<'r> {
    rules: &'r Rules,
    all_user: bool,
    all_operational: bool,
    /// Canonical lower-case names (see [`Rules::canonical`]); a handful, so a list.
    names: Vec<String>,
}

impl<'r> Projection<'r> {
    pub(super) fn new(rules: &'r Rules, attrs: &[String]) -> Self {
        let mut p = Projection {
            rules,
            all_user: attrs.is_empty(),
            all_operational: false,
            names: Vec::new(),
        };
        for a in attrs {
            match a.as_str() {
                "*" => p.all_user = true,
                "+" => p.all_operational = true,
                "1.1" => {}
                name => {
                    let canon = rules.canonical(name);
                    if !p.names.contains(&canon) {
                        p.names.push(canon);
                    }
                }
            }
        }
        p
    }

    pub(super) fn apply(&self, e: &Entry) -> Entry {
        let mut out = Entry::new(e.dn.clone());
        for a in e.attrs.iter() {
            // Stored names are the schema's (see `eval::values`): a case-insensitive
            // comparison with the canonical names requested is a canonical comparison.
            let named = || self.names.iter().any(|n| n.eq_ignore_ascii_case(a.name()));
            let keep = match (self.all_user, self.all_operational) {
                (true, true) => true,
                (false, false) => named(),
                (user, operational) => {
                    (if self.rules.is_operational(a.name()) {
                        operational
                    } else {
                        user
                    }) || named()
                }
            };
            if keep {
                out.attrs.set(a.name(), a.values());
            }
        }
        out
    }
}

fn err(op: LdapOperation, rc: u32, dn: &Dn, text: impl AsRef<str>) -> crate::Error {
    ldap_error(op, rc, dn, text.as_ref())
}

/// Whether `values` holds `v` under the attribute's equality rule.
fn contains(rules: &Rules, attr: &str, values: &[Vec<u8>], v: &[u8]) -> bool {
    let key = rules.eq_key(attr, v);
    values.iter().any(|x| rules.eq_key(attr, x) == key)
}

/// Checks user-supplied values for one attribute: known type, syntax, no duplicates.
fn check_values(
    rules: &Rules,
    op: LdapOperation,
    dn: &Dn,
    attr: &str,
    values: &[Vec<u8>],
) -> Result<String> {
    check_attribute_name(attr)?;
    let Some(name) = rules.display_name(attr) else {
        return Err(err(op, 17, dn, format!("{attr}: attribute type undefined")));
    };
    let mut seen = HashSet::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        if !rules.valid_syntax(attr, v) {
            return Err(err(
                op,
                21,
                dn,
                format!("{name}: value #{i} invalid per syntax"),
            ));
        }
        if !seen.insert(rules.eq_key(attr, v)) {
            return Err(err(
                op,
                20,
                dn,
                format!("{name}: value #{i} provided more than once"),
            ));
        }
    }
    Ok(name)
}

/// The RDN's values must be in the entry (slapd: namingViolation, 64).
fn check_rdn(rules: &Rules, op: LdapOperation, e: &Entry) -> Result<()> {
    if let Some(rdn) = e.dn.rdn() {
        for ava in rdn.avas() {
            let vals = e.get(ava.attr());
            let found = rules.display_name(ava.attr()).is_some()
                && contains(rules, ava.attr(), vals, ava.value().as_bytes());
            if !found {
                return Err(err(
                    op,
                    64,
                    &e.dn,
                    format!(
                        "value of naming attribute '{}' is not present in entry",
                        ava.attr()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn schema_check(rules: &Rules, op: LdapOperation, e: &Entry) -> Result<()> {
    rules
        .check_entry(e)
        .map_err(|(rc, text)| err(op, rc, &e.dn, text))
}

/// Add: as slapd's add (or, with `import`, slapadd's: operational attributes kept).
pub(super) fn add(
    rules: &Rules,
    st: &dyn View,
    stamp: &mut Stamp,
    suffix: &Dn,
    input: &Entry,
    import: bool,
) -> Result<Vec<LogOp>> {
    const OP: LdapOperation = LdapOperation::Add;
    let dn = &input.dn;
    dn.check_limits()?;
    if !dn.is_descendant_or_self(suffix) {
        return Err(err(OP, 32, dn, "no global superior knowledge"));
    }
    let mut e = Entry::new(dn.clone());
    for a in input.attrs.iter() {
        let name = check_values(rules, OP, dn, a.name(), a.values())?;
        if a.values().is_empty() {
            return Err(err(OP, 21, dn, format!("{name}: no values")));
        }
        if !import && rules.is_no_user_modification(a.name()) {
            return Err(err(
                OP,
                19,
                dn,
                format!("{name}: no user modification allowed"),
            ));
        }
        for v in a.values() {
            e.add_value(&name, v);
        }
    }
    if e.get("objectClass").is_empty() {
        return Err(err(OP, 65, dn, "no objectClass attribute"));
    }
    // slapd checks the entry against the schema before it looks at the tree.
    schema_check(rules, OP, &e)?;
    check_rdn(rules, OP, &e)?;
    if st.contains(dn)? {
        return Err(err(OP, 68, dn, "entry already exists"));
    }
    let parent_exists = match dn.parent() {
        Some(p) => st.contains(&p)?,
        None => false,
    };
    if dn != suffix && !parent_exists {
        return Err(err(OP, 32, dn, "parent does not exist"));
    }
    if e.get("structuralObjectClass").is_empty() {
        if let Some(s) = rules.structural_class(&e) {
            e.set("structuralObjectClass", [s]);
        }
    }
    if e.get("entryUUID").is_empty() {
        e.set("entryUUID", [time::uuid_v4()]);
    }
    if e.get("createTimestamp").is_empty() {
        e.set("createTimestamp", [stamp.time.as_str()]);
        e.set("creatorsName", [stamp.who.as_str()]);
    }
    if !import || e.get("entryCSN").is_empty() {
        stamp.touch(&mut e);
    }
    Ok(vec![LogOp::Put(e)])
}

/// Applies one change of a modify to `e`, with slapd's checks for it.
fn apply_change(rules: &Rules, dn: &Dn, e: &mut Entry, change: &Modification) -> Result<()> {
    const OP: LdapOperation = LdapOperation::Modify;
    let (attr, values) = match change {
        Modification::Add { attr, values }
        | Modification::Delete { attr, values }
        | Modification::Replace { attr, values } => (attr.as_str(), values.as_slice()),
    };
    let name = check_values(rules, OP, dn, attr, values)?;
    if rules.is_no_user_modification(attr) {
        return Err(err(
            OP,
            19,
            dn,
            format!("{name}: no user modification allowed"),
        ));
    }
    let existing: Vec<Vec<u8>> = e.get(&name).to_vec();
    match change {
        Modification::Add { .. } => {
            if values.is_empty() {
                return Err(err(OP, 21, dn, format!("{name}: no values given to add")));
            }
            let present: HashSet<Vec<u8>> =
                existing.iter().map(|x| rules.eq_key(&name, x)).collect();
            for (i, v) in values.iter().enumerate() {
                if present.contains(&rules.eq_key(&name, v)) {
                    return Err(err(
                        OP,
                        20,
                        dn,
                        format!("modify/add: {name}: value #{i} already exists"),
                    ));
                }
            }
            let mut all = existing;
            all.extend(values.iter().cloned());
            e.set(&name, all);
        }
        Modification::Delete { .. } => {
            if existing.is_empty() {
                return Err(err(
                    OP,
                    16,
                    dn,
                    format!("modify/delete: {name}: no such attribute"),
                ));
            }
            if values.is_empty() {
                e.set(&name, Vec::<Vec<u8>>::new());
            } else {
                let keys: Vec<Vec<u8>> = existing.iter().map(|x| rules.eq_key(&name, x)).collect();
                let present: HashSet<&Vec<u8>> = keys.iter().collect();
                let mut remove = HashSet::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    let key = rules.eq_key(&name, v);
                    if !present.contains(&key) {
                        return Err(err(
                            OP,
                            16,
                            dn,
                            format!("modify/delete: {name}: value #{i} not present"),
                        ));
                    }
                    remove.insert(key);
                }
                let keep: Vec<Vec<u8>> = existing
                    .into_iter()
                    .zip(keys)
                    .filter(|(_, k)| !remove.contains(k))
                    .map(|(v, _)| v)
                    .collect();
                e.set(&name, keep);
            }
        }
        Modification::Replace { .. } => e.set(&name, values.to_vec()),
    }
    Ok(())
}

/// Modify: every change in order, all or nothing.
pub(super) fn modify(
    rules: &Rules,
    st: &dyn View,
    stamp: &mut Stamp,
    dn: &Dn,
    changes: &[Modification],
) -> Result<Vec<LogOp>> {
    const OP: LdapOperation = LdapOperation::Modify;
    let Some(current) = st.get(dn)? else {
        return Err(err(OP, 32, dn, ""));
    };
    let mut e: Entry = (*current).clone();
    let before_structural = rules.structural_class(&e);
    for change in changes {
        apply_change(rules, dn, &mut e, change)?;
    }
    // The naming attribute's values cannot be removed (notAllowedOnRDN, 67).
    if let Some(rdn) = dn.rdn() {
        for ava in rdn.avas() {
            if !contains(rules, ava.attr(), e.get(ava.attr()), ava.value().as_bytes()) {
                return Err(err(
                    OP,
                    64,
                    dn,
                    format!("naming attribute '{}' is not present in entry", ava.attr()),
                ));
            }
        }
    }
    if e.get("objectClass").is_empty() {
        return Err(err(OP, 65, dn, "no objectClass attribute"));
    }
    schema_check(rules, OP, &e)?;
    let after_structural = rules.structural_class(&e);
    if before_structural.is_some()
        && !before_structural
            .as_deref()
            .zip(after_structural.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        return Err(err(
            OP,
            69,
            dn,
            "structural object class modification not allowed",
        ));
    }
    stamp.touch(&mut e);
    Ok(vec![LogOp::Put(e)])
}

/// The assertion control (RFC 4528): the entry must exist (32) and match (122).
pub(super) fn assert(
    rules: &Rules,
    st: &dyn View,
    op: LdapOperation,
    dn: &Dn,
    assertion: &Filter,
) -> Result<()> {
    let Some(current) = st.get(dn)? else {
        return Err(err(op, 32, dn, ""));
    };
    if super::eval::matches(rules, assertion, &current) {
        Ok(())
    } else {
        Err(err(op, 122, dn, "assertion failed"))
    }
}

/// Delete a leaf.
pub(super) fn delete(st: &dyn View, dn: &Dn) -> Result<Vec<LogOp>> {
    const OP: LdapOperation = LdapOperation::Delete;
    if !st.contains(dn)? {
        return Err(err(OP, 32, dn, ""));
    }
    if st.has_children(dn)? {
        return Err(err(OP, 66, dn, "subordinate objects must be deleted first"));
    }
    Ok(vec![LogOp::Delete(dn.clone())])
}

/// Modify DN: new RDN and/or new superior; the whole subtree moves.
pub(super) fn rename(
    rules: &Rules,
    st: &dyn View,
    stamp: &mut Stamp,
    dn: &Dn,
    new_rdn: &Rdn,
    delete_old_rdn: bool,
    new_superior: Option<&Dn>,
) -> Result<(Vec<LogOp>, Dn)> {
    const OP: LdapOperation = LdapOperation::Rename;
    let Some(current) = st.get(dn)? else {
        return Err(err(OP, 32, dn, ""));
    };
    let parent_exists = match dn.parent() {
        Some(p) => st.contains(&p)?,
        None => false,
    };
    if !parent_exists {
        // The suffix entry (its parent is outside the naming context).
        return Err(err(OP, 71, dn, "cannot rename between DSAs"));
    }
    let parent = match new_superior {
        Some(p) => p.clone(),
        None => dn
            .parent()
            .ok_or_else(|| err(OP, 53, dn, "cannot rename the root"))?,
    };
    if let Some(sup) = new_superior {
        if !st.contains(sup)? {
            return Err(err(OP, 32, sup, "new superior does not exist")
                .with_code(crate::ErrorCode::ParentNotFound)
                .with_message(format!("the new superior '{sup}' does not exist")));
        }
        if sup.is_descendant_or_self(dn) {
            return Err(err(OP, 53, dn, "cannot place an entry below itself"));
        }
    }
    let new_dn = parent.child(new_rdn.clone());
    new_dn.check_limits()?;
    if &new_dn != dn && st.contains(&new_dn)? {
        return Err(err(OP, 68, &new_dn, "entry already exists"));
    }
    let mut e: Entry = (*current).clone();
    e.dn = new_dn.clone();
    for ava in new_rdn.avas() {
        let name = check_values(
            rules,
            OP,
            dn,
            ava.attr(),
            &[ava.value().as_bytes().to_vec()],
        )?;
        if !contains(rules, &name, e.get(&name), ava.value().as_bytes()) {
            e.add_value(&name, ava.value());
        }
    }
    if delete_old_rdn {
        if let Some(old) = dn.rdn() {
            for ava in old.avas() {
                let stays = new_rdn.avas().iter().any(|n| {
                    rules.canonical(n.attr()) == rules.canonical(ava.attr())
                        && rules.eq_key(n.attr(), n.value().as_bytes())
                            == rules.eq_key(ava.attr(), ava.value().as_bytes())
                });
                if stays {
                    continue;
                }
                let key = rules.eq_key(ava.attr(), ava.value().as_bytes());
                let keep: Vec<Vec<u8>> = e
                    .get(ava.attr())
                    .iter()
                    .filter(|x| rules.eq_key(ava.attr(), x) != key)
                    .cloned()
                    .collect();
                let name = rules
                    .display_name(ava.attr())
                    .unwrap_or_else(|| ava.attr().to_owned());
                e.set(&name, keep);
            }
        }
    }
    schema_check(rules, OP, &e)?;
    stamp.touch(&mut e);
    let mut ops = Vec::new();
    // Descendants move with it (parents before children on replay).
    let moved = st.subtree_entries(dn)?;
    for old in &moved {
        ops.push(LogOp::Delete(old.dn.clone()));
    }
    ops.push(LogOp::Put(e));
    for child in moved.iter().skip(1) {
        if let Some(new_child_dn) = child.dn.replace_suffix(dn, &new_dn) {
            new_child_dn.check_limits()?;
            let mut c: Entry = (**child).clone();
            c.dn = new_child_dn;
            ops.push(LogOp::Put(c));
        }
    }
    Ok((ops, new_dn))
}
