//! Unit tests of the key parser, with keys made by `ssh-keygen` (OpenSSH 9.2) and their
//! fingerprints as `ssh-keygen -l` printed them. The security-key (`sk-`) keys were built
//! from the Ed25519 and P-256 keys below with the application `ssh:` (no device needed to
//! read a public key) and fingerprinted by `ssh-keygen -l` too.

use super::*;
use crate::error::ErrorCode;

/// `ssh-keygen -l`: 256 SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y jdoe@laptop (ED25519)
const ED25519: &str = concat!(
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R",
    " jdoe@laptop",
);
const ED25519_FP: &str = "SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y";

/// `ssh-keygen -l`: 2048 SHA256:USa6guiiEt2doad5hJJ57r+rQwiuOd4vcTp4JAnWQcI jdoe@laptop-rsa2048 (RSA)
const RSA_2048: &str = concat!(
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDr37iGVe0c/Hp1N9upnTx2dJSBHfo6eCjyjgJRO75Q",
    "+eAbst817krVcniOgEm3IMMbeA/X8ZurrwmuhjcY5z/WJsqn2sY996l989SPanB5aSlTm/DCDKDI036Y",
    "WJVoNLcdtGiXaCWdLPmnjBYWHM1N7rokUKMr6F5JtU8EH9u3A6m6OeKwelf9A2HFDctPZIMms1c98cIg",
    "DgkAznkP5xdfpJixrmVb3WQXkSwwp/pbdq/yqR1YcFUc+K9cr705tfelAFLf3LbWOTsml05WVeTDMmmO",
    "2S2Z3L6Ply9mXcSnPm61RLrBFkiX39cKg1XKPoLaGWgD2WwfmzR4LOrC/rlZ jdoe@laptop-rsa2048",
);
const RSA_2048_FP: &str = "SHA256:USa6guiiEt2doad5hJJ57r+rQwiuOd4vcTp4JAnWQcI";

/// `ssh-keygen -l`: 3072 SHA256:B/3vYeefiE8TSsW+KUjbC1MmBLQsUQ145ewEN9Zn22A jdoe@laptop-rsa3072 (RSA)
const RSA_3072: &str = concat!(
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDOh48e+DvkrsqPxBPaYnWYrTgLgs43MI6UwF3H3jni",
    "HQG+6enG9D42x2T0wlsswXqwYSOktUYhgvJTER/PEXnrEL12oX+L9MvK7RoFNuhCzNnlCJ+70q4SNoya",
    "rIV2vlSMDrxBuzLPio4IPbRuRYrRAldoQvBQv/MZYdmkH3ZUXvXm1VUk57Wm7jzxYQaIiFjjeQWE1Ur3",
    "/NJXfIRIaCMzj02HrNbl/6HSco87EP/G1rykRVhGWK7p7WNQnV36tu45tqWZ6zTsQfY9Wh67uO07EnTr",
    "gBbgOO5C6eeSv08zpHJjWbN//gOivsIDMGEF2lUL/T2WAskPdkf38iT6dMQWgf+tCLdWsrUiTGQAbiDT",
    "X0/9+cJA9+7wu0kNaPQm7t1LYg2ZKB8onPS4HkTDO4uFNpdcri9oPQlyjCeryxR3Eea8dinFYjNZc75B",
    "jx2G/mdxWgVGxwRLjXAgEg62pQVnt/OLMj9Wxm7JHiZ/wedbDWVL1N7Lb/fTVyD0NVGz580= jdoe@la",
    "ptop-rsa3072",
);
const RSA_3072_FP: &str = "SHA256:B/3vYeefiE8TSsW+KUjbC1MmBLQsUQ145ewEN9Zn22A";

/// `ssh-keygen -l`: 1024 SHA256:7hXmzbHF9RPvqT9rveU3cUhbGRJK7bHUFlbZjJVx6og jdoe@laptop-rsa1024 (RSA)
const RSA_1024: &str = concat!(
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFbHBSv9Zxz8KDaB2Vt8EwVU0cVMzLYa//gGDy16IM",
    "w20xb3xRse64IQPcXa0J8Q4r40cQsxLXkbVzXpu4BZ2/UHGFSfiXcI4CEHjkfZHQRKSkkNQTwMMsf33x",
    "+DhUII5jUGMK/f4XpkNzSh/3KnRdLAFJqG5ez20QfB340/Nriw== jdoe@laptop-rsa1024",
);

/// `ssh-keygen -l`: 256 SHA256:ApilOiBxFblI1V+YfgR4QdWJSoTe7gDFdCUWATohoXU jdoe@laptop-ecdsa256 (ECDSA)
const ECDSA_256: &str = concat!(
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLeZCp55",
    "ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOYpuJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pA=",
    " jdoe@laptop-ecdsa256",
);
const ECDSA_256_FP: &str = "SHA256:ApilOiBxFblI1V+YfgR4QdWJSoTe7gDFdCUWATohoXU";

