//! Users' SSH keys through the core on both backends, and the consumer check: the stored
//! `sshPublicKey` values, read straight from the directory as an sshd
//! `AuthorizedKeysCommand` reads them (`ldapsearch … sshPublicKey`), are OpenSSH
//! `authorized_keys` lines whose fingerprints `ssh-keygen -l` computes as we do.

use std::process::Command;

use heracles_core::service::ssh_keys::{NewSshKey, SshKey};
use heracles_core::service::{Heracles, ListQuery, Principal};
use heracles_core::sshkey::PublicKey;
use heracles_core::ErrorCode;
use serde_json::json;

use crate::fixture::Target;
use crate::sudo::{consumer_tool, ready, tag};

// Keys made with `ssh-keygen` (OpenSSH 9.2); fingerprints as `ssh-keygen -l` printed them.
// `ssh-keygen -l`: 256 SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y jdoe@laptop (ED25519)
const ED25519: &str = concat!(
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R",
    " jdoe@laptop",
);
const ED25519_FP: &str = "SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y";

// `ssh-keygen -l`: 2048 SHA256:USa6guiiEt2doad5hJJ57r+rQwiuOd4vcTp4JAnWQcI jdoe@laptop-rsa2048 (RSA)
const RSA_2048: &str = concat!(
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDr37iGVe0c/Hp1N9upnTx2dJSBHfo6eCjyjgJRO75Q",
    "+eAbst817krVcniOgEm3IMMbeA/X8ZurrwmuhjcY5z/WJsqn2sY996l989SPanB5aSlTm/DCDKDI036Y",
    "WJVoNLcdtGiXaCWdLPmnjBYWHM1N7rokUKMr6F5JtU8EH9u3A6m6OeKwelf9A2HFDctPZIMms1c98cIg",
    "DgkAznkP5xdfpJixrmVb3WQXkSwwp/pbdq/yqR1YcFUc+K9cr705tfelAFLf3LbWOTsml05WVeTDMmmO",
    "2S2Z3L6Ply9mXcSnPm61RLrBFkiX39cKg1XKPoLaGWgD2WwfmzR4LOrC/rlZ jdoe@laptop-rsa2048",
);
const RSA_2048_FP: &str = "SHA256:USa6guiiEt2doad5hJJ57r+rQwiuOd4vcTp4JAnWQcI";

// `ssh-keygen -l`: 1024 SHA256:7hXmzbHF9RPvqT9rveU3cUhbGRJK7bHUFlbZjJVx6og jdoe@laptop-rsa1024 (RSA)
const RSA_1024: &str = concat!(
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFbHBSv9Zxz8KDaB2Vt8EwVU0cVMzLYa//gGDy16IM",
    "w20xb3xRse64IQPcXa0J8Q4r40cQsxLXkbVzXpu4BZ2/UHGFSfiXcI4CEHjkfZHQRKSkkNQTwMMsf33x",
    "+DhUII5jUGMK/f4XpkNzSh/3KnRdLAFJqG5ez20QfB340/Nriw== jdoe@laptop-rsa1024",
);

// `ssh-keygen -l`: 384 SHA256:OyziANlyjr4Gu/VGF0enUHjQQ3UncrSHIRC3TLBGAKE jdoe@laptop-ecdsa384 (ECDSA)
const ECDSA_384: &str = concat!(
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBAnJ30rh",
    "7Sn/jVfa62imKYWtoxfUB6YYlLRhKKfZv7fklY/GnR39Fkd5ggxtLGJE17vI4om8fsybmdAKDFiTuedJ",
    "6HiQJzS3yeREaN8T4CR9f2j+MAKEx+z58YwMd41RHA== jdoe@laptop-ecdsa384",
);
const ECDSA_384_FP: &str = "SHA256:OyziANlyjr4Gu/VGF0enUHjQQ3UncrSHIRC3TLBGAKE";

// `ssh-keygen -l`: 256 SHA256:Xudl891K3csfh+P9+FWbDirtJWDyOv134eR1N436d9A jdoe@yubikey (ED25519-SK)
const SK_ED25519: &str = concat!(
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAINhIL8LfQ",
    "/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8RAAAABHNzaDo= jdoe@yubikey",
);
const SK_ED25519_FP: &str = "SHA256:Xudl891K3csfh+P9+FWbDirtJWDyOv134eR1N436d9A";

