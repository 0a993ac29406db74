use std::io::{BufReader, Read};

use proptest::prelude::*;

use super::*;
use crate::directory::{Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::ErrorCode;

fn dn(s: &str) -> Dn {
    Dn::parse(s).unwrap()
}

fn entries(input: &str) -> Vec<Entry> {
    parse_entries(input).unwrap()
}

/// Parses `input` expecting an error; returns (code, line, reason).
fn fails(input: &str) -> (ErrorCode, u64, String) {
    let err = parse(input).unwrap_err();
    let line = err.details()["line"].as_u64().unwrap();
    let reason = err.details()["reason"].as_str().unwrap().to_owned();
    assert!(err.message().contains(&format!("line {line}")), "{err}");
    (err.code(), line, reason)
}

// ---- RFC 2849 example 1 and 2: simple entries, folding --------------------------------------

#[test]
fn simple_entries_with_version_and_folding() {
    let input = "version: 1\n\
dn: cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com\n\
objectclass: top\n\
objectclass: person\n\
objectclass: organizationalPerson\n\
cn: Barbara Jensen\n\
cn: Barbara J Jensen\n\
cn: Babs Jensen\n\
sn: Jensen\n\
uid: bjensen\n\
telephonenumber: +1 408 555 1212\n\
description: A big sailing fan.\n\
\n\
dn: cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com\n\
objectclass: top\n\
objectclass: person\n\
cn: Bjorn Jensen\n\
sn: Jensen\n\
telephonenumber: +1 408 555 1212\n";
    let es = entries(input);
    assert_eq!(es.len(), 2);
    assert_eq!(
        es[0].dn,
        dn("cn=Barbara Jensen,ou=Product Development,dc=airius,dc=com")
    );
    assert_eq!(es[0].get("objectClass").len(), 3);
    assert_eq!(
        es[0].strs("cn"),
        vec!["Barbara Jensen", "Barbara J Jensen", "Babs Jensen"]
    );
    assert_eq!(es[0].first_str("telephoneNumber"), Some("+1 408 555 1212"));
    assert_eq!(es[1].first_str("cn"), Some("Bjorn Jensen"));
    let records = parse(input).unwrap();
    assert!(records.iter().all(|r| !r.is_change()));
    assert_eq!(records[1].dn(), &es[1].dn);
}

#[test]
fn folded_values_and_no_space_after_colon() {
    let input = "dn:cn=Barbara Jensen, ou=Product Development,\n  dc=airius, dc=com\n\
description:Babs is a big sailing fan, and travels extensively in sea\n rch of perfect sailing conditions.\n\
title:Product Manager, Rod and Reel Division\n";
    let e = &entries(input)[0];
    assert_eq!(
        e.dn,
        dn("cn=Barbara Jensen,ou=Product Development,dc=airius,dc=com")
    );
    assert_eq!(
        e.first_str("description"),
        Some(
            "Babs is a big sailing fan, and travels extensively in search of perfect sailing \
             conditions."
        )
    );
    assert_eq!(
        e.first_str("title"),
        Some("Product Manager, Rod and Reel Division")
    );
}

#[test]
fn folding_may_split_anywhere_even_the_name_and_utf8() {
    // "é" is C3 A9: folding between the two bytes still yields valid UTF-8 once unfolded.
    let input = b"dn: cn=x,dc=com\ndesc\n ription: caf\xC3\n \xA9\n";
    let records: Vec<_> = LdifReader::new(&input[..])
        .collect::<crate::Result<_>>()
        .unwrap();
    let LdifRecord::Content(e) = &records[0] else {
        panic!()
    };
    assert_eq!(e.first_str("description"), Some("café"));
}

// ---- example 3 and 4: base64, UTF-8, attribute options ------------------------------------

#[test]
fn base64_values_dn_and_options() {
    let input = "dn:: b3U9VmVudGVzLG89U29jacOpdMOp\n\
ou:: VmVudGVz\n\
description:: TGluZSBvbmUNCkxpbmUgdHdv\n\
o;lang-fr:: U29jacOpdMOp\n\
o;lang-en: Company\n\
userCertificate;binary:: //4=\n\
empty::\n\
empty2:\n";
    let e = &entries(input)[0];
    assert_eq!(e.dn.to_string(), "ou=Ventes,o=Société");
    assert_eq!(e.first_str("ou"), Some("Ventes"));
    assert_eq!(e.get("description"), &[b"Line one\r\nLine two".to_vec()]);
    assert_eq!(e.first_str("o;LANG-FR"), Some("Société"));
    assert_eq!(e.first_str("o;lang-en"), Some("Company"));
    assert_eq!(e.get("o"), &[] as &[Vec<u8>]);
    assert_eq!(e.get("usercertificate;binary"), &[vec![0xff, 0xfe]]);
    assert_eq!(e.get("empty"), &[Vec::<u8>::new()]);
    assert_eq!(e.get("empty2"), &[Vec::<u8>::new()]);
    // Names keep the spelling of their first occurrence.
    assert!(e.attrs.iter().any(|a| a.name() == "userCertificate;binary"));
}

#[test]
fn base64_with_spaces_around_and_folded() {
    let e = &entries("dn: cn=x,dc=com\ncn::   RG/D\n qQ==  \n")[0];
    assert_eq!(e.first_str("cn"), Some("Doé"));
}

#[test]
fn plain_values_keep_trailing_spaces_and_utf8() {
    let e = &entries("dn: cn=x,dc=com\ncn:   two  spaces  \nsn: Doé\n")[0];
    assert_eq!(e.first_str("cn"), Some("two  spaces  "));
    assert_eq!(e.first_str("sn"), Some("Doé"));
}

// ---- example 5: URLs ------------------------------------------------------------------------

#[test]
fn url_values_are_refused() {
    let input = "dn: cn=Horatio Jensen,dc=com\ncn: Horatio Jensen\n\
jpegphoto:< file:///usr/local/directory/photos/fiona.jpg\n";
    let err = parse(input).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    assert_eq!(err.details()["line"], 3);
    assert_eq!(err.details()["reason"], "url_not_supported");
    assert!(err.message().contains("jpegphoto::"), "{err}");
}

// ---- example 6: change records --------------------------------------------------------------

const CHANGES: &str = "version: 1\n\
# Add a new entry\n\
dn: cn=Fiona Jensen, ou=Marketing, dc=airius, dc=com\n\
changetype: add\n\
objectclass: top\n\
objectclass: person\n\
cn: Fiona Jensen\n\
sn: Jensen\n\
jpegphoto:: /9j/4A==\n\
\n\
# Delete an existing entry\n\
dn: cn=Robert Jensen, ou=Marketing, dc=airius, dc=com\n\
changetype: delete\n\
\n\
# Modify an entry's relative distinguished name\n\
dn: cn=Paul Jensen, ou=Product Development, dc=airius, dc=com\n\
changetype: modrdn\n\
newrdn: cn=Paula Jensen\n\
deleteoldrdn: 1\n\
\n\
# Rename an entry and move all of its children to a new location in\n\
# the directory tree (only implemented by LDAPv3 servers).\n\
dn: ou=PD Accountants, ou=Product Development, dc=airius, dc=com\n\
changetype: moddn\n\
newrdn: ou=Product Development Accountants\n\
deleteoldrdn: 0\n\
newsuperior: ou=Accounting, dc=airius, dc=com\n\
\n\
# Modify an entry: add an additional value to the postaladdress\n\
# attribute, completely delete the description attribute, replace\n\
# the telephonenumber attribute with two values, and delete a specific\n\
# value from the facsimiletelephonenumber attribute\n\
dn: cn=Paula Jensen, ou=Product Development, dc=airius, dc=com\n\
changetype: modify\n\
add: postaladdress\n\
postaladdress: 123 Anystreet $ Sunnyvale, CA $ 94086\n\
-\n\
delete: description\n\
-\n\
replace: telephonenumber\n\
telephonenumber: +1 408 555 1234\n\
telephonenumber: +1 408 555 5678\n\
-\n\
delete: facsimiletelephonenumber\n\
facsimiletelephonenumber: +1 408 555 9876\n\
-\n\
\n\
# Modify an entry: replace the postaladdress attribute with an empty\n\
# set of values (which will cause the attribute to be removed), and\n\
# delete the entire description attribute. Note that the first will\n\
# always succeed, while the second will only succeed if at least\n\
# one value for the description attribute is present.\n\
dn: cn=Ingrid Jensen, ou=Product Support, dc=airius, dc=com\n\
changetype: modify\n\
replace: postaladdress\n\
-\n\
delete: description\n\
-\n";

#[test]
fn change_records_of_every_type() {
    let records = parse(CHANGES).unwrap();
    assert_eq!(records.len(), 6);
    let LdifRecord::Add(added) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(
        added.dn,
        dn("cn=Fiona Jensen,ou=Marketing,dc=airius,dc=com")
    );
    assert_eq!(added.get("jpegPhoto"), &[vec![0xff, 0xd8, 0xff, 0xe0]]);
    assert_eq!(
        records[1],
        LdifRecord::Delete {
            dn: dn("cn=Robert Jensen,ou=Marketing,dc=airius,dc=com")
        }
    );
    assert_eq!(
        records[2],
        LdifRecord::ModRdn {
            dn: dn("cn=Paul Jensen,ou=Product Development,dc=airius,dc=com"),
            new_rdn: Rdn::new("cn", "Paula Jensen").unwrap(),
            delete_old_rdn: true,
            new_superior: None,
        }
    );
    assert_eq!(
        records[3],
        LdifRecord::ModRdn {
            dn: dn("ou=PD Accountants,ou=Product Development,dc=airius,dc=com"),
            new_rdn: Rdn::new("ou", "Product Development Accountants").unwrap(),
            delete_old_rdn: false,
            new_superior: Some(dn("ou=Accounting,dc=airius,dc=com")),
        }
    );
    assert_eq!(
        records[4],
        LdifRecord::Modify {
            dn: dn("cn=Paula Jensen,ou=Product Development,dc=airius,dc=com"),
            changes: vec![
                Modification::add("postaladdress", ["123 Anystreet $ Sunnyvale, CA $ 94086"]),
                Modification::delete_all("description"),
                Modification::replace("telephonenumber", ["+1 408 555 1234", "+1 408 555 5678"]),
                Modification::delete("facsimiletelephonenumber", ["+1 408 555 9876"]),
            ],
        }
    );
    assert_eq!(
        records[5],
        LdifRecord::Modify {
            dn: dn("cn=Ingrid Jensen,ou=Product Support,dc=airius,dc=com"),
            changes: vec![
                Modification::replace("postaladdress", Vec::<&str>::new()),
                Modification::delete_all("description"),
            ],
        }
    );
    assert!(records.iter().all(LdifRecord::is_change));
    // parse_entries takes the adds of a change file, and refuses the other changes.
    let err = parse_entries(CHANGES).unwrap_err();
    assert_eq!(err.details()["reason"], "unexpected_change");
    assert_eq!(err.details()["line"], 12);
}

#[test]
fn change_records_are_case_insensitive_and_tolerant() {
    let input = "DN: cn=x,dc=com\nChangeType: Modify  \nREPLACE: CN\ncn: y\n-  \nadd: sn;lang-en\nSN;Lang-EN: z\n\n\
dN: cn=y,dc=com\nchangetype: MODRDN\nnewrdn:: Y249eg==\ndeleteoldrdn: 0 \nnewsuperior:: ZGM9b3Jn\n\n\
dn: cn=z,dc=com\nchangetype: modify\n";
    let records = parse(input).unwrap();
    assert_eq!(
        records[0],
        LdifRecord::Modify {
            dn: dn("cn=x,dc=com"),
            changes: vec![
                Modification::replace("CN", ["y"]),
                // The last '-' may be omitted.
                Modification::add("sn;lang-en", ["z"]),
            ],
        }
    );
    assert_eq!(
        records[1],
        LdifRecord::ModRdn {
            dn: dn("cn=y,dc=com"),
            new_rdn: Rdn::new("cn", "z").unwrap(),
            delete_old_rdn: false,
            new_superior: Some(dn("dc=org")),
        }
    );
    assert_eq!(
        records[2],
        LdifRecord::Modify {
            dn: dn("cn=z,dc=com"),
            changes: vec![],
        }
    );
}

#[test]
fn controls_are_refused() {
    let input = "dn: ou=Product Development, dc=airius, dc=com\n\
control: 1.2.840.113556.1.4.805 true\n\
changetype: delete\n";
    assert_eq!(
        fails(input),
        (
            ErrorCode::ValidationFailed,
            2,
            "controls_not_supported".into()
        )
    );
}

// ---- syntax details -------------------------------------------------------------------------

#[test]
fn crlf_comments_blank_lines_bom_and_no_final_newline() {
    let input = "\u{feff}version: 1\r\n\r\n\r\n# comment\r\n folded comment: not an attribute\r\n\
dn: cn=a,\r\n dc=com\r\n# inside a record\r\ncn: a\r\n  b\r\n\r\n\r\n\r\n#only a comment\r\n\r\n\
dn: cn=b,dc=com\r\ncn: b";
    let es = entries(input);
    assert_eq!(es.len(), 2);
    assert_eq!(es[0].dn, dn("cn=a,dc=com"));
    assert_eq!(es[0].first_str("cn"), Some("a b"));
    assert_eq!(es[0].attrs.len(), 1);
    assert_eq!(es[1].first_str("cn"), Some("b"));
    // LF and CRLF give the same result.
    assert_eq!(es, entries(&input.replace("\r\n", "\n")));
}

#[test]
fn empty_and_comment_only_inputs() {
    for input in [
        "",
        "\n\n",
        "# nothing\n",
        "version: 1\n",
        "version: 1\n\n# x\n",
        "  \n\n",
    ] {
        assert_eq!(parse(input).unwrap(), vec![], "{input:?}");
    }
}

#[test]
fn version_line_followed_directly_by_a_record() {
    let es = entries("version: 1\ndn: cn=a,dc=com\ncn: a\n");
    assert_eq!(es[0].first_str("cn"), Some("a"));
}

#[test]
fn dn_only_records_and_root_dn() {
    let es = entries("dn: cn=a,dc=com\n\ndn:\nobjectClass: top\n");
    assert!(es[0].attrs.is_empty());
    assert!(es[1].dn.is_root());
}

#[test]
fn line_numbers_point_at_the_faulty_line() {
    let input = "version: 1\n\n# c\ndn: cn=a,dc=com\ncn: a\n\ndn: cn=b,dc=com\ncn:\n x\nsn:: ***\n";
    assert_eq!(
        fails(input),
        (ErrorCode::ValidationFailed, 10, "bad_base64".into())
    );
    // A folded faulty line is reported at its first physical line.
    let input = "dn: cn=a,dc=com\ncn: a\nsn::\n  ***\n";
    assert_eq!(fails(input).1, 3);
    // And with CRLF.
    assert_eq!(fails(&input.replace('\n', "\r\n")).1, 3);
}

#[test]
fn reader_goes_on_after_a_bad_record() {
    let input = "dn: cn=a,dc=com\ncn: a\n\ndn: cn=b,dc=com\ncn:: !!\n\ndn: cn=c,dc=com\ncn: c\n";
    let results: Vec<_> = LdifReader::new(input.as_bytes()).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().details()["line"], 5);
    assert_eq!(results[2].as_ref().unwrap().dn(), &dn("cn=c,dc=com"));
}