/// `ssh-keygen -l`: 384 SHA256:OyziANlyjr4Gu/VGF0enUHjQQ3UncrSHIRC3TLBGAKE jdoe@laptop-ecdsa384 (ECDSA)
const ECDSA_384: &str = concat!(
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBAnJ30rh",
    "7Sn/jVfa62imKYWtoxfUB6YYlLRhKKfZv7fklY/GnR39Fkd5ggxtLGJE17vI4om8fsybmdAKDFiTuedJ",
    "6HiQJzS3yeREaN8T4CR9f2j+MAKEx+z58YwMd41RHA== jdoe@laptop-ecdsa384",
);
const ECDSA_384_FP: &str = "SHA256:OyziANlyjr4Gu/VGF0enUHjQQ3UncrSHIRC3TLBGAKE";

/// `ssh-keygen -l`: 521 SHA256:173uxERzfd+RL07rwuVVAdWwyCPyR5/O1kfKz8la7Lg jdoe@laptop-ecdsa521 (ECDSA)
const ECDSA_521: &str = concat!(
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACp4ino",
    "JhtiSFg1yL0vl82qbUzxeLNKRJqgOleKUhUQKO9nYpyuTwol6J22rqEVw9cCjx3e224QPEj/I6hXMTIO",
    "TwGQkRt5fubFJ9AM2dgsEo/3On197pfEKopFx1BcHbVi5mh77jLHZ9TrTG6b0leqnno3jKQ0qlQ210UF",
    "wkydwD9XXA== jdoe@laptop-ecdsa521",
);
const ECDSA_521_FP: &str = "SHA256:173uxERzfd+RL07rwuVVAdWwyCPyR5/O1kfKz8la7Lg";

/// `ssh-keygen -l`: 256 SHA256:Xudl891K3csfh+P9+FWbDirtJWDyOv134eR1N436d9A jdoe@yubikey (ED25519-SK)
const SK_ED25519: &str = concat!(
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAINhIL8LfQ",
    "/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8RAAAABHNzaDo= jdoe@yubikey",
);
const SK_ED25519_FP: &str = "SHA256:Xudl891K3csfh+P9+FWbDirtJWDyOv134eR1N436d9A";

/// `ssh-keygen -l`: 256 SHA256:kubQvRTdezh4dL0CpPOHjZ9//f/hHt+oqZB0+1e4p1U jdoe@yubikey-ec (ECDSA-SK)
const SK_ECDSA: &str = concat!(
    "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNza",
    "C5jb20AAAAIbmlzdHAyNTYAAABBBLeZCp55ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOY",
    "puJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pAAAAAEc3NoOg== jdoe@yubikey-ec",
);
const SK_ECDSA_FP: &str = "SHA256:kubQvRTdezh4dL0CpPOHjZ9//f/hHt+oqZB0+1e4p1U";

fn reason(line: &str) -> String {
    let e = PublicKey::parse(line).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed, "{line}");
    assert_eq!(e.details()["field"], "public_key");
    e.details()["reason"].as_str().unwrap().to_owned()
}

/// The same line with its key data replaced by the base64 of `blob`.
fn with_blob(line: &str, blob: &[u8]) -> String {
    let mut parts: Vec<String> = line.split(' ').map(str::to_owned).collect();
    parts[1] = Base64::encode_string(blob);
    parts.join(" ")
}

fn blob_of(line: &str) -> Vec<u8> {
    Base64::decode_vec(line.split(' ').nth(1).unwrap()).unwrap()
}

