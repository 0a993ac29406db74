//! Black-box scenarios: the real binary on an ephemeral port, driven only over HTTP with
//! bearer tokens from `/auth/login` — once on the embedded directory, once on the
//! project's slapd (`HERACLES_TEST_SLAPD_ENV`), where a password set through the API is
//! also checked by binding to slapd directly. And two instances on one slapd allocating
//! `uidNumber`s concurrently without a duplicate.
//!
//! On the shared slapd every name carries a per-run tag, and the administrator is a
//! tagged user given the `admin` policy through the core (the bootstrap administrator's
//! password there belongs to whoever started first).
// One scenario reads best as one function, with short names for its actors (users a–e,
// group g, responses r).
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use heracles_core::directory::{Directory, Entry, LdapConfig, LdapDirectory};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::service::{Container, Heracles, Principal};
use serde_json::{json, Value};

use crate::support::{slapd_env, Resp, Server, JWT_SECRET};

pub(crate) const ADMIN_PW: &str = "Bb-admin-passw0rd-1";
pub(crate) const USER_PW: &str = "Bb-user-passw0rd-01";
const NEW_PW: &str = "Bb-user-passw0rd-02";

/// One request over a fresh connection.
pub(crate) fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    if let Some(t) = token {
        write!(raw, "Authorization: Bearer {t}\r\n").unwrap();
    }
    for (k, v) in headers {
        write!(raw, "{k}: {v}\r\n").unwrap();
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        raw.push_str("Content-Type: application/json\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        write!(raw, "Content-Length: {}\r\n", body.len()).unwrap();
    }
    raw.push_str("\r\n");
    raw.push_str(&body);
    s.send(&raw)
}

pub(crate) fn login(s: &Server, username: &str, password: &str) -> Resp {
    call(
        s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": username, "password": password})),
        &[],
    )
}

/// Logs in and answers the access token.
pub(crate) fn token(s: &Server, username: &str, password: &str) -> String {
    let r = login(s, username, password);
    assert_eq!(r.status, 200, "login {username}: {}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

/// Asserts the status and answers the JSON body.
pub(crate) fn ok(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    r.json()
}

/// A server and a bearer token for it.
pub(crate) struct Api<'a> {
    pub(crate) s: &'a Server,
    pub(crate) token: String,
}

impl Api<'_> {
    pub(crate) fn get(&self, path: &str) -> Resp {
        call(self.s, "GET", path, Some(&self.token), None, &[])
    }
    pub(crate) fn post(&self, path: &str, body: &Value) -> Resp {
        call(self.s, "POST", path, Some(&self.token), Some(body), &[])
    }
    fn post_empty(&self, path: &str) -> Resp {
        call(self.s, "POST", path, Some(&self.token), None, &[])
    }
    fn put(&self, path: &str, body: &Value, if_match: Option<&str>) -> Resp {
        let h: Vec<(&str, &str)> = if_match.map(|m| ("If-Match", m)).into_iter().collect();
        call(self.s, "PUT", path, Some(&self.token), Some(body), &h)
    }
    pub(crate) fn delete(&self, path: &str) -> Resp {
        call(self.s, "DELETE", path, Some(&self.token), None, &[])
    }
}

/// A short name unique to this run and this test (the shared slapd outlives runs).
pub(crate) fn tag(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mix = (nanos ^ (u128::from(std::process::id()) << 24)) & 0xfff_ffff;
    format!("{label}{mix:07x}")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn list_uids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uid"].as_str().unwrap().to_owned())
        .collect()
}

/// `ldapwhoami` as `dn` with `password`: whether slapd accepted the bind.
fn slapd_bind(env: &HashMap<String, String>, dn: &str, password: &str) -> bool {
    let out = Command::new("ldapwhoami")
        .args(["-x", "-H", &env["LDAP_URI"], "-D", dn, "-w", password])
        .output()
        .expect("ldapwhoami (slapd's client tools) must be installed");
    if out.status.success() {
        let who = String::from_utf8_lossy(&out.stdout);
        assert!(
            who.trim().eq_ignore_ascii_case(&format!("dn:{dn}")),
            "{who}"
        );
    }
    out.status.success()
}

pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