// `ssh-keygen -l`: 256 SHA256:ApilOiBxFblI1V+YfgR4QdWJSoTe7gDFdCUWATohoXU jdoe@laptop-ecdsa256 (ECDSA)
const ECDSA_256: &str = concat!(
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLeZCp55",
    "ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOYpuJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pA=",
    " jdoe@laptop-ecdsa256",
);

fn new(line: &str) -> NewSshKey {
    NewSshKey {
        public_key: line.to_owned(),
    }
}

async fn make_user(h: &Heracles, admin: &Principal, uid: &str) -> heracles_core::dn::Dn {
    let body = json!({"uid": uid, "cn": "Key Holder", "sn": "Holder",
                      "userPassword": "Key-holder-passw0rd"});
    h.users()
        .create(admin, body.as_object().unwrap())
        .await
        .unwrap()
        .dn
}

/// A key made now by `ssh-keygen`, when it is installed.
fn fresh_key(comment: &str) -> Option<String> {
    let tool = consumer_tool("ssh-keygen", "openssh-client")?;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let out = Command::new(tool)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read_to_string(path.with_extension("pub")).unwrap())
}

/// `ssh-keygen -l -f` over an `authorized_keys` file of `lines`: its fingerprints.
fn ssh_keygen_fingerprints(lines: &[String]) -> Option<Vec<String>> {
    let tool = consumer_tool("ssh-keygen", "openssh-client")?;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorized_keys");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = Command::new(tool)
        .arg("-l")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fps: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().to_owned())
        .collect();
    fps.sort();
    Some(fps)
}

