//! `GET /api/v1/audit` over real HTTP, on the embedded directory and on the project's
//! slapd: login attempts (success, wrong password, unknown user) are events carrying the
//! client's `X-Request-Id` and address; filters, time ranges, pages, bad input, and access.
//!
//! On the shared slapd, every request id starts with a per-run tag, lists are narrowed to
//! it, and the events are deleted at the end.
// One scenario reads best as one function, with short names for responses and events.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::blackbox::{
    block_on, call, core_on, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, Api,
    ADMIN_PW, USER_PW,
};
use crate::support::{slapd_env, Server};

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn login_with_id(s: &Server, username: &str, password: &str, request_id: &str) -> u16 {
    call(
        s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": username, "password": password})),
        &[("X-Request-Id", request_id)],
    )
    .status
}

/// `GET /audit` with these query pairs (encoded here).
fn audit(api: &Api<'_>, params: &[(&str, &str)]) -> Value {
    let r = api.get(&audit_path(params));
    ok(&r, 200)
}

fn audit_path(params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("/api/v1/audit?{}", q.join("&"))
}

fn field<'a>(page: &'a Value, name: &str) -> Vec<&'a str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[name].as_str().unwrap_or_default())
        .collect()
}

#[test]
fn audit_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    scenario(&s, "admin", &tag("ae"));
}