// ---- hostile input --------------------------------------------------------------------------

#[test]
fn hostile_inputs_are_clear_errors() {
    let cases: &[(&str, u64, &str)] = &[
        ("cn: x\n", 1, "missing_dn"),
        ("  x\ndn: cn=a,dc=com\n", 1, "orphan_continuation"),
        ("dn: cn=a,dc=com\n\n x\n", 3, "orphan_continuation"),
        ("dn: cn=a,dc=com\ncn:: ====\n", 2, "bad_base64"),
        ("dn: cn=a,dc=com\ncn:: YQ\n", 2, "bad_base64"),
        ("dn: cn=a,dc=com\ncn:: Y Q==\n", 2, "bad_base64"),
        ("dn:: //4=\ncn: x\n", 1, "invalid_utf8"),
        ("dn:: !!\ncn: x\n", 1, "bad_base64"),
        ("dn: cn=a\\zz,dc=com\ncn: x\n", 1, "invalid_dn"),
        ("dn: novalue\ncn: x\n", 1, "invalid_dn"),
        ("dn: cn=a,dc=com\ncn: a\0b\n", 2, "unsafe_value"),
        ("dn: cn=a,dc=com\ncn: a\rb\n", 2, "unsafe_value"),
        ("dn: cn=a,dc=com\ncn\n", 2, "bad_line"),
        ("dn: cn=a,dc=com\n-\n", 2, "bad_line"),
        ("dn: cn=a,dc=com\nc n: x\n", 2, "bad_attribute_name"),
        ("dn: cn=a,dc=com\n1cn: x\n", 2, "bad_attribute_name"),
        ("dn: cn=a,dc=com\ncn;: x\n", 2, "bad_attribute_name"),
        ("dn: cn=a,dc=com\né: x\n", 2, "bad_attribute_name"),
        ("dn: cn=a,dc=com\n01.2: x\n", 2, "bad_attribute_name"),
        (": x\n", 1, "bad_attribute_name"),
        ("dn: cn=a,dc=com\ncn: a\ndn: cn=b,dc=com\ncn: b\n", 3, "unexpected_dn"),
        ("dn: cn=a,dc=com\ncn: a\nchangetype: add\n", 3, "misplaced_changetype"),
        ("dn: cn=a,dc=com\ncn: a\n\ndn: cn=b,dc=com\nchangetype: delete\n", 4, "mixed_records"),
        ("dn: cn=a,dc=com\nchangetype: delete\n\ndn: cn=b,dc=com\ncn: b\n", 4, "mixed_records"),
        ("dn: cn=a,dc=com\nchangetype: rename\n", 2, "unknown_changetype"),
        ("dn: cn=a,dc=com\nchangetype:: ZGVsZXRl\n", 2, "bad_line"),
        ("dn: cn=a,dc=com\nchangetype: add\n", 1, "missing_attributes"),
        ("dn: cn=a,dc=com\nchangetype: delete\ncn: a\n", 3, "unexpected_line"),
        ("dn: cn=a,dc=com\nchangetype: modify\nadd: cn\n-\n", 3, "missing_values"),
        ("dn: cn=a,dc=com\nchangetype: modify\nadd: cn\n", 3, "missing_values"),
        ("dn: cn=a,dc=com\nchangetype: modify\nadd: cn\nsn: x\n-\n", 4, "attribute_mismatch"),
        ("dn: cn=a,dc=com\nchangetype: modify\nreplace: cn\ncn: x\nadd: sn\nsn: y\n-\n", 5, "attribute_mismatch"),
        ("dn: cn=a,dc=com\nchangetype: modify\nincrement: uidNumber\nuidNumber: 1\n-\n", 3, "unsupported_modification"),
        ("dn: cn=a,dc=com\nchangetype: modify\nfrobnicate: cn\n-\n", 3, "bad_modify"),
        ("dn: cn=a,dc=com\nchangetype: modify\n-\n", 3, "bad_modify"),
        ("dn: cn=a,dc=com\nchangetype: modify\nadd: c n\n-\n", 3, "bad_attribute_name"),
        ("dn: cn=a,dc=com\nchangetype: modify\nadd: cn\ncn:< file:///etc/shadow\n-\n", 4, "url_not_supported"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\n", 1, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\n", 1, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\ndeleteoldrdn: 1\n", 3, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 2\n", 4, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: yes\n", 4, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b,dc=com\ndeleteoldrdn: 1\n", 3, "invalid_rdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: x\n", 5, "invalid_dn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\ncn: b\n", 5, "bad_modrdn"),
        ("dn: cn=a,dc=com\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: dc=org\nx: y\n", 6, "unexpected_line"),
        ("version: 2\ndn: cn=a,dc=com\ncn: a\n", 1, "unsupported_version"),
        ("version:: MQ==\n", 1, "unsupported_version"),
        ("dn: cn=a,dc=com\ncn: a\n\nversion: 1\n", 4, "misplaced_version"),
    ];
    for (input, line, why) in cases {
        let (code, got_line, got_reason) = fails(input);
        assert_eq!(
            (code, got_line, got_reason.as_str()),
            (ErrorCode::ValidationFailed, *line, *why),
            "{input:?}"
        );
    }
}

