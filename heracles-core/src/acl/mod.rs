//! Access control (SPEC §5): permissions, policies, assignments and the compiled,
//! per-principal ACL every service consults.
//!
//! - [`Permission`]: `object:action`, one bit of a [`PermSet`] at a fixed position.
//! - [`Policy`]: a named permission set with [`AttributeRule`]s; five are built in
//!   ([`builtin_policies`]).
//! - [`Assignment`]: a policy for a user or a group (every member, nested groups
//!   included) over a scope (tree, subtree, entry, self), granting or denying.
//! - [`CompiledAcl`]: what applies to one principal, answering checks in nanoseconds
//!   without allocating. The most specific scope decides; at equal specificity deny wins.
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::acl::{builtin_policies, Assignment, CompiledAcl, ScopeType, SubjectType};
//! use heracles_core::dn::Dn;
//!
//! let policies: Vec<_> = builtin_policies().into_iter().map(Arc::new).collect();
//! let me = Dn::parse("uid=helper,ou=people,dc=example,dc=com")?;
//! let helpdesk = Dn::parse("cn=helpdesk,ou=groups,dc=example,dc=com")?;
//! let sales = Dn::parse("ou=sales,ou=departments,dc=example,dc=com")?;
//! let grant = Assignment {
//!     id: "helpdesk-sales".into(),
//!     policy: "user-manager".into(),
//!     subject_type: SubjectType::Group,
//!     subject: helpdesk.clone(),
//!     scope_type: ScopeType::Subtree,
//!     scope: Some(sales.clone()),
//!     deny: false,
//!     builtin: false,
//! };
//! let acl = CompiledAcl::compile(&me, &[helpdesk], &[grant], &policies, None);
//! let in_sales = Dn::parse("uid=jdoe,ou=sales,ou=departments,dc=example,dc=com")?;
//! let elsewhere = Dn::parse("uid=root,ou=people,dc=example,dc=com")?;
//! assert!(acl.allows("user:write".parse()?, &in_sales));
//! assert!(!acl.allows("user:write".parse()?, &elsewhere));
//! # Ok::<(), heracles_core::Error>(())
//! ```

mod assignment;
mod compiled;
mod permission;
mod policy;

pub use self::assignment::{
    Assignment, ScopeType, SubjectType, ASSIGNMENT_CLASS, ASSIGNMENT_ID_ATTR,
};
pub use self::compiled::{AttributeFilter, CompiledAcl, Decision, Grant, Rule, RuleScope};
pub use self::permission::{Action, ObjectType, PermSet, Permission};
pub use self::policy::{
    builtin_policies, check_name, is_builtin, AttrAccess, AttributeRule, Policy, POLICY_CLASS,
    POLICY_NAME_ATTR, SELF_WRITABLE,
};