#[test]
fn audit_over_http_slapd() {
    let env = slapd_env();
    let t = tag("as");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    scenario(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
    forget(&env, &t);
}

/// Deletes this run's events from the shared slapd.
fn forget(env: &HashMap<String, String>, t: &str) {
    block_on(async {
        let h = core_on(env).await;
        let later = SystemTime::now() + Duration::from_secs(91 * 86_400);
        h.audit()
            .purge_matching(later, &[format!("request_id:starts:{t}")])
            .await
            .unwrap();
    });
}

fn scenario(s: &Server, admin: &str, t: &str) {
    let (rid_ok, rid_bad, rid_unknown) = (
        format!("{t}-ok"),
        format!("{t}-bad"),
        format!("{t}-unknown"),
    );
    // A failed login (wrong password), one for nobody, then the administrator's.
    assert_eq!(login_with_id(s, admin, "Wrong-passw0rd-99", &rid_bad), 401);
    let nobody = format!("{t}nobody");
    assert_eq!(login_with_id(s, &nobody, ADMIN_PW, &rid_unknown), 401);
    let r = call(
        s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": admin, "password": ADMIN_PW})),
        &[("X-Request-Id", rid_ok.as_str())],
    );
    let login = ok(&r, 200);
    let admin_dn = login["user"]["dn"].as_str().unwrap().to_owned();
    let api = Api {
        s,
        token: login["access_token"].as_str().unwrap().to_owned(),
    };
    let mine = format!("request_id:starts:{t}-");

    // The successful login: actor and target the administrator, the client's address.
    let page = audit(&api, &[("filter", &format!("request_id:eq:{rid_ok}"))]);
    assert_eq!(page["pagination"]["total"], 1, "{page}");
    let e = &page["data"][0];
    assert_eq!(e["action"], "login");
    assert_eq!(e["object_type"], "session");
    assert_eq!(e["result"], "success");
    assert_eq!(e["actor"], admin_dn.as_str());
    assert_eq!(e["target"], admin_dn.as_str());
    assert_eq!(e["request_id"], rid_ok.as_str());
    assert_eq!(e["client_address"], "127.0.0.1");
    assert_eq!(e["changes"], json!([]));
    let ok_time = e["timestamp"].as_str().unwrap().to_owned();
    assert!(ok_time.ends_with('Z'), "{ok_time}");

    // The failures: same answer to the client, told apart in the trail.
    let failed = audit(
        &api,
        &[
            ("filter", "action:eq:login"),
            ("filter", "result:eq:INVALID_CREDENTIALS"),
            ("filter", &mine),
        ],
    );
    assert_eq!(failed["pagination"]["total"], 2, "{failed}");
    // Newest first.
    assert_eq!(
        field(&failed, "request_id"),
        [rid_unknown.as_str(), rid_bad.as_str()]
    );
    assert_eq!(
        field(&failed, "target"),
        [nobody.as_str(), admin_dn.as_str()]
    );
    assert_eq!(field(&failed, "actor"), ["", ""]);
    let bad = audit(&api, &[("filter", &format!("request_id:eq:{rid_bad}"))]);
    assert_eq!(field(&bad, "result"), ["INVALID_CREDENTIALS"]);

    // By actor (a DN value: spacing does not matter).
    let by_actor = audit(
        &api,
        &[
            (
                "filter",
                &format!("actor:eq:{}", admin_dn.replace(',', ", ")),
            ),
            ("filter", &mine),
        ],
    );
    assert_eq!(field(&by_actor, "request_id"), [rid_ok.as_str()]);

    // Time ranges: both ends included; RFC 3339 with an offset works too.
    let at = audit(
        &api,
        &[("filter", &mine), ("from", &ok_time), ("to", &ok_time)],
    );
    assert_eq!(field(&at, "request_id"), [rid_ok.as_str()]);
    let until = audit(&api, &[("filter", &mine), ("to", &ok_time)]);
    assert_eq!(until["pagination"]["total"], 3);
    let future = audit(
        &api,
        &[("filter", &mine), ("from", "2999-01-01T01:00:00+01:00")],
    );
    assert_eq!(future["pagination"]["total"], 0);
    let past = audit(&api, &[("filter", &mine), ("from", "2000-01-01T00:00:00Z")]);
    assert_eq!(past["pagination"]["total"], 3);

    // Pages.
    let p1 = audit(&api, &[("filter", &mine), ("limit", "2")]);
    assert_eq!(p1["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        p1["pagination"],
        json!({"total": 3, "limit": 2, "offset": 0, "has_more": true})
    );
    assert_eq!(
        field(&p1, "request_id"),
        [rid_ok.as_str(), rid_unknown.as_str()]
    );
    let p2 = audit(&api, &[("filter", &mine), ("limit", "2"), ("offset", "2")]);
    assert_eq!(field(&p2, "request_id"), [rid_bad.as_str()]);
    assert_eq!(p2["pagination"]["has_more"], false);
    let oldest_first = audit(&api, &[("filter", &mine), ("sort", "timestamp")]);
    assert_eq!(field(&oldest_first, "request_id")[0], rid_bad.as_str());
    let few = audit(&api, &[("filter", &mine), ("attributes", "id,result")]);
    let keys: Vec<&String> = few["data"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "result"]);

    // Bad input is a 400 in the envelope.
    for (params, code) in [
        (vec![("from", "yesterday")], "VALIDATION_FAILED"),
        (vec![("to", "2025-02-30T00:00:00Z")], "VALIDATION_FAILED"),
        (
            vec![
                ("from", "2025-01-02T00:00:00Z"),
                ("to", "2025-01-01T00:00:00Z"),
            ],
            "VALIDATION_FAILED",
        ),
        (vec![("from", "")], "VALIDATION_FAILED"),
        (vec![("filter", "changes:eq:x")], "INVALID_FILTER"),
        (vec![("filter", "action:like:x")], "INVALID_FILTER"),
        (vec![("sort", "nope")], "VALIDATION_FAILED"),
        (vec![("limit", "0")], "INVALID_PAGINATION"),
    ] {
        let v = api.get(&audit_path(&params)).assert_error(400, code);
        if params[0].0 == "from" && code == "VALIDATION_FAILED" {
            assert_eq!(v["error"]["details"]["field"], "from", "{v}");
        }
    }

    // Without a token: 401; a user who is not an administrator: 403.
    call(s, "GET", "/api/v1/audit", None, None, &[]).assert_error(401, "UNAUTHENTICATED");
    let uid = format!("{t}u");
    ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": uid, "cn": "Audit Reader", "sn": "Reader", "userPassword": USER_PW}),
        ),
        201,
    );
    let user = Api {
        s,
        token: token(s, &uid, USER_PW),
    };
    let v = user.get("/api/v1/audit").assert_error(403, "ACL_DENIED");
    assert_eq!(v["error"]["details"]["permission"], "audit:read");
    assert_eq!(api.delete(&format!("/api/v1/users/{uid}")).status, 204);

    // A throttled attempt is recorded too (the account has failed too often).
    let mut refused = None;
    for i in 0..10 {
        let rid = format!("{t}_rl{i}");
        if login_with_id(s, &nobody, ADMIN_PW, &rid) == 429 {
            refused = Some(rid);
            break;
        }
    }
    let refused = refused.expect("the account is throttled after a few failures");
    let page = audit(&api, &[("filter", &format!("request_id:eq:{refused}"))]);
    assert_eq!(field(&page, "result"), ["RATE_LIMITED"]);
    assert_eq!(field(&page, "target"), [nobody.as_str()]);
}