#[test]
fn errors_never_echo_values() {
    let err = parse("dn: cn=a,dc=com\nuserPassword:: c2VjcmV0!!\n").unwrap_err();
    assert!(!err.message().contains("c2VjcmV0"), "{err}");
    let err = parse("dn: cn=a,dc=com\nuserPassword: sec\0ret\n").unwrap_err();
    assert!(!err.message().contains("sec"), "{err}");
    // Long names are cut.
    let name = "a".repeat(5000);
    let err = parse(&format!("dn: cn=a,dc=com\n{name}!: x\n")).unwrap_err();
    assert!(err.message().len() < 300, "{}", err.message().len());
}

#[test]
fn invalid_utf8_in_the_file_is_handled() {
    // In a plain value: kept as bytes. In a plain DN: an error.
    let input = b"dn: cn=a,dc=com\njpegPhoto: \xff\xfe\n";
    let rec = LdifReader::new(&input[..]).next().unwrap().unwrap();
    let LdifRecord::Content(e) = rec else {
        panic!()
    };
    assert_eq!(e.get("jpegphoto"), &[vec![0xff, 0xfe]]);
    let input = b"dn: cn=\xff,dc=com\ncn: x\n";
    let err = LdifReader::new(&input[..]).next().unwrap().unwrap_err();
    assert_eq!(err.details()["reason"], "invalid_utf8");
    // In a name.
    let input = b"dn: cn=a,dc=com\nc\xffn: x\n";
    let err = LdifReader::new(&input[..]).next().unwrap().unwrap_err();
    assert_eq!(err.details()["reason"], "bad_attribute_name");
}

