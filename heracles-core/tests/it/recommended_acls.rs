//! The slapd access rules SECURITY.md recommends for the service account are enough for
//! Heracles, and keep what they promise: the LDIF block of SECURITY.md, with this slapd's
//! DNs, replaces the rules of a private test slapd, and then core scenarios that write
//! everything the service account writes (users with passwords, password history,
//! lock/unlock, department moves, sessions and audit events, ACL policies) run as that
//! account; it sees no `cn=config`, and anonymous clients see nothing.

use std::process::Command;
use std::sync::Arc;

use heracles_core::directory::{Bind, Directory, LdapConfig, LdapDirectory, Scope, SearchRequest};
use heracles_core::dn::Dn;
use heracles_core::filter::Filter;

use crate::fixture::{OwnSlapd, Target};

/// The ```ldif block of SECURITY.md.
fn recommended_ldif() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../SECURITY.md");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text
        .find("```ldif\n")
        .expect("SECURITY.md has an ldif block")
        + 8;
    let len = text[start..].find("\n```").unwrap();
    text[start..start + len].to_owned() + "\n"
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn security_md_slapd_acls_are_enough_and_keep_their_promises() {
    let own = OwnSlapd::start();
    let env = &own.env;
    let ldif = recommended_ldif()
        .replace("\"SERVICE\"", &format!("\"{}\"", env.get("SERVICE_DN")))
        .replace("dc=example,dc=com", env.get("BASE_DN"))
        .replace(
            "gidNumber=0+uidNumber=0",
            &format!("gidNumber={}+uidNumber={}", id("-g"), id("-u")),
        );
    let ldif_file = own.dir.join("recommended-acls.ldif");
    std::fs::write(&ldif_file, &ldif).unwrap();
    let out = Command::new("ldapmodify")
        .args(["-Q", "-Y", "EXTERNAL", "-H", env.get("LDAPI_URI"), "-f"])
        .arg(&ldif_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ldapmodify of SECURITY.md's rules: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("ldapsearch")
        .args(["-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL", "-H"])
        .arg(env.get("LDAPI_URI"))
        .args([
            "-b",
            "olcDatabase={1}mdb,cn=config",
            "-s",
            "base",
            "olcAccess",
        ])
        .output()
        .unwrap();
    let applied = String::from_utf8_lossy(&out.stdout);
    assert!(
        applied.contains("to attrs=pwdAccountLockedTime") && applied.contains("by * none"),
        "{applied}"
    );

    let service = Arc::new(env.service().await);
    let t = Target::over(service.clone(), env.base());
    crate::services::users_lifecycle(&t).await;
    crate::services::history_scenario(&t).await;
    crate::moves::users_move_between_departments(&t).await;
    crate::audit::audit_records_logins(&t).await;
    crate::acl::acl_matrix_through_the_core(&t).await;

    // No cn=config for the service account.
    let config = Dn::parse("cn=config").unwrap();
    assert!(service.get(&config, &[]).await.unwrap().is_none());
    // Anonymous clients see nothing of the tree.
    let anonymous = LdapDirectory::connect(LdapConfig::new(env.get("LDAP_URI"), Bind::Anonymous))
        .await
        .unwrap();
    let found = anonymous
        .search(&SearchRequest::new(
            env.base(),
            Scope::Subtree,
            Filter::present("objectClass"),
        ))
        .await;
    assert!(
        found.as_ref().map_or(true, Vec::is_empty),
        "anonymous search found {found:?}"
    );
}