pub(crate) async fn core_on(env: &HashMap<String, String>) -> Heracles {
    let base = Dn::parse(&env["BASE_DN"]).unwrap();
    let config = LdapConfig::simple(&env["LDAP_URI"], &env["SERVICE_DN"], &env["SERVICE_PW"]);
    let dir: Arc<dyn Directory> = Arc::new(LdapDirectory::connect(config).await.unwrap());
    let h = Heracles::new(dir, base);
    h.bootstrap(None).await.unwrap();
    h
}

fn assignment_dn(h: &Heracles, uid: &str) -> Dn {
    h.container(Container::AclAssignments)
        .unwrap()
        .child(Rdn::new("heraclesAssignmentId", &format!("bb-{uid}")).unwrap())
}

/// An administrator of its own on the shared slapd: user `uid` with the `admin` policy
/// over the whole tree (what the bootstrap gives `uid=admin`).
pub(crate) fn slapd_admin(env: &HashMap<String, String>, uid: &str) {
    block_on(async {
        let h = core_on(env).await;
        let body =
            json!({"uid": uid, "cn": "Blackbox Admin", "sn": "Admin", "userPassword": ADMIN_PW});
        let user = h
            .users()
            .create(&Principal::system(h.base()), body.as_object().unwrap())
            .await
            .unwrap();
        let id = format!("bb-{uid}");
        let entry = Entry::new(assignment_dn(&h, uid))
            .with("objectClass", ["top", "heraclesAclAssignment"])
            .with("heraclesAssignmentId", [id.as_str()])
            .with("heraclesPolicyName", ["admin"])
            .with("heraclesSubjectDN", [user.dn.to_string()])
            .with("heraclesSubjectType", ["user"])
            .with("heraclesScopeType", ["tree"]);
        h.directory().add(&entry).await.unwrap();
    });
}

pub(crate) fn drop_slapd_admin(env: &HashMap<String, String>, uid: &str) {
    block_on(async {
        let h = core_on(env).await;
        h.directory().delete(&assignment_dn(&h, uid)).await.unwrap();
        h.users()
            .delete(&Principal::system(h.base()), uid)
            .await
            .unwrap();
    });
}