fn string(v: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(v.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(v);
    out
}

#[test]
fn real_keys_parse_with_ssh_keygen_fingerprints() {
    let cases = [
        (ED25519, ED25519_FP, KeyType::Ed25519, 256, "jdoe@laptop"),
        (
            RSA_2048,
            RSA_2048_FP,
            KeyType::Rsa,
            2048,
            "jdoe@laptop-rsa2048",
        ),
        (
            RSA_3072,
            RSA_3072_FP,
            KeyType::Rsa,
            3072,
            "jdoe@laptop-rsa3072",
        ),
        (
            ECDSA_256,
            ECDSA_256_FP,
            KeyType::EcdsaP256,
            256,
            "jdoe@laptop-ecdsa256",
        ),
        (
            ECDSA_384,
            ECDSA_384_FP,
            KeyType::EcdsaP384,
            384,
            "jdoe@laptop-ecdsa384",
        ),
        (
            ECDSA_521,
            ECDSA_521_FP,
            KeyType::EcdsaP521,
            521,
            "jdoe@laptop-ecdsa521",
        ),
        (
            SK_ED25519,
            SK_ED25519_FP,
            KeyType::SkEd25519,
            256,
            "jdoe@yubikey",
        ),
        (
            SK_ECDSA,
            SK_ECDSA_FP,
            KeyType::SkEcdsaP256,
            256,
            "jdoe@yubikey-ec",
        ),
    ];
    for (line, fp, kind, bits, comment) in cases {
        let k = PublicKey::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(k.key_type(), kind, "{line}");
        assert_eq!(k.bits(), bits, "{line}");
        assert_eq!(k.fingerprint(), fp, "{line}");
        assert_eq!(k.comment(), Some(comment));
        assert_eq!(k.to_line(), line, "the canonical line is the input");
        assert_eq!(id_of_fingerprint(fp), Some(k.id()));
        assert!(!k.id().contains(['+', '/', '=']), "{}", k.id());
        assert_eq!(k.id().len(), 43);
        // Parsing the stored form gives the same key.
        assert_eq!(PublicKey::parse_stored(&k.to_line()).unwrap(), (None, k));
    }
}

#[test]
fn blanks_and_comments() {
    // A pasted .pub file: line end, extra blanks, tabs.
    let k = PublicKey::parse(&format!("  {}\r\n", ED25519.replace(' ', " \t "))).unwrap();
    assert_eq!(k.fingerprint(), ED25519_FP);
    assert_eq!(k.to_line(), ED25519);
    // No comment.
    let bare: String = ED25519.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let k = PublicKey::parse(&bare).unwrap();
    assert_eq!(k.comment(), None);
    assert_eq!(k.to_line(), bare);
    // A comment with blanks and UTF-8 is kept as it is.
    let k = PublicKey::parse(&format!("{bare} Jöhn Doe  (laptop)")).unwrap();
    assert_eq!(k.comment(), Some("Jöhn Doe  (laptop)"));
    assert_eq!(reason(&format!("{bare} a\u{7}b")), "invalid_comment");
    assert_eq!(
        reason(&format!("{bare} {}", "c".repeat(MAX_COMMENT_LEN + 1))),
        "comment_too_long"
    );
}

#[test]
fn malformed_lines_are_refused_with_a_reason() {
    let bare: String = ED25519.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let data = ED25519.split(' ').nth(1).unwrap();
    for (line, why) in [
        ("", "empty"),
        (" \n\t", "empty"),
        ("ssh-ed25519", "missing_key_data"),
        ("ssh-ed25519 ", "missing_key_data"),
        ("ssh-ed25519 not*base64", "bad_base64"),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ",
            "bad_base64",
        ),
        ("ssh-rsa AAAA", "truncated"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP1", "unsupported_type"),
        ("ssh-ed25519-cert-v01@openssh.com AAAA", "unsupported_type"),
        ("hello", "unsupported_type"),
        ("AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ", "unsupported_type"),
        ("SSH-ED25519 AAAA", "unsupported_type"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n",
            "private_key",
        ),
        (
            "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n---- END SSH2 PUBLIC KEY ----",
            "wrong_format",
        ),
    ] {
        assert_eq!(reason(line), why, "{line:?}");
    }
    // Options before the type.
    for opts in [
        "no-pty",
        "from=\"10.0.0.1\"",
        "command=\"/bin/date\",no-port-forwarding",
        "restrict",
    ] {
        assert_eq!(
            reason(&format!("{opts} {ED25519}")),
            "options_not_supported",
            "{opts}"
        );
    }
    // Two keys in one value.
    assert_eq!(reason(&format!("{ED25519}\n{ECDSA_256}")), "multiple_lines");
    assert_eq!(reason(&"A".repeat(MAX_LINE_LEN + 1)), "too_long");
    // The declared type must be the inner one.
    assert_eq!(reason(&format!("ssh-rsa {data}")), "type_mismatch");
    assert_eq!(
        reason(&ECDSA_384.replacen("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp256", 1)),
        "type_mismatch"
    );
    // The error names the bad value.
    let e = PublicKey::parse("ssh-dss AAAA").unwrap_err();
    assert_eq!(e.details()["type"], "ssh-dss");
    assert!(e.message().contains("ssh-dss"), "{}", e.message());
    assert!(
        e.message().contains("ssh-ed25519"),
        "lists the supported types"
    );
    let _ = bare;
}

#[test]
fn key_data_is_checked() {
    // RSA under 2048 bits.
    let e = PublicKey::parse(RSA_1024).unwrap_err();
    assert_eq!(e.details()["reason"], "rsa_too_small");
    assert_eq!(e.details()["bits"], 1024);
    assert!(e.message().contains("1024"));

    // Trailing bytes after the key.
    let mut blob = blob_of(ED25519);
    blob.push(0);
    assert_eq!(reason(&with_blob(ED25519, &blob)), "trailing_data");

    // An Ed25519 key of the wrong length.
    let mut blob = string(b"ssh-ed25519");
    blob.extend(string(&[7; 31]));
    assert_eq!(reason(&with_blob(ED25519, &blob)), "invalid_key");

    // An ECDSA point off the curve (one bit of y flipped), a compressed point, and the
    // wrong curve name inside.
    for line in [ECDSA_256, ECDSA_384, ECDSA_521, SK_ECDSA] {
        let mut blob = blob_of(line);
        // The last coordinate byte (before the application string of an sk key).
        let at = if line == SK_ECDSA {
            blob.len() - 9
        } else {
            blob.len() - 1
        };
        blob[at] ^= 1;
        assert_eq!(reason(&with_blob(line, &blob)), "invalid_key", "{line}");
    }
    let good = blob_of(ECDSA_256);
    let mut fields = Fields(&good);
    fields.string().unwrap();
    fields.string().unwrap();
    let point = fields.string().unwrap();
    let mut compressed = string(b"ecdsa-sha2-nistp256");
    compressed.extend(string(b"nistp256"));
    let mut short = vec![0x02];
    short.extend_from_slice(&point[1..33]);
    compressed.extend(string(&short));
    assert_eq!(reason(&with_blob(ECDSA_256, &compressed)), "invalid_key");
    let mut renamed = string(b"ecdsa-sha2-nistp256");
    renamed.extend(string(b"nistp384"));
    renamed.extend(string(point));
    assert_eq!(reason(&with_blob(ECDSA_256, &renamed)), "type_mismatch");

    // RSA: even exponent, even modulus, negative modulus.
    let rsa = |e: &[u8], n: &[u8]| {
        let mut b = string(b"ssh-rsa");
        b.extend(string(e));
        b.extend(string(n));
        with_blob(RSA_2048, &b)
    };
    let mut n = vec![0x00, 0xc1];
    n.extend(vec![0x55; 255]); // 2048 bits, odd
    assert!(PublicKey::parse(&rsa(&[1, 0, 1], &n)).is_ok());
    assert_eq!(PublicKey::parse(&rsa(&[1, 0, 1], &n)).unwrap().bits(), 2048);
    assert_eq!(reason(&rsa(&[1, 0, 0], &n)), "invalid_key");
    assert_eq!(reason(&rsa(&[1], &n)), "invalid_key");
    let mut even = n.clone();
    *even.last_mut().unwrap() = 0x54;
    assert_eq!(reason(&rsa(&[1, 0, 1], &even)), "invalid_key");
    assert_eq!(reason(&rsa(&[1, 0, 1], &n[1..])), "invalid_key"); // high bit: negative
    let mut big = vec![0x00, 0xc1];
    big.extend(vec![0x55; 2048]);
    assert_eq!(reason(&rsa(&[1, 0, 1], &big)), "rsa_too_large");
    // Leading zero bytes do not count as bits.
    let mut padded = vec![0, 0];
    padded.extend_from_slice(&n);
    assert_eq!(
        PublicKey::parse(&rsa(&[1, 0, 1], &padded)).unwrap().bits(),
        2048
    );

    // A length running past the data.
    let mut blob = string(b"ssh-ed25519");
    blob.extend_from_slice(&[0, 0, 0, 40, 1, 2, 3]);
    assert_eq!(reason(&with_blob(ED25519, &blob)), "truncated");
}

#[test]
fn stored_values_may_carry_options() {
    let (options, key) =
        PublicKey::parse_stored(&format!("from=\"10.0.0.0/8,host a\",no-pty {ED25519}")).unwrap();
    assert_eq!(
        options.as_deref(),
        Some("from=\"10.0.0.0/8,host a\",no-pty")
    );
    assert_eq!(key.fingerprint(), ED25519_FP);
    let (options, key) = PublicKey::parse_stored(ECDSA_521).unwrap();
    assert_eq!(options, None);
    assert_eq!(key.bits(), 521);
    assert!(PublicKey::parse_stored("garbage value").is_err());
    assert!(PublicKey::parse_stored("no-pty").is_err());
    assert_ne!(
        id_of_value(ED25519.as_bytes()),
        PublicKey::parse(ED25519).unwrap().id()
    );
}

#[test]
fn fingerprints_convert_to_ids() {
    assert_eq!(id_of_fingerprint("SHA256:short"), None);
    assert_eq!(
        id_of_fingerprint("RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y"),
        None
    );
    assert_eq!(id_of_fingerprint("SHA256:not base64!"), None);
    for t in KeyType::ALL {
        assert_eq!(KeyType::from_name(t.name()), Some(*t));
    }
    assert_eq!(KeyType::from_name("ssh-dss"), None);
}
