//! Access control over real HTTP, on the embedded directory and on slapd: the matrix of
//! every built-in policy × object × action × scope through `POST /acl/check`, delegation to
//! a department with real requests (a grant through a nested group, 403 details, filtered
//! lists, attribute rules, deny precedence), and — with two servers on one slapd — a change made through one instance taking
//! effect on the other within a second.

// A scenario reads best as one function, with short names for its actors.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::blackbox::{
    call, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, Api, ADMIN_PW,
};
use crate::support::{slapd_env, Server};

const SUBJECT_PW: &str = "Acl-subject-passw0rd-1";

/// The built-in policies' permissions, as the server lists them.
fn policy_permissions(admin: &Api<'_>) -> HashMap<String, Vec<String>> {
    let page = ok(&admin.get("/api/v1/acl/policies?limit=1000"), 200);
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["builtin"] == true)
        .map(|p| {
            let perms = p["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), perms)
        })
        .collect()
}

const OBJECTS: [&str; 11] = [
    "user",
    "group",
    "department",
    "template",
    "dns",
    "dhcp",
    "system",
    "sudo",
    "acl",
    "audit",
    "settings",
];
const ACTIONS: [&str; 5] = ["read", "write", "create", "delete", "manage"];

fn dn_of(v: &Value) -> String {
    v["dn"].as_str().unwrap().to_owned()
}

fn is_below(dn: &str, base: &str) -> bool {
    let d = dn.to_ascii_lowercase();
    let b = base.to_ascii_lowercase();
    d == b || d.ends_with(&format!(",{b}"))
}

fn matrix(s: &Server, admin_uid: &str, t: &str) {
    let admin = Api {
        s,
        token: token(s, admin_uid, ADMIN_PW),
    };
    let sales = dn_of(&ok(
        &admin.post("/api/v1/departments", &json!({"ou": format!("Sales{t}")})),
        201,
    ));
    let other = dn_of(&ok(
        &admin.post("/api/v1/departments", &json!({"ou": format!("Other{t}")})),
        201,
    ));
    let subject_uid = format!("{t}s");
    let subject = dn_of(&ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": subject_uid, "cn": "Subject", "sn": "S", "userPassword": SUBJECT_PW}),
        ),
        201,
    ));
    let in_sales = dn_of(&ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": format!("{t}i"), "cn": "In", "sn": "I", "department": sales}),
        ),
        201,
    ));
    let outside = format!("cn=elsewhere,{other}");
    let perms = policy_permissions(&admin);
    assert_eq!(perms.len(), 5, "{perms:?}");
    let me = Api {
        s,
        token: token(s, &subject_uid, SUBJECT_PW),
    };
    let mut checked = 0;
    for policy in ["admin", "user-manager", "group-manager", "viewer", "self"] {
        for scope_type in ["tree", "subtree", "entry", "self"] {
            let mut body = json!({"policy": policy, "subject_type": "user",
                                  "subject": subject_uid, "scope_type": scope_type});
            match scope_type {
                "subtree" => body["scope"] = json!(sales),
                "entry" => body["scope"] = json!(in_sales),
                _ => {}
            }
            let a = ok(&admin.post("/api/v1/acl/assignments", &body), 201);
            for object in OBJECTS {
                for action in ACTIONS {
                    let perm = format!("{object}:{action}");
                    for target in [&in_sales, &outside, &subject] {
                        let in_scope = match scope_type {
                            "tree" => true,
                            "subtree" => is_below(target, &sales),
                            "entry" => target == &in_sales,
                            _ => target == &subject,
                        };
                        let by_self =
                            target == &subject && (perm == "user:read" || perm == "user:write");
                        let want = (perms[policy].contains(&perm) && in_scope) || by_self;
                        let r = me.post(
                            "/api/v1/acl/check",
                            &json!({"action": action, "object_type": object,
                                    "object_dn": target}),
                        );
                        let d = ok(&r, 200);
                        assert_eq!(
                            d["allowed"], want,
                            "{policy} over {scope_type}: {perm} on {target}: {d}"
                        );
                        checked += 1;
                    }
                }
            }
            let r = admin.delete(&format!(
                "/api/v1/acl/assignments/{}",
                a["id"].as_str().unwrap()
            ));
            assert_eq!(r.status, 204, "{}", r.text());
        }
    }
    assert_eq!(checked, 5 * 4 * 55 * 3);
    for d in [&sales, &other] {
        let r = admin.delete(&format!("/api/v1/departments/{d}?recursive=true"));
        assert_eq!(r.status, 204, "{}", r.text());
    }
    assert_eq!(
        admin.delete(&format!("/api/v1/users/{subject_uid}")).status,
        204
    );
}