fn ldap_args(env: &HashMap<String, String>) -> Vec<String> {
    [
        "--ldap-url",
        &env["LDAP_URI"],
        "--base-dn",
        &env["BASE_DN"],
        "--bind-dn",
        &env["SERVICE_DN"],
        "--jwt-secret",
        JWT_SECRET,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

pub(crate) fn start_on_slapd(env: &HashMap<String, String>) -> Server {
    let args = ldap_args(env);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_env(&args, &[("HERACLES_BIND_PASSWORD", &env["SERVICE_PW"])])
}

#[test]
fn blackbox_scenario_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    scenario(&s, "admin", &tag("e"), None);
}

#[test]
fn blackbox_scenario_slapd() {
    let env = slapd_env();
    let t = tag("s");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    scenario(&s, &admin, &t, Some(&env));
    drop_slapd_admin(&env, &admin);
}

/// Waits (up to 1.5 s: sessions are checked across instances within 1 s) for `token` to
/// be refused on `/auth/me`.
fn assert_token_refused(s: &Server, token: &str) {
    let started = Instant::now();
    loop {
        let r = call(s, "GET", "/api/v1/auth/me", Some(token), None, &[]);
        if r.status == 401 {
            r.assert_error(401, "UNAUTHENTICATED");
            return;
        }
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "the token still works {:?} later",
            started.elapsed()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn scenario(s: &Server, admin: &str, t: &str, slapd: Option<&HashMap<String, String>>) {
    let api = Api {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    let me = ok(&api.get("/api/v1/auth/me"), 200);
    assert_eq!(me["uid"], admin);
    assert_eq!(me["admin"], true);

    // A department.
    let ou = format!("Eng{t}");
    let dept = ok(
        &api.post(
            "/api/v1/departments",
            &json!({"ou": ou, "description": "Blackbox"}),
        ),
        201,
    );
    let dept_dn = dept["dn"].as_str().unwrap().to_owned();
    assert!(dept_dn.starts_with(&format!("ou={ou},")), "{dept_dn}");

    // Users: one in the department (with a password), one with an allocated uidNumber,
    // one plain.
    let (ua, ub, uc) = (format!("{t}a"), format!("{t}b"), format!("{t}c"));
    let r = api.post(
        "/api/v1/users",
        &json!({"uid": ua, "cn": format!("{t} Alpha"), "sn": "Alpha",
                "mail": format!("{ua}@example.com"), "userPassword": USER_PW,
                "department": dept_dn}),
    );
    let a = ok(&r, 201);
    let a_dn = a["dn"].as_str().unwrap().to_owned();
    assert_eq!(a_dn, format!("uid={ua},{dept_dn}"));
    assert_eq!(a["locked"], false);
    assert!(a.get("userPassword").is_none(), "{a}");
    let b = ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": ub, "cn": format!("{t} Bravo"), "sn": "Bravo",
                    "mail": format!("{ub}@example.com"), "posix": {"uidNumber": null}}),
        ),
        201,
    );
    assert!(b["uidNumber"].as_u64().is_some_and(|n| n > 0), "{b}");
    assert!(b["homeDirectory"].is_string(), "{b}");
    ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": uc, "cn": format!("{t} Charlie"), "sn": "Charlie",
                    "mail": format!("{uc}@example.com")}),
        ),
        201,
    );

    // On slapd the password set through the API is one slapd verifies on bind.
    if let Some(env) = slapd {
        assert!(slapd_bind(env, &a_dn, USER_PW), "slapd refused {a_dn}");
        assert!(!slapd_bind(env, &a_dn, "Not-the-passw0rd-1"));
    }

    // GET with an ETag; PUT with a stale If-Match: 412, with the current one: 200.
    let path_a = format!("/api/v1/users/{ua}");
    let r = api.get(&path_a);
    assert_eq!(ok(&r, 200)["dn"], a_dn.as_str());
    let etag = r.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let change = json!({"mail": format!("{ua}.new@example.com")});
    api.put(&path_a, &change, Some("\"stale\""))
        .assert_error(412, "PRECONDITION_FAILED");
    assert_eq!(
        ok(&api.get(&path_a), 200)["mail"],
        format!("{ua}@example.com")
    );
    let r = api.put(&path_a, &change, Some(&etag));
    assert_eq!(ok(&r, 200)["mail"], format!("{ua}.new@example.com"));
    let new_etag = r.header("etag").expect("an ETag on PUT").to_owned();
    assert_ne!(new_etag, etag);
    api.put(&path_a, &change, Some(&etag))
        .assert_error(412, "PRECONDITION_FAILED");

    // Lists: filter, sort, pagination, attributes.
    let q = format!("/api/v1/users?filter=cn:contains:{t}&sort=-uid");
    let all = ok(&api.get(&q), 200);
    assert_eq!(list_uids(&all), [uc.as_str(), ub.as_str(), ua.as_str()]);
    assert_eq!(
        all["pagination"],
        json!({"total": 3, "limit": 50, "offset": 0, "has_more": false})
    );
    let page = ok(
        &api.get(&format!("{q}&limit=1&offset=1&attributes=uid,mail")),
        200,
    );
    assert_eq!(list_uids(&page), [ub.as_str()]);
    assert_eq!(
        page["pagination"],
        json!({"total": 3, "limit": 1, "offset": 1, "has_more": true})
    );
    let item = page["data"][0].as_object().unwrap();
    assert_eq!(item["mail"], format!("{ub}@example.com"));
    for key in item.keys() {
        assert!(["uid", "mail", "dn"].contains(&key.as_str()), "{item:?}");
    }
    let last = ok(&api.get(&format!("{q}&limit=2&offset=1")), 200);
    assert_eq!(list_uids(&last), [ub.as_str(), ua.as_str()]);
    assert_eq!(last["pagination"]["has_more"], false);
    let r = api.get(&format!(
        "/api/v1/users?filter=cn:contains:{t}&filter=mail:starts:{ua}.new"
    ));
    assert_eq!(list_uids(&ok(&r, 200)), [ua.as_str()]);

    // A bad filter: 400 in the envelope, naming the clause.
    let v = api
        .get("/api/v1/users?filter=cn:resembles:x")
        .assert_error(400, "INVALID_FILTER");
    assert!(v["error"].to_string().contains("cn:resembles:x"), "{v}");
    api.get("/api/v1/users?filter=shoeSize:eq:1")
        .assert_error(400, "INVALID_FILTER");
    api.get("/api/v1/users?limit=0")
        .assert_error(400, "INVALID_PAGINATION");

    // A mixed group with members; add and remove one.
    let gcn = format!("grp{t}");
    let r = api.post(
        "/api/v1/groups",
        &json!({"cn": gcn, "groupType": "mixed", "gidNumber": null, "members": [ua, uc]}),
    );
    let g = ok(&r, 201);
    assert_eq!(g["groupType"], "mixed");
    assert!(g["gidNumber"].as_u64().is_some(), "{g}");
    assert_eq!(g["memberCount"], 2);
    let gpath = format!("/api/v1/groups/{gcn}");
    let g = ok(
        &api.post(&format!("{gpath}/members"), &json!({"member": b["dn"]})),
        200,
    );
    assert_eq!(g["memberCount"], 3);
    let g = ok(&api.delete(&format!("{gpath}/members/{uc}")), 200);
    assert_eq!(g["memberCount"], 2);
    let g = ok(&api.get(&gpath), 200);
    let mut members = strings(&g["members"]);
    members.sort();
    assert_eq!(members, [ua.as_str(), ub.as_str()]);
    assert_eq!(g["memberCount"], 2);
    if let Some(uids) = g.get("memberUid") {
        let mut uids = strings(uids);
        uids.sort();
        assert_eq!(uids, [ua.as_str(), ub.as_str()]);
    }
    assert_eq!(
        ok(&api.get(&format!("/api/v1/users/{ub}")), 200)["groups"],
        json!([gcn])
    );
    assert_eq!(
        ok(&api.get(&format!("/api/v1/users/{uc}")), 200)["groups"],
        json!([])
    );

    // A template, and a user created with it.
    let tname = format!("tpl{t}");
    ok(
        &api.post(
            "/api/v1/templates",
            &json!({"name": tname, "description": "Blackbox staff",
                    "defaults": {"loginShell": "/bin/zsh", "homeDirectory": "/srv/{{uid}}",
                                 "title": "Staff"}}),
        ),
        201,
    );
    assert_eq!(
        ok(&api.get(&format!("/api/v1/templates/{tname}")), 200)["defaults"]["loginShell"],
        "/bin/zsh"
    );
    let ud = format!("{t}d");
    let d = ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": ud, "cn": format!("{t} Delta"), "sn": "Delta",
                    "template": tname, "posix": {"uidNumber": null}}),
        ),
        201,
    );
    assert_eq!(d["loginShell"], "/bin/zsh");
    assert_eq!(d["homeDirectory"], format!("/srv/{ud}"));
    assert_eq!(d["title"], "Staff");
    assert_ne!(d["uidNumber"], b["uidNumber"]);

    // Settings: read, change (it applies), reset.
    let spath = "/api/v1/settings/default_login_shell";
    let r = api.get(spath);
    assert_eq!(ok(&r, 200)["key"], "default_login_shell");
    assert!(r.header("etag").is_some());
    let r = api.put(spath, &json!({"value": "/bin/ksh"}), None);
    let v = ok(&r, 200);
    assert_eq!(v["value"], "/bin/ksh");
    assert_eq!(v["default"], false);
    api.put(spath, &json!({"value": "no/absolute"}), None)
        .assert_error(400, "VALIDATION_FAILED");
    let ue = format!("{t}e");
    let e = ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": ue, "cn": format!("{t} Echo"), "sn": "Echo",
                    "posix": {"uidNumber": null}}),
        ),
        201,
    );
    assert_eq!(e["loginShell"], "/bin/ksh");
    assert_eq!(api.delete(spath).status, 204);
    let v = ok(&api.get(spath), 200);
    assert_eq!(v["default"], true);
    assert_eq!(v["value"], "/bin/bash");
    assert_eq!(ok(&api.get(spath), 200)["value"], "/bin/bash");
    let all = ok(&api.get("/api/v1/settings"), 200);
    assert!(all["pagination"]["total"].as_u64().unwrap() > 3, "{all}");

    // Lock: the user's login fails and its token stops working; unlock: it logs in.
    let user_token = token(s, &ua, USER_PW);
    assert_eq!(
        ok(
            &call(s, "GET", "/api/v1/auth/me", Some(&user_token), None, &[]),
            200
        )["uid"],
        ua.as_str()
    );
    let r = api.post_empty(&format!("/api/v1/users/{ua}/lock"));
    assert_eq!(ok(&r, 200)["locked"], true);
    login(s, &ua, USER_PW).assert_error(401, "INVALID_CREDENTIALS");
    assert_token_refused(s, &user_token);
    if let Some(env) = slapd {
        assert!(!slapd_bind(env, &a_dn, USER_PW), "a locked account binds");
    }
    let r = api.post_empty(&format!("/api/v1/users/{ua}/unlock"));
    assert_eq!(ok(&r, 200)["locked"], false);
    if let Some(env) = slapd {
        assert!(slapd_bind(env, &a_dn, USER_PW), "unlocked, still refused");
    }
    let user = Api {
        s,
        token: token(s, &ua, USER_PW),
    };

    // A non-admin (only the implicit `self`): lists show itself alone, others' entries
    // are 403, as are creations and the other object types; its own /auth/me and
    // password change work.
    let mine = ok(&user.get("/api/v1/users"), 200);
    assert_eq!(list_uids(&mine), [ua.as_str()]);
    assert_eq!(mine["pagination"]["total"], 1);
    user.get(&format!("/api/v1/users/{ub}"))
        .assert_error(403, "ACL_DENIED");
    user.post("/api/v1/users", &json!({"uid": "x", "cn": "x", "sn": "x"}))
        .assert_error(403, "ACL_DENIED");
    user.get("/api/v1/groups").assert_error(403, "ACL_DENIED");
    let me = ok(&user.get("/api/v1/auth/me"), 200);
    assert_eq!(me["uid"], ua.as_str());
    assert_eq!(me["admin"], false);
    let r = user.post(
        &format!("/api/v1/users/{ua}/password"),
        &json!({"current_password": USER_PW, "new_password": NEW_PW}),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    login(s, &ua, USER_PW).assert_error(401, "INVALID_CREDENTIALS");
    assert_eq!(login(s, &ua, NEW_PW).status, 200);
    if let Some(env) = slapd {
        assert!(slapd_bind(env, &a_dn, NEW_PW));
        assert!(!slapd_bind(env, &a_dn, USER_PW));
    }

    // Delete a member: 204, gone, and no longer listed by the group.
    let r = api.delete(&format!("/api/v1/users/{ub}"));
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    api.get(&format!("/api/v1/users/{ub}"))
        .assert_error(404, "USER_NOT_FOUND");
    let g = ok(&api.get(&gpath), 200);
    assert_eq!(strings(&g["members"]), [ua.as_str()]);
    assert_eq!(g["memberCount"], 1);
    if let Some(uids) = g.get("memberUid") {
        assert_eq!(strings(uids), [ua.as_str()]);
    }

    // Move: out of the department into ou=people and back (by its ou); the DN follows,
    // the password comes along, the group still lists the user, its token ends.
    let moved = ok(
        &api.post(
            &format!("/api/v1/users/{ua}/move"),
            &json!({"department": null}),
        ),
        200,
    );
    let people_dn = moved["dn"].as_str().unwrap().to_owned();
    assert!(
        people_dn.starts_with(&format!("uid={ua},ou=people,")),
        "{moved}"
    );
    assert_token_refused(s, &user.token);
    assert_eq!(login(s, &ua, NEW_PW).status, 200);
    assert_eq!(
        strings(&ok(&api.get(&gpath), 200)["members"]),
        [ua.as_str()]
    );
    let back = ok(
        &api.post(
            &format!("/api/v1/users/{ua}/move"),
            &json!({"department": ou}),
        ),
        200,
    );
    assert_eq!(back["dn"], a_dn.as_str());
    api.post(
        &format!("/api/v1/users/{ua}/move"),
        &json!({"department": "nowhere-at-all"}),
    )
    .assert_error(404, "DEPARTMENT_NOT_FOUND");
    api.post(&format!("/api/v1/users/{ua}/move"), &json!({"dept": ou}))
        .assert_error(400, "VALIDATION_FAILED");

    // Clean up (the shared slapd outlives the test): a non-empty department needs
    // `recursive`, and takes its user along.
    for path in [
        format!("/api/v1/users/{uc}"),
        format!("/api/v1/users/{ud}"),
        format!("/api/v1/users/{ue}"),
        gpath.clone(),
        format!("/api/v1/templates/{tname}"),
    ] {
        let r = api.delete(&path);
        assert_eq!(r.status, 204, "{path}: {}", r.text());
    }
    api.delete(&format!("/api/v1/departments/{ou}"))
        .assert_error(422, "BUSINESS_RULE_VIOLATION");
    let r = api.delete(&format!("/api/v1/departments/{ou}?recursive=true"));
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&path_a).assert_error(404, "USER_NOT_FOUND");
    let r = api.get(&format!("/api/v1/users?filter=cn:contains:{t}"));
    assert_eq!(ok(&r, 200)["pagination"]["total"], 0);
}