#[test]
fn oversized_lines_and_records_stop_the_reader() {
    let huge = format!(
        "dn: cn=a,dc=com\ncn: {}\n\ndn: cn=b,dc=com\ncn: b\n",
        "x".repeat(10_000)
    );
    let mut reader = LdifReader::new(huge.as_bytes()).max_record_size(1000);
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::PayloadTooLarge);
    assert_eq!(err.details()["line"], 2);
    assert_eq!(err.details()["reason"], "record_too_large");
    assert!(reader.next().is_none());
    // Many small lines or folds add up.
    let folded = format!("dn: cn=a,dc=com\ncn: a\n{}", " xxxxxxxxx\n".repeat(200));
    let err = LdifReader::new(folded.as_bytes())
        .max_record_size(1000)
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PayloadTooLarge);
    let many = format!("dn: cn=a,dc=com\n{}", "cn: xxxxxxxxx\n".repeat(200));
    let err = LdifReader::new(many.as_bytes())
        .max_record_size(1000)
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.details()["line"], 1);
    // Within the limit: fine.
    assert_eq!(
        LdifReader::new(many.as_bytes())
            .max_record_size(20_000)
            .count(),
        1
    );
    // A huge line without any newline is bounded too.
    let mut reader =
        LdifReader::new(BufReader::new(std::io::repeat(b'x').take(1 << 20))).max_record_size(4096);
    assert_eq!(
        reader.next().unwrap().unwrap_err().code(),
        ErrorCode::PayloadTooLarge
    );
    assert!(reader.next().is_none());
}

