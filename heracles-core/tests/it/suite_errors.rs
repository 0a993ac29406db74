//! The errors of `LdapDirectory`: the same codes every backend must produce.

use heracles_core::directory::{Entry, Modification};
use heracles_core::dn::Rdn;
use heracles_core::ErrorCode;

use crate::fixture::{person, sandbox, Target};

pub async fn directory_errors_have_stable_codes(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "errors").await;
    let e = person(&ou, "dup");
    dir.add(&e).await.unwrap();

    // Duplicate entry.
    let err = dir.add(&e).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyExists, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 68);

    // Missing parent.
    let orphan_parent = ou.child(Rdn::new("ou", "missing").unwrap());
    let err = dir
        .add(&person(&orphan_parent, "orphan"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ParentNotFound, "{err}");

    // Non-leaf delete.
    let err = dir.delete(&ou).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotAllowedOnNonLeaf, "{err}");

    // No such object, for each operation that names an entry.
    let ghost = ou.child(Rdn::new("uid", "ghost").unwrap());
    assert_eq!(
        dir.delete(&ghost).await.unwrap_err().code(),
        ErrorCode::EntryNotFound
    );
    assert_eq!(
        dir.modify(&ghost, &[Modification::replace("sn", ["x"])])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::EntryNotFound
    );
    assert_eq!(
        dir.rename(&ghost, &Rdn::new("uid", "g2").unwrap(), true, None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::EntryNotFound
    );
    assert_eq!(
        dir.compare(&ghost, "sn", b"x").await.unwrap_err().code(),
        ErrorCode::EntryNotFound
    );
    assert!(dir.get(&ghost, &[]).await.unwrap().is_none());

    // Moving under a parent that does not exist.
    let err = dir
        .rename(
            &e.dn,
            &Rdn::new("uid", "dup").unwrap(),
            true,
            Some(&orphan_parent),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ParentNotFound, "{err}");

    // Schema violations: a required attribute missing, an unknown attribute, an unknown
    // object class, a second value of a single-valued attribute — with the codes slapd gives.
    let no_sn = Entry::new(ou.child(Rdn::new("uid", "nosn").unwrap()))
        .with("objectClass", ["inetOrgPerson"])
        .with("uid", ["nosn"])
        .with("cn", ["No Sn"]);
    assert_eq!(
        dir.add(&no_sn).await.unwrap_err().code(),
        ErrorCode::SchemaViolation
    );
    let unknown_attr = person(&ou, "unk").with("frobnicate", ["x"]);
    assert_eq!(
        dir.add(&unknown_attr).await.unwrap_err().code(),
        ErrorCode::SchemaViolation
    );
    // slapd checks objectClass values by syntax first: an unknown class is result code 21
    // ("value #1 invalid per syntax"), so VALIDATION_FAILED.
    let unknown_class = person(&ou, "unkc").with("objectClass", ["inetOrgPerson", "nosuchClass"]);
    let err = dir.add(&unknown_class).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 21);
    let err = dir
        .modify(
            &e.dn,
            &[
                Modification::add("objectClass", ["posixAccount"]),
                Modification::add("uidNumber", ["1", "2"]),
                Modification::add("gidNumber", ["1"]),
                Modification::add("homeDirectory", ["/home/dup"]),
            ],
        )
        .await
        .unwrap_err();
    // slapd reports a second value of a SINGLE-VALUE attribute as constraintViolation (19).
    assert_eq!(err.code(), ErrorCode::ConstraintViolation, "{err}");

    // Removing a value that is not there; adding one twice.
    assert_eq!(
        dir.modify(&e.dn, &[Modification::delete("mail", ["none@x"])])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NoSuchAttribute
    );
    assert_eq!(
        dir.modify(&e.dn, &[Modification::add("sn", ["dup"])])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::ValueAlreadyExists
    );
    assert_eq!(
        dir.add(&person(&ou, "twice").with("mail", ["a@x", "a@x"]))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::ValueAlreadyExists
    );

    // A failed modify changed nothing (atomic).
    let got = dir.get(&e.dn, &[]).await.unwrap().unwrap();
    assert!(!got.has_value("objectClass", "posixAccount"));

    // Invalid attribute names never reach the server.
    assert_eq!(
        dir.modify(&e.dn, &[Modification::replace("sn)(x", ["v"])])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::ValidationFailed
    );
}

pub async fn rename_and_modify_errors(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "renerr").await;
    let a = person(&ou, "a");
    let b = person(&ou, "b");
    dir.add(&a).await.unwrap();
    dir.add(&b).await.unwrap();
    // Onto an existing DN.
    let err = dir
        .rename(&a.dn, &Rdn::new("uid", "b").unwrap(), true, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyExists, "{err}");
    // Below itself.
    let err = dir
        .rename(&ou, &Rdn::new("ou", "moved").unwrap(), true, Some(&a.dn))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnwillingToPerform, "{err}");
    // The suffix cannot be renamed.
    let err = dir
        .rename(&t.base, &Rdn::new("dc", "elsewhere").unwrap(), true, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnwillingToPerform, "{err}");
    // A non-leaf moves with its subtree.
    let renamed = dir
        .rename(
            &ou,
            &Rdn::new("ou", &format!("{}-r", ou.rdn().unwrap().value())).unwrap(),
            true,
            None,
        )
        .await
        .unwrap();
    let moved_a = renamed.child(Rdn::new("uid", "a").unwrap());
    assert!(
        dir.get(&moved_a, &[]).await.unwrap().is_some(),
        "children moved"
    );
    assert!(dir.get(&a.dn, &[]).await.unwrap().is_none());

    // Structural class change, RDN value removal, attribute not allowed, unknown attribute
    // in a compare: all refused, each with slapd's code.
    let err = dir
        .modify(
            &moved_a,
            &[Modification::replace("objectClass", ["account"])],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaViolation, "{err}");
    let err = dir
        .modify(
            &moved_a,
            &[
                Modification::delete("uid", ["a"]),
                Modification::add("uid", ["z"]),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaViolation, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 64);
    let err = dir
        .modify(&moved_a, &[Modification::add("uidNumber", ["5"])])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaViolation, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 65);
    let err = dir.compare(&moved_a, "frobnicate", b"x").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaViolation, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 17);
    // An invalid syntax value.
    let err = dir
        .modify(
            &moved_a,
            &[
                Modification::add("objectClass", ["posixAccount"]),
                Modification::add("uidNumber", ["abc"]),
                Modification::add("gidNumber", ["1"]),
                Modification::add("homeDirectory", ["/h"]),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed, "{err}");
    assert_eq!(err.details()["ldap_result_code"], 21);
}

pub async fn hashed_passwords_verify_on_both(t: &Target) {
    use heracles_core::password::{hash, Scheme};
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "hash").await;
    for scheme in Scheme::ALL {
        let uid = format!("h-{}", scheme.as_str());
        let e = person(&ou, &uid).with("userPassword", [hash("Hash-Passw0rd!", *scheme).unwrap()]);
        dir.add(&e).await.unwrap();
        assert!(
            dir.check_password(&e.dn, "Hash-Passw0rd!").await.unwrap(),
            "{scheme:?}"
        );
        assert!(
            !dir.check_password(&e.dn, "Hash-Passw0rd?").await.unwrap(),
            "{scheme:?}"
        );
    }
}