/// Creates users `{prefix}{i}` for `i` in `range`, `in_flight` requests at a time, and
/// answers their uidNumbers.
fn create_concurrently(
    s: &Arc<Server>,
    token: &str,
    prefix: &str,
    count: usize,
    in_flight: usize,
) -> Vec<u64> {
    let next = Arc::new(AtomicUsize::new(0));
    let found = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (s, next, found) = (s.clone(), next.clone(), found.clone());
            let (token, prefix) = (token.to_owned(), prefix.to_owned());
            thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= count {
                    break;
                }
                let uid = format!("{prefix}{i:02}");
                let body = json!({"uid": uid, "cn": format!("{prefix} {i}"), "sn": "Load",
                                  "posix": {"uidNumber": null}});
                let r = call(&s, "POST", "/api/v1/users", Some(&token), Some(&body), &[]);
                let v = ok(&r, 201);
                let n = v["uidNumber"].as_u64().unwrap_or_else(|| panic!("{v}"));
                found.lock().unwrap().push(n);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let found = found.lock().unwrap().clone();
    found
}

#[test]
fn two_instances_allocate_distinct_uid_numbers_on_slapd() {
    const PER_INSTANCE: usize = 50;
    const IN_FLIGHT: usize = 6;
    let env = slapd_env();
    let t = tag("p");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let a = Arc::new(start_on_slapd(&env));
    let b = Arc::new(start_on_slapd(&env));
    let (ta, tb) = (token(&a, &admin, ADMIN_PW), token(&b, &admin, ADMIN_PW));

    let started = Instant::now();
    let runs: Vec<_> = [(a.clone(), ta.clone(), "a"), (b.clone(), tb.clone(), "b")]
        .into_iter()
        .map(|(s, token, side)| {
            let prefix = format!("{t}{side}");
            thread::spawn(move || create_concurrently(&s, &token, &prefix, PER_INSTANCE, IN_FLIGHT))
        })
        .collect();
    let numbers: Vec<u64> = runs.into_iter().flat_map(|r| r.join().unwrap()).collect();
    let took = started.elapsed();
    assert_eq!(numbers.len(), 2 * PER_INSTANCE);
    let distinct: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        numbers.len(),
        "duplicate uidNumbers: {numbers:?}"
    );
    // All inside the configured range.
    let r = call(
        &a,
        "GET",
        "/api/v1/settings/uid_range",
        Some(&ta),
        None,
        &[],
    );
    let range = ok(&r, 200)["value"].clone();
    let (min, max) = (
        range["min"].as_u64().unwrap(),
        range["max"].as_u64().unwrap(),
    );
    assert!(
        numbers.iter().all(|n| (min..=max).contains(n)),
        "outside {min}..={max}: {numbers:?}"
    );
    eprintln!(
        "two instances created {} users ({IN_FLIGHT} in flight each) in {took:?} \
         ({:?} per user)",
        numbers.len(),
        took / u32::try_from(numbers.len()).unwrap()
    );

    // Each instance sees all of them, with the numbers it was answered.
    let r = call(
        &b,
        "GET",
        &format!("/api/v1/users?filter=uid:starts:{t}&attributes=uid,uidNumber&limit=1000"),
        Some(&tb),
        None,
        &[],
    );
    let page = ok(&r, 200);
    // The administrator is tagged too.
    assert_eq!(page["pagination"]["total"], 2 * PER_INSTANCE + 1);
    let listed: HashSet<u64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["uidNumber"].as_u64())
        .collect();
    assert_eq!(listed, distinct);

    // Clean up, concurrently too.
    let started = Instant::now();
    let t = t.as_str();
    let cleaners: Vec<_> = [(a.clone(), ta, "a"), (b.clone(), tb, "b")]
        .into_iter()
        .flat_map(|(s, token, side)| {
            (0..IN_FLIGHT).map(move |w| {
                let (s, token) = (s.clone(), token.clone());
                let prefix = format!("{t}{side}");
                thread::spawn(move || {
                    for i in (w..PER_INSTANCE).step_by(IN_FLIGHT) {
                        let path = format!("/api/v1/users/{prefix}{i:02}");
                        let r = call(&s, "DELETE", &path, Some(&token), None, &[]);
                        assert_eq!(r.status, 204, "{path}: {}", r.text());
                    }
                })
            })
        })
        .collect();
    for c in cleaners {
        c.join().unwrap();
    }
    eprintln!("and deleted them in {:?}", started.elapsed());
    drop_slapd_admin(&env, &admin);
}