pub async fn ssh_keys_lifecycle_and_stored_format(t: &Target) {
    let (h, admin) = ready(t).await;
    let uid = tag("sk");
    let dn = make_user(&h, &admin, &uid).await;
    let keys = h.ssh_keys();

    // Added in whatever shape a user pastes them; answered with the ssh-keygen fingerprint.
    let mut added = Vec::new();
    for (line, fp, kind, bits) in [
        (format!("{ED25519}\n"), ED25519_FP, "ssh-ed25519", 256),
        (format!("  {RSA_2048}  "), RSA_2048_FP, "ssh-rsa", 2048),
        (
            ECDSA_384.to_owned(),
            ECDSA_384_FP,
            "ecdsa-sha2-nistp384",
            384,
        ),
        (
            SK_ED25519.to_owned(),
            SK_ED25519_FP,
            "sk-ssh-ed25519@openssh.com",
            256,
        ),
    ] {
        let k = keys.add(&admin, &uid, &new(&line)).await.unwrap();
        assert_eq!(k.fingerprint.as_deref(), Some(fp));
        assert_eq!(k.key_type, kind);
        assert_eq!(k.bits, Some(bits));
        assert_eq!(k.public_key, line.trim());
        added.push(k);
    }
    let fresh = fresh_key(&format!("{uid}@test host"));
    if let Some(line) = &fresh {
        let k = keys.add(&admin, &uid, &new(line)).await.unwrap();
        assert_eq!(
            k.comment.as_deref(),
            Some(format!("{uid}@test host").as_str())
        );
        added.push(k);
    }

    // What an AuthorizedKeysCommand gets: the attribute's values, each exactly one
    // `type base64 comment` line.
    let e = t
        .dir()
        .get(&dn, &["sshPublicKey", "objectClass"])
        .await
        .unwrap()
        .unwrap();
    assert!(e.has_value("objectClass", "ldapPublicKey"));
    let mut stored: Vec<String> = e
        .strs("sshPublicKey")
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(stored.len(), added.len());
    for v in &stored {
        let parts: Vec<&str> = v.splitn(3, ' ').collect();
        assert_eq!(parts.len(), 3, "type, key data and comment: {v}");
        assert!(!v.contains(['\n', '\r', '\t']), "{v:?}");
        assert_eq!(v.trim(), v);
        let k = PublicKey::parse(v).unwrap();
        assert_eq!(parts[0], k.key_type().name());
        assert_eq!(k.to_line(), *v, "stored in canonical form");
        assert!(added.iter().any(|a| &a.public_key == v));
    }
    stored.sort();
    let mut ours: Vec<String> = added
        .iter()
        .map(|k| k.fingerprint.clone().unwrap())
        .collect();
    ours.sort();
    if let Some(theirs) = ssh_keygen_fingerprints(&stored) {
        assert_eq!(
            theirs, ours,
            "ssh-keygen -l reads the stored lines as we do"
        );
    }

    // Refusals: the same key again (another comment), a short RSA key, options, junk.
    let e = keys
        .add(&admin, &uid, &new(&ED25519.replace("jdoe@laptop", "again")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    assert_eq!(e.details()["fingerprint"], ED25519_FP);
    for (line, reason) in [
        (RSA_1024.to_owned(), "rsa_too_small"),
        (
            format!("command=\"/bin/sh\" {ED25519}"),
            "options_not_supported",
        ),
        ("ssh-ed25519 AAAA!!".to_owned(), "bad_base64"),
        (String::new(), "empty"),
    ] {
        let e = keys.add(&admin, &uid, &new(&line)).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{line}");
        assert_eq!(e.details()["reason"], reason, "{line}");
        assert_eq!(e.details()["field"], "public_key");
    }
    let e = keys
        .add(&admin, "no-such-user-x", &new(ED25519))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UserNotFound);

    // Listing: filters, sort, paging.
    let all = keys
        .list(&admin, &uid, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(all.pagination.total, added.len() as u64);
    let page = keys
        .list(
            &admin,
            &uid,
            &ListQuery::default().filter("type:eq:ssh-rsa"),
        )
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].bits, Some(2048));
    let page = keys
        .list(&admin, &uid, &ListQuery::default().sort("-bits"))
        .await
        .unwrap();
    assert_eq!(page.data[0].bits, Some(2048));
    let e = keys
        .list(&admin, &uid, &ListQuery::default().filter("colour:eq:x"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFilter);
    // Users with keys can be found; the user answer shows the keys too.
    let found = h
        .users()
        .list(
            &admin,
            &ListQuery::default()
                .filter("sshPublicKey:present")
                .filter(format!("uid:eq:{uid}")),
        )
        .await
        .unwrap();
    assert_eq!(found.pagination.total, 1);
    let e = h
        .users()
        .list(
            &admin,
            &ListQuery::default().filter("sshPublicKey:contains:ssh"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::InvalidFilter,
        "octetStringMatch has no substrings"
    );
    let user = h.users().get(&admin, &uid).await.unwrap();
    assert_eq!(
        user.field("sshPublicKey")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        added.len()
    );

    // A value another tool wrote with options, and one that is no key at all: listed,
    // deletable by their id.
    t.dir()
        .modify(
            &dn,
            &[heracles_core::directory::Modification::add(
                "sshPublicKey",
                [
                    format!("no-pty,from=\"10.0.0.0/8\" {ECDSA_256}"),
                    "garbage".to_owned(),
                ],
            )],
        )
        .await
        .unwrap();
    let listed = keys
        .list(&admin, &uid, &ListQuery::default())
        .await
        .unwrap()
        .data;
    let junk = listed.iter().find(|k| k.key_type == "unknown").unwrap();
    assert_eq!(junk.fingerprint, None);
    let with_options = listed.iter().find(|k| k.options.is_some()).unwrap();
    assert_eq!(
        with_options.options.as_deref(),
        Some("no-pty,from=\"10.0.0.0/8\"")
    );
    keys.delete(&admin, &uid, &junk.id.clone()).await.unwrap();
    keys.delete(&admin, &uid, &with_options.id.clone())
        .await
        .unwrap();

    // Deleting every key (by id, or by fingerprint) removes the class with the last.
    for (i, k) in added.iter().enumerate() {
        let handle = if i % 2 == 0 {
            k.id.clone()
        } else {
            k.fingerprint.clone().unwrap()
        };
        keys.delete(&admin, &uid, &handle)
            .await
            .unwrap_or_else(|e| panic!("{handle}: {e}"));
    }
    let e = keys.delete(&admin, &uid, &added[0].id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SshKeyNotFound);
    assert_eq!(e.details()["uid"], uid.as_str());
    let e = keys
        .delete(&admin, &uid, "SHA256:not-a-fingerprint")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SshKeyNotFound);
    let e = t
        .dir()
        .get(&dn, &["sshPublicKey", "objectClass"])
        .await
        .unwrap()
        .unwrap();
    assert!(!e.has_value("objectClass", "ldapPublicKey"), "{e:?}");
    assert!(e.get("sshPublicKey").is_empty());
    assert!(keys
        .list(&admin, &uid, &ListQuery::default())
        .await
        .unwrap()
        .data
        .is_empty());

    // Every change is audited as a modify of the user, with the key values.
    let events = h
        .audit()
        .list(
            &admin,
            &ListQuery::default()
                .filter(format!("target:eq:{dn}"))
                .filter("action:eq:modify")
                .filter("result:eq:success"),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(
        events.data.len() >= added.len() * 2,
        "{}",
        events.data.len()
    );
    assert!(events.data.iter().all(|ev| ev.object_type == "user"));
    assert!(events.data.iter().any(|ev| ev
        .changes
        .iter()
        .any(|c| c.attribute == "sshPublicKey" && c.new.iter().any(|v| v == ED25519))));
    h.users().delete(&admin, &uid).await.unwrap();
}

pub async fn ssh_keys_self_service_and_concurrent_writes(t: &Target) {
    let (h, admin) = ready(t).await;
    let (a, b) = (tag("ska"), tag("skb"));
    let a_dn = make_user(&h, &admin, &a).await;
    make_user(&h, &admin, &b).await;
    let keys = h.ssh_keys();

    // The built-in `self` policy: a user manages its own keys, not another's.
    let me = h.principal(&a_dn).await.unwrap();
    let k = keys.add(&me, &a, &new(ED25519)).await.unwrap();
    assert_eq!(
        keys.list(&me, &a, &ListQuery::default())
            .await
            .unwrap()
            .data,
        vec![k.clone()]
    );
    for e in [
        keys.add(&me, &b, &new(ED25519)).await.unwrap_err(),
        keys.list(&me, &b, &ListQuery::default()).await.unwrap_err(),
        keys.delete(&me, &b, &k.id).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::AclDenied, "{e}");
    }
    keys.delete(&me, &a, &k.id).await.unwrap();

    // Concurrent writes on one user: none is lost; one key cannot be added twice.
    let (k1, k2, k3, k4) = (new(ED25519), new(RSA_2048), new(ECDSA_384), new(SK_ED25519));
    let (x, y, z) = tokio::join!(
        keys.add(&admin, &a, &k1),
        keys.add(&admin, &a, &k2),
        keys.add(&admin, &a, &k3),
    );
    let (x, y, z) = (x.unwrap(), y.unwrap(), z.unwrap());
    let (p, q) = tokio::join!(keys.add(&admin, &a, &k4), keys.add(&admin, &a, &k4),);
    assert!(
        p.is_ok() != q.is_ok(),
        "exactly one of two equal adds succeeds"
    );
    let e = p.err().or(q.err()).unwrap();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let listed: Vec<SshKey> = keys
        .list(&admin, &a, &ListQuery::default())
        .await
        .unwrap()
        .data;
    assert_eq!(listed.len(), 4);
    let (r1, r2) = tokio::join!(
        keys.delete(&admin, &a, &x.id),
        keys.delete(&admin, &a, &y.id)
    );
    r1.unwrap();
    r2.unwrap();
    let last = listed
        .iter()
        .find(|k| k.id != x.id && k.id != y.id && k.id != z.id)
        .unwrap();
    let (r1, r2) = tokio::join!(
        keys.delete(&admin, &a, &z.id),
        keys.delete(&admin, &a, &last.id)
    );
    r1.unwrap();
    r2.unwrap();
    let e = t
        .dir()
        .get(&a_dn, &["objectClass", "sshPublicKey"])
        .await
        .unwrap()
        .unwrap();
    assert!(!e.has_value("objectClass", "ldapPublicKey"));
    assert!(e.get("sshPublicKey").is_empty());

    h.users().delete(&admin, &a).await.unwrap();
    h.users().delete(&admin, &b).await.unwrap();
}