#[test]
fn io_errors_end_the_reader() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let mut reader = LdifReader::new(BufReader::new(Failing));
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Internal);
    assert_eq!(err.details()["reason"], "io_error");
    assert!(reader.next().is_none());
    assert!(format!("{reader:?}").contains("LdifReader"));
}

/// A generated content file of `n` entries, produced on the fly.
struct Generated {
    n: usize,
    next: usize,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.next == self.n {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            self.pending = format!(
                "dn: uid=user{i},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\n\
                 uid: user{i}\ncn: User {i}\nsn: {i}\ndescription:: RG/DqQ==\n\n"
            )
            .into_bytes();
            self.pos = 0;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn streams_a_100k_entry_file() {
    let source = Generated {
        n: 100_000,
        next: 0,
        pending: Vec::new(),
        pos: 0,
    };
    let mut count = 0;
    for record in LdifReader::new(BufReader::new(source)) {
        let record = record.unwrap();
        assert!(!record.is_change());
        count += 1;
    }
    assert_eq!(count, 100_000);
}

// ---- writing --------------------------------------------------------------------------------

#[test]
fn safe_strings() {
    use write::is_safe as safe;
    for ok in ["", "a", "a b", "#a", "a:b", "a<", "-", "x\ty", "~!@"] {
        assert!(safe(ok.as_bytes()), "{ok:?}");
    }
    for bad in [
        " a",
        ":a",
        "<a",
        "a ",
        "a\nb",
        "a\rb",
        "a\0b",
        "é",
        "a\u{7f}é",
    ] {
        assert!(!safe(bad.as_bytes()), "{bad:?}");
    }
    assert!(!safe(&[0xff]));
}

#[test]
fn writes_records_of_every_type_exactly() {
    let entry = Entry::new(dn("uid=jdoe,ou=people,dc=example,dc=com"))
        .with("uid", ["jdoe"])
        .with("objectClass", ["top", "inetOrgPerson"])
        .with("jpegPhoto", [vec![0xffu8, 0xd8, 0xff, 0xe0]])
        .with("cn", ["John Doe"])
        .with("description", ["", "x "]);
    let records = [
        LdifRecord::Add(entry.clone()),
        LdifRecord::Delete {
            dn: dn("cn=old,dc=com"),
        },
        LdifRecord::Modify {
            dn: dn("cn=x,dc=com"),
            changes: vec![
                Modification::add("mail", ["a@x", "b@x"]),
                Modification::delete_all("description"),
                Modification::delete("cn", ["Zoë"]),
                Modification::replace("telephoneNumber", Vec::<&str>::new()),
            ],
        },
        LdifRecord::ModRdn {
            dn: dn("cn=a,dc=com"),
            new_rdn: Rdn::new("cn", "Zoë").unwrap(),
            delete_old_rdn: false,
            new_superior: Some(dn("ou=x,dc=com")),
        },
    ];
    let out = records_to_string(&records).unwrap();
    assert_eq!(
        out,
        "version: 1\n\n\
dn: uid=jdoe,ou=people,dc=example,dc=com\n\
changetype: add\n\
objectClass: top\n\
objectClass: inetOrgPerson\n\
cn: John Doe\n\
description:\n\
description:: eCA=\n\
jpegPhoto:: /9j/4A==\n\
uid: jdoe\n\
\n\
dn: cn=old,dc=com\n\
changetype: delete\n\
\n\
dn: cn=x,dc=com\n\
changetype: modify\n\
add: mail\n\
mail: a@x\n\
mail: b@x\n\
-\n\
delete: description\n\
-\n\
delete: cn\n\
cn:: Wm/Dqw==\n\
-\n\
replace: telephoneNumber\n\
-\n\
\n\
dn: cn=a,dc=com\n\
changetype: modrdn\n\
newrdn:: Y249Wm/Dqw==\n\
deleteoldrdn: 0\n\
newsuperior: ou=x,dc=com\n\
\n"
    );
    assert_eq!(parse(&out).unwrap(), records);
    // The streaming writer writes the same bytes.
    let mut writer = LdifWriter::new(Vec::new());
    for r in &records {
        writer.write_record(r).unwrap();
    }
    assert_eq!(writer.records(), 4);
    assert!(format!("{writer:?}").contains("records: 4"));
    assert_eq!(writer.into_inner().unwrap(), out.as_bytes());
    // One record alone has no version line.
    let mut one = String::new();
    write_record(&mut one, &records[1]).unwrap();
    assert_eq!(one, "dn: cn=old,dc=com\nchangetype: delete\n\n");
}

#[test]
fn long_lines_are_folded_at_76_columns() {
    let long = "word ".repeat(40) + "end";
    let binary: Vec<u8> = (0..=255).collect();
    let base = dn("dc=example,dc=com");
    let deep = base.child(Rdn::new("cn", &"n".repeat(100)).unwrap());
    let entry = Entry::new(deep)
        .with("description", [long.as_str()])
        .with("userCertificate;binary", [binary.clone()])
        .with(&format!("x{}", "y".repeat(90)), ["v"]);
    let out = to_string([&entry]).unwrap();
    for line in out.lines() {
        assert!(line.len() <= LINE_WIDTH, "{line:?}");
    }
    assert!(out.lines().filter(|l| l.starts_with(' ')).count() > 5);
    let back = parse_entries(&out).unwrap();
    assert_eq!(back, vec![entry]);
    assert_eq!(back[0].first_str("description"), Some(long.as_str()));
    assert_eq!(back[0].get("usercertificate;binary"), &[binary]);
}

#[test]
fn empty_inputs_write_nothing() {
    assert_eq!(to_string(std::iter::empty()).unwrap(), "");
    assert_eq!(records_to_string(std::iter::empty()).unwrap(), "");
    let writer = LdifWriter::new(Vec::new());
    assert!(writer.into_inner().unwrap().is_empty());
}

#[test]
fn writing_refuses_what_would_not_read_back() {
    let base = Entry::new(dn("cn=a,dc=com"));
    let refused = |r: crate::Result<()>| r.unwrap_err().details()["reason"].clone();
    let mut s = String::new();
    for (name, why) in [
        ("c n", "bad_attribute_name"),
        ("cn:", "bad_attribute_name"),
        ("", "bad_attribute_name"),
        ("dn", "reserved_attribute_name"),
        ("ChangeType", "reserved_attribute_name"),
        ("control", "reserved_attribute_name"),
    ] {
        let e = base.clone().with(name, ["x"]);
        assert_eq!(refused(write_entry(&mut s, &e)), why, "{name:?}");
        assert_eq!(
            refused(write_record(&mut s, &LdifRecord::Add(e.clone()))),
            why
        );
        assert!(to_string([&e]).is_err());
    }
    assert_eq!(
        refused(write_record(&mut s, &LdifRecord::Add(base.clone()))),
        "missing_attributes"
    );
    let modify = |m: Modification| LdifRecord::Modify {
        dn: dn("cn=a,dc=com"),
        changes: vec![m],
    };
    assert_eq!(
        refused(write_record(
            &mut s,
            &modify(Modification::add("cn", Vec::<&str>::new()))
        )),
        "missing_values"
    );
    assert_eq!(
        refused(write_record(
            &mut s,
            &modify(Modification::replace("c\nn", ["x"]))
        )),
        "bad_attribute_name"
    );
    assert_eq!(s, "", "nothing written on refusal");
    // Mixing content and change records.
    let mixed = [
        LdifRecord::Content(base.clone()),
        LdifRecord::Delete {
            dn: dn("cn=a,dc=com"),
        },
    ];
    assert_eq!(
        records_to_string(&mixed).unwrap_err().details()["reason"],
        "mixed_records"
    );
    let mut writer = LdifWriter::new(Vec::new());
    writer.write_entry(&base).unwrap();
    assert_eq!(refused(writer.write_record(&mixed[1])), "mixed_records");
    writer.write_record(&mixed[0]).unwrap();
    assert_eq!(writer.records(), 2);
}

#[test]
fn io_errors_when_writing() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = LdifWriter::new(Full);
    let err = writer
        .write_entry(&Entry::new(dn("cn=a,dc=com")))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Internal);
    assert_eq!(err.details()["reason"], "io_error");
}