#[test]
fn acl_matrix_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    matrix(&s, "admin", &tag("m"));
}

#[test]
fn acl_matrix_over_http_slapd() {
    let env = slapd_env();
    let t = tag("n");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    matrix(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}

/// A helpdesk group (reached through a nested group) with `user-manager` on one
/// department manages users there and nowhere else, sees only them (and itself) in lists;
/// a policy with attribute rules limits what it reads and writes.
fn delegation(s: &Server, admin_uid: &str, t: &str) {
    let admin = Api {
        s,
        token: token(s, admin_uid, ADMIN_PW),
    };
    let sales = dn_of(&ok(
        &admin.post("/api/v1/departments", &json!({"ou": format!("Sales{t}")})),
        201,
    ));
    let helper = format!("{t}h");
    ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": helper, "cn": "Help Desk", "sn": "Desk", "userPassword": SUBJECT_PW,
                    "telephoneNumber": "+1 555 0100"}),
        ),
        201,
    );
    let (a, b) = (format!("{t}a"), format!("{t}b"));
    ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": a, "cn": "Alpha", "sn": "A", "mail": "a@example.com", "department": sales}),
        ),
        201,
    );
    ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": b, "cn": "Bravo", "sn": "B"}),
        ),
        201,
    );
    // helpdesk ⊃ staff ∋ helper: the grant to helpdesk reaches the helper through the
    // nested group.
    let staff = format!("{t}staff");
    let helpdesk = format!("{t}helpdesk");
    let staff_dn = dn_of(&ok(
        &admin.post("/api/v1/groups", &json!({"cn": staff, "members": [helper]})),
        201,
    ));
    ok(&admin.post("/api/v1/groups", &json!({"cn": helpdesk})), 201);
    let g = ok(
        &admin.post(
            &format!("/api/v1/groups/{helpdesk}/members"),
            &json!({"member": staff_dn}),
        ),
        200,
    );
    assert_eq!(g["members"], json!([staff_dn]));
    let grant = ok(
        &admin.post(
            "/api/v1/acl/assignments",
            &json!({"policy": "user-manager", "subject_type": "group", "subject": helpdesk,
                    "scope_type": "subtree", "scope": sales}),
        ),
        201,
    );
    // Found by the API fuzzing: a null (or a number) where an enum is expected is well-formed
    // JSON of the wrong shape — VALIDATION_FAILED, not INVALID_JSON ("malformed JSON").
    for bad in [
        json!({"policy": "viewer", "subject_type": null, "subject": helpdesk, "scope_type": "tree"}),
        json!({"policy": "viewer", "subject_type": "group", "subject": helpdesk, "scope_type": 1}),
    ] {
        admin
            .post("/api/v1/acl/assignments", &bad)
            .assert_error(400, "VALIDATION_FAILED");
    }
    let me = Api {
        s,
        token: token(s, &helper, SUBJECT_PW),
    };
    let r = call(
        s,
        "PUT",
        &format!("/api/v1/users/{a}"),
        Some(&me.token),
        Some(&json!({"title": "Rep"})),
        &[],
    );
    assert_eq!(ok(&r, 200)["title"], "Rep");
    let r = call(
        s,
        "PUT",
        &format!("/api/v1/users/{b}"),
        Some(&me.token),
        Some(&json!({"title": "Nope"})),
        &[],
    );
    let e = r.assert_error(403, "ACL_DENIED");
    assert_eq!(e["error"]["details"]["permission"], "user:write");
    assert!(e["error"]["details"]["target"]
        .as_str()
        .unwrap()
        .starts_with(&format!("uid={b},")));
    // Lists: Alpha (Sales) and itself, `total` too.
    let page = ok(
        &me.get(&format!("/api/v1/users?filter=uid:starts:{t}")),
        200,
    );
    let mut uids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uid"].as_str().unwrap())
        .collect();
    uids.sort_unstable();
    let mut want = vec![a.as_str(), helper.as_str()];
    want.sort_unstable();
    assert_eq!(uids, want);
    assert_eq!(page["pagination"]["total"], 2);
    // Its own entry: phone yes, uidNumber no (self).
    let r = call(
        s,
        "PUT",
        &format!("/api/v1/users/{helper}"),
        Some(&me.token),
        Some(&json!({"telephoneNumber": "+1 555 0199"})),
        &[],
    );
    assert_eq!(ok(&r, 200)["telephoneNumber"], "+1 555 0199");
    let r = call(
        s,
        "PUT",
        &format!("/api/v1/users/{helper}"),
        Some(&me.token),
        Some(&json!({"uidNumber": 4242})),
        &[],
    );
    assert_eq!(
        r.assert_error(403, "ACL_DENIED")["error"]["details"]["attribute"],
        "uidNumber"
    );
    // Nothing else: settings, audit, ACL administration.
    me.get("/api/v1/settings").assert_error(403, "ACL_DENIED");
    me.get("/api/v1/audit").assert_error(403, "ACL_DENIED");
    me.get("/api/v1/acl/assignments")
        .assert_error(403, "ACL_DENIED");
    // Its effective permissions, and /auth/me.
    let mine = ok(&me.get(&format!("/api/v1/acl/permissions/{helper}")), 200);
    assert!(mine["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("user:delete")));
    assert!(mine["grants"].as_array().unwrap().iter().any(|g| {
        g["permission"] == "user:delete"
            && g["policy"] == "user-manager"
            && g["assignment"] == grant["id"]
    }));
    let me_answer = ok(&me.get("/api/v1/auth/me"), 200);
    assert!(me_answer["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("user:create")));

    // Attribute rules: a policy reading cn + telephoneNumber, writing telephoneNumber.
    let policy = format!("{t}phone");
    ok(
        &admin.post(
            "/api/v1/acl/policies",
            &json!({"name": policy, "permissions": ["user:read", "user:write"],
                    "attributes": {"user": {"read": ["cn", "telephoneNumber"],
                                            "write": ["telephoneNumber"]}}}),
        ),
        201,
    );
    let r = admin.delete(&format!(
        "/api/v1/acl/assignments/{}",
        grant["id"].as_str().unwrap()
    ));
    assert_eq!(r.status, 204);
    let phone = ok(
        &admin.post(
            "/api/v1/acl/assignments",
            &json!({"policy": policy, "subject_type": "user", "subject": helper,
                    "scope_type": "subtree", "scope": sales}),
        ),
        201,
    );
    let seen = ok(&me.get(&format!("/api/v1/users/{a}")), 200);
    assert!(seen.get("mail").is_none(), "mail is not readable: {seen}");
    let r = call(
        s,
        "PUT",
        &format!("/api/v1/users/{a}"),
        Some(&me.token),
        Some(&json!({"mail": "x@example.com"})),
        &[],
    );
    assert_eq!(
        r.assert_error(403, "ACL_DENIED")["error"]["details"]["attribute"],
        "mail"
    );
    let r = me.post(
        "/api/v1/acl/check",
        &json!({"action": "write", "object_type": "user", "object_dn": format!("uid={a},{sales}"),
                "attribute": "telephoneNumber"}),
    );
    assert_eq!(ok(&r, 200)["allowed"], true);
    // Deny precedence: a deny on Sales beats the grant at equal specificity; an entry
    // grant beats the deny.
    let alpha = format!("uid={a},{sales}");
    let write_alpha = json!({"action": "write", "object_type": "user", "object_dn": alpha});
    let deny = ok(
        &admin.post(
            "/api/v1/acl/assignments",
            &json!({"policy": policy, "subject_type": "user", "subject": helper,
                    "scope_type": "subtree", "scope": sales, "deny": true}),
        ),
        201,
    );
    let d = ok(&me.post("/api/v1/acl/check", &write_alpha), 200);
    assert_eq!(d["allowed"], false, "{d}");
    assert!(d["reason"].as_str().unwrap().contains("denied"), "{d}");
    let entry = ok(
        &admin.post(
            "/api/v1/acl/assignments",
            &json!({"policy": policy, "subject_type": "user", "subject": helper,
                    "scope_type": "entry", "scope": alpha}),
        ),
        201,
    );
    assert_eq!(
        ok(&me.post("/api/v1/acl/check", &write_alpha), 200)["allowed"],
        true
    );
    for x in [&deny, &entry] {
        let r = admin.delete(&format!(
            "/api/v1/acl/assignments/{}",
            x["id"].as_str().unwrap()
        ));
        assert_eq!(r.status, 204);
    }
    // Built-ins are read-only.
    let r = call(
        s,
        "PUT",
        "/api/v1/acl/policies/viewer",
        Some(&admin.token),
        Some(&json!({"permissions": ["settings:read"]})),
        &[],
    );
    r.assert_error(422, "BUSINESS_RULE_VIOLATION");
    assert_eq!(admin.delete("/api/v1/acl/policies/viewer").status, 422);

    // Clean up.
    let r = admin.delete(&format!(
        "/api/v1/acl/assignments/{}",
        phone["id"].as_str().unwrap()
    ));
    assert_eq!(r.status, 204);
    assert_eq!(
        admin
            .delete(&format!("/api/v1/acl/policies/{policy}"))
            .status,
        204
    );
    for path in [
        format!("/api/v1/groups/{helpdesk}"),
        format!("/api/v1/groups/{staff}"),
        format!("/api/v1/users/{helper}"),
        format!("/api/v1/users/{b}"),
        format!("/api/v1/departments/{sales}?recursive=true"),
    ] {
        let r = admin.delete(&path);
        assert_eq!(r.status, 204, "{path}: {}", r.text());
    }
}

#[test]
fn delegation_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    delegation(&s, "admin", &tag("d"));
}

#[test]
fn delegation_over_http_slapd() {
    let env = slapd_env();
    let t = tag("e");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    delegation(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}

/// Polls `POST /acl/check` on `s` until it answers `want`; the time it took.
fn until(s: &Server, token: &str, check: &Value, want: bool) -> Duration {
    let started = Instant::now();
    loop {
        let r = call(
            s,
            "POST",
            "/api/v1/acl/check",
            Some(token),
            Some(check),
            &[],
        );
        if ok(&r, 200)["allowed"] == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still not {want} after 3 s: {check}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two servers on one slapd: an assignment created through one, and a group membership
/// removed through it, take effect on the other within a second.
#[test]
fn acl_changes_reach_another_instance_within_a_second() {
    let env = slapd_env();
    let t = tag("x");
    let admin_uid = format!("{t}adm");
    slapd_admin(&env, &admin_uid);
    let one = start_on_slapd(&env);
    let two = start_on_slapd(&env);
    let admin = Api {
        s: &one,
        token: token(&one, &admin_uid, ADMIN_PW),
    };
    let subject = format!("{t}s");
    ok(
        &admin.post(
            "/api/v1/users",
            &json!({"uid": subject, "cn": "S", "sn": "S", "userPassword": SUBJECT_PW}),
        ),
        201,
    );
    let group = format!("{t}g");
    ok(
        &admin.post(
            "/api/v1/groups",
            &json!({"cn": group, "members": [subject]}),
        ),
        201,
    );
    let on_two = token(&two, &subject, SUBJECT_PW);
    let check = json!({"action": "read", "object_type": "dns"});
    // Instance two has compiled the subject's ACL: no DNS rights.
    assert_eq!(
        ok(
            &call(
                &two,
                "POST",
                "/api/v1/acl/check",
                Some(&on_two),
                Some(&check),
                &[]
            ),
            200
        )["allowed"],
        false
    );
    let a = ok(
        &admin.post(
            "/api/v1/acl/assignments",
            &json!({"policy": "viewer", "subject_type": "group", "subject": group,
                    "scope_type": "tree"}),
        ),
        201,
    );
    let granted = until(&two, &on_two, &check, true);
    assert!(
        granted < Duration::from_secs(1),
        "granted after {granted:?}"
    );
    // Leaving the group (through instance one) takes the right away on instance two.
    let r = admin.delete(&format!("/api/v1/groups/{group}/members/{subject}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let revoked = until(&two, &on_two, &check, false);
    assert!(
        revoked < Duration::from_secs(1),
        "revoked after {revoked:?}"
    );

    assert_eq!(
        admin
            .delete(&format!(
                "/api/v1/acl/assignments/{}",
                a["id"].as_str().unwrap()
            ))
            .status,
        204
    );
    assert_eq!(admin.delete(&format!("/api/v1/groups/{group}")).status, 204);
    assert_eq!(
        admin.delete(&format!("/api/v1/users/{subject}")).status,
        204
    );
    drop(one);
    drop(two);
    drop_slapd_admin(&env, &admin_uid);
}