#[test]
fn resource_routes_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    resource_routes(&s, "admin", &tag("r"));
}

#[test]
fn resource_routes_slapd() {
    let env = slapd_env();
    let t = tag("q");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    resource_routes(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}

/// `PUT`/`DELETE` with `If-Match` (current tag, stale tag, `*`) on groups, members,
/// departments, templates and settings, and the department tree — over real HTTP.
fn resource_routes(s: &Server, admin: &str, t: &str) {
    let api = Api {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    let with = |method: &str, path: &str, body: Option<&Value>, if_match: &str| {
        call(
            s,
            method,
            path,
            Some(&api.token),
            body,
            &[("If-Match", if_match)],
        )
    };
    let etag = |path: &str| -> String {
        let r = api.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.header("etag").expect("GET answers an ETag").to_owned()
    };

    // Departments: a parent and a child, the tree, PUT with If-Match.
    let (top, sub) = (format!("Top{t}"), format!("Sub{t}"));
    let top_dn = ok(&api.post("/api/v1/departments", &json!({"ou": top})), 201)["dn"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub_dn = ok(
        &api.post(
            "/api/v1/departments",
            &json!({"ou": sub, "parent": top, "description": "child"}),
        ),
        201,
    )["dn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sub_dn.ends_with(&top_dn), "{sub_dn} is below {top_dn}");
    let tree = ok(&api.get("/api/v1/departments/tree"), 200);
    let nodes = tree["data"]
        .as_array()
        .expect("the tree is a list of roots");
    let node = nodes
        .iter()
        .find(|n| n["department"]["ou"] == top.as_str())
        .unwrap_or_else(|| panic!("{top} is a root of {tree}"));
    let children = node["children"].as_array().unwrap();
    assert_eq!(children.len(), 1, "{node}");
    assert_eq!(children[0]["department"]["ou"], sub.as_str());
    assert_eq!(children[0]["department"]["description"], "child");

    let dpath = format!("/api/v1/departments/{sub}");
    let tag0 = etag(&dpath);
    let r = with(
        "PUT",
        &dpath,
        Some(&json!({"description": "renamed"})),
        &tag0,
    );
    let d = ok(&r, 200);
    assert_eq!(d["description"], "renamed");
    let tag1 = r.header("etag").unwrap().to_owned();
    assert_ne!(tag0, tag1, "a change changes the ETag");
    assert_eq!(etag(&dpath), tag1, "the PUT answers the new ETag");
    with("PUT", &dpath, Some(&json!({"description": "lost"})), &tag0)
        .assert_error(412, "PRECONDITION_FAILED");
    with("DELETE", &dpath, None, &tag0).assert_error(412, "PRECONDITION_FAILED");
    assert_eq!(ok(&api.get(&dpath), 200)["description"], "renamed");
    let r = with("PUT", &dpath, Some(&json!({"description": null})), "*");
    assert!(ok(&r, 200).get("description").is_none_or(Value::is_null));

    // Groups: PUT (description, members replaced) and DELETE with If-Match; members added
    // and removed under If-Match.
    let (ua, ub) = (format!("{t}a"), format!("{t}b"));
    for u in [&ua, &ub] {
        ok(
            &api.post(
                "/api/v1/users",
                &json!({"uid": u, "cn": format!("{u} User"), "sn": "User", "department": sub_dn}),
            ),
            201,
        );
    }
    let cn = format!("{t}grp");
    ok(
        &api.post(
            "/api/v1/groups",
            &json!({"cn": cn, "groupType": "mixed", "members": [ua]}),
        ),
        201,
    );
    let gpath = format!("/api/v1/groups/{cn}");
    let g0 = etag(&gpath);
    let r = with(
        "PUT",
        &gpath,
        Some(&json!({"description": "Team", "members": [ub]})),
        &g0,
    );
    let g = ok(&r, 200);
    assert_eq!(g["description"], "Team");
    assert_eq!(strings(&g["members"]), [ub.as_str()]);
    // Mixed: `member` and `memberUid` moved together.
    for (who, n) in [(&ub, 1), (&ua, 0)] {
        let r = api.get(&format!(
            "/api/v1/groups?filter=cn:eq:{cn}&filter=memberUid:eq:{who}"
        ));
        assert_eq!(ok(&r, 200)["pagination"]["total"], n, "memberUid={who}");
    }
    assert_eq!(
        ok(&api.get(&format!("/api/v1/users/{ua}")), 200)["groups"],
        json!([])
    );
    with("PUT", &gpath, Some(&json!({"description": "Lost"})), &g0)
        .assert_error(412, "PRECONDITION_FAILED");
    let g1 = etag(&gpath);
    let r = with(
        "POST",
        &format!("{gpath}/members"),
        Some(&json!({"member": ua})),
        &g1,
    );
    assert_eq!(ok(&r, 200)["memberCount"], 2);
    with("DELETE", &format!("{gpath}/members/{ua}"), None, &g1)
        .assert_error(412, "PRECONDITION_FAILED");
    let g2 = etag(&gpath);
    let g = ok(
        &with("DELETE", &format!("{gpath}/members/{ua}"), None, &g2),
        200,
    );
    assert_eq!(strings(&g["members"]), [ub.as_str()]);
    with("DELETE", &gpath, None, &g2).assert_error(412, "PRECONDITION_FAILED");
    let r = with("DELETE", &gpath, None, &etag(&gpath));
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&gpath).assert_error(404, "GROUP_NOT_FOUND");
    with("DELETE", &gpath, None, "*").assert_error(404, "GROUP_NOT_FOUND");

    // Templates: PUT and DELETE with If-Match.
    let name = format!("tpl{t}");
    ok(
        &api.post(
            "/api/v1/templates",
            &json!({"name": name, "defaults": {"loginShell": "/bin/sh"}}),
        ),
        201,
    );
    let tpath = format!("/api/v1/templates/{name}");
    let t0 = etag(&tpath);
    let r = with(
        "PUT",
        &tpath,
        Some(&json!({"defaults": {"loginShell": "/bin/zsh"}})),
        &t0,
    );
    assert_eq!(ok(&r, 200)["defaults"]["loginShell"], "/bin/zsh");
    with("PUT", &tpath, Some(&json!({"description": "x"})), &t0)
        .assert_error(412, "PRECONDITION_FAILED");
    with("DELETE", &tpath, None, &t0).assert_error(412, "PRECONDITION_FAILED");
    let r = with("DELETE", &tpath, None, &etag(&tpath));
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&tpath).assert_error(404, "TEMPLATE_NOT_FOUND");

    // Settings: If-Match on PUT and DELETE (the value is put back at once).
    let spath = "/api/v1/settings/default_login_shell";
    let s0 = etag(spath);
    let r = with("PUT", spath, Some(&json!({"value": "/bin/dash"})), &s0);
    assert_eq!(ok(&r, 200)["value"], "/bin/dash");
    with("PUT", spath, Some(&json!({"value": "/bin/tcsh"})), &s0)
        .assert_error(412, "PRECONDITION_FAILED");
    with("DELETE", spath, None, &s0).assert_error(412, "PRECONDITION_FAILED");
    let r = with("DELETE", spath, None, &etag(spath));
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(ok(&api.get(spath), 200)["default"], true);

    // The department with its users goes, under If-Match, recursively.
    let r = with(
        "DELETE",
        &format!("/api/v1/departments/{top}?recursive=true"),
        None,
        &etag(&format!("/api/v1/departments/{top}")),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&dpath).assert_error(404, "DEPARTMENT_NOT_FOUND");
    api.get(&format!("/api/v1/users/{ua}"))
        .assert_error(404, "USER_NOT_FOUND");
}