// ---- property tests -------------------------------------------------------------------------

fn attr_type() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9-]{0,12}",
        Just("cn".to_owned()),
        Just("objectClass".to_owned()),
        Just("2.5.4.3".to_owned()),
    ]
}

fn attr_description() -> impl Strategy<Value = String> {
    (
        attr_type(),
        prop::collection::vec("[a-zA-Z0-9-]{1,6}", 0..2),
    )
        .prop_map(|(t, opts)| {
            let mut s = t;
            for o in opts {
                s.push(';');
                s.push_str(&o);
            }
            s
        })
        .prop_filter("reserved", |s| {
            !["dn", "changetype", "control"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k))
        })
}

fn rdn_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{1,20}",
        "\\PC{1,20}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        "[ ,+=#;<>\"\\\\\r\n\0é]{1,10}",
    ]
}

fn rdn() -> impl Strategy<Value = Rdn> {
    ("[a-zA-Z][a-zA-Z0-9-]{0,8}", rdn_value())
        .prop_filter_map("valid rdn", |(a, v)| Rdn::new(&a, &v).ok())
}

fn any_dn() -> impl Strategy<Value = Dn> {
    prop::collection::vec(rdn(), 0..4).prop_map(|rdns| {
        rdns.into_iter()
            .rev()
            .fold(Dn::root(), |parent, rdn| parent.child(rdn))
    })
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,100}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..300),
        "[ :<#\r\n\0a]{0,6}".prop_map(String::into_bytes),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        any_dn(),
        prop::collection::vec(
            (attr_description(), prop::collection::vec(value(), 1..4)),
            0..6,
        ),
    )
        .prop_map(|(dn, attrs)| {
            let mut e = Entry::new(dn);
            for (name, values) in attrs {
                for v in values {
                    e.add_value(&name, v);
                }
            }
            e
        })
}

fn modification() -> impl Strategy<Value = Modification> {
    (
        0..3u8,
        attr_description(),
        prop::collection::vec(value(), 0..3),
    )
        .prop_map(|(op, attr, mut values)| match op {
            0 => {
                if values.is_empty() {
                    values.push(b"v".to_vec());
                }
                Modification::Add { attr, values }
            }
            1 => Modification::Delete { attr, values },
            _ => Modification::Replace { attr, values },
        })
}

fn change() -> impl Strategy<Value = LdifRecord> {
    prop_oneof![
        entry()
            .prop_filter("add needs attributes", |e| !e.attrs.is_empty())
            .prop_map(LdifRecord::Add),
        any_dn().prop_map(|dn| LdifRecord::Delete { dn }),
        (any_dn(), prop::collection::vec(modification(), 0..4))
            .prop_map(|(dn, changes)| LdifRecord::Modify { dn, changes }),
        (any_dn(), rdn(), any::<bool>(), prop::option::of(any_dn())).prop_map(
            |(dn, new_rdn, delete_old_rdn, new_superior)| LdifRecord::ModRdn {
                dn,
                new_rdn,
                delete_old_rdn,
                new_superior,
            }
        ),
    ]
}

/// The DN strings of a record, to check exact (not just normalised) equality.
fn dn_strings(r: &LdifRecord) -> Vec<String> {
    let mut v = vec![r.dn().to_string()];
    if let LdifRecord::ModRdn {
        new_rdn,
        new_superior,
        ..
    } = r
    {
        v.push(new_rdn.to_string());
        v.extend(new_superior.as_ref().map(ToString::to_string));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn entries_round_trip(entries in prop::collection::vec(entry(), 0..4)) {
        let out = to_string(&entries).unwrap();
        prop_assert!(out.is_ascii());
        prop_assert!(out.lines().all(|l| l.len() <= LINE_WIDTH));
        let back = parse_entries(&out).unwrap();
        prop_assert_eq!(&back, &entries);
        for (a, b) in back.iter().zip(&entries) {
            prop_assert_eq!(a.dn.to_string(), b.dn.to_string());
        }
        // Also through the streaming reader with CRLF line ends.
        let crlf = out.replace('\n', "\r\n");
        let streamed: Vec<LdifRecord> = LdifReader::new(BufReader::with_capacity(7, crlf.as_bytes()))
            .collect::<crate::Result<_>>()
            .unwrap();
        prop_assert_eq!(streamed, entries.into_iter().map(LdifRecord::Content).collect::<Vec<_>>());
    }

    #[test]
    fn change_records_round_trip(records in prop::collection::vec(change(), 1..5)) {
        let out = records_to_string(&records).unwrap();
        prop_assert!(out.is_ascii());
        let back = parse(&out).unwrap();
        prop_assert_eq!(&back, &records);
        for (a, b) in back.iter().zip(&records) {
            prop_assert_eq!(dn_strings(a), dn_strings(b));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for r in LdifReader::new(&bytes[..]).max_record_size(128) {
            if let Err(e) = r {
                prop_assert!(e.details().contains_key("reason"));
            }
        }
    }

    #[test]
    fn ldif_like_text_never_panics(
        lines in prop::collection::vec(
            prop_oneof![
                Just(String::new()),
                Just("-".to_owned()),
                Just("dn: cn=a,dc=com".to_owned()),
                Just("changetype: modify".to_owned()),
                Just("changetype: add".to_owned()),
                Just("changetype: modrdn".to_owned()),
                Just("newrdn: cn=b".to_owned()),
                Just("deleteoldrdn: 1".to_owned()),
                Just("version: 1".to_owned()),
                "(add|delete|replace|cn|dn|newsuperior|#|) ?:{0,2}<? ?[ -~é\r]{0,12}",
                " [ -~]{0,10}",
            ],
            0..30,
        ),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let _ = parse(&text);
        for r in LdifReader::new(text.as_bytes()) {
            if let Err(e) = r {
                prop_assert!(e.details()["line"].as_u64().is_some());
            }
        }
    }
}
