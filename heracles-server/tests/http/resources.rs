//! The resource routes (users, groups, departments, templates, settings), dispatched
//! in-process through the real route table on behalf of a principal
//! (`router::dispatch_as`): token authentication is not part of these tests. Every
//! scenario runs on a fresh embedded directory and on a private throwaway slapd
//! (`ldap/test-slapd.sh`, stopped when the test ends). Over HTTP, without a token, the same
//! routes answer 401 (checked at the end).
// One scenario per area reads best as one function.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use heracles_core::dn::Dn;
use heracles_core::service::Principal;
use heracles_server::config::{Args, Config};
use heracles_server::request::RequestBody;
use heracles_server::router::{dispatch_as, ROUTES};
use heracles_server::state::AppState;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::Server;

const BASE: &str = "dc=example,dc=com";

/// A state over a fresh, bootstrapped directory.
struct App {
    state: Arc<AppState>,
    admin: Principal,
    rt: tokio::runtime::Runtime,
    _slapd: Option<OwnSlapd>,
    _dir: TempDir,
}

/// A private slapd instance, stopped on drop.
struct OwnSlapd {
    dir: PathBuf,
    env: std::collections::HashMap<String, String>,
}

fn slapd_script(action: &str, dir: &Path) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ldap/test-slapd.sh");
    Command::new("sh")
        .arg(script)
        .arg(action)
        .arg(dir)
        .output()
        .unwrap()
}

impl OwnSlapd {
    fn start(tmp: &Path) -> OwnSlapd {
        let dir = tmp.join("s");
        let out = slapd_script("start", &dir);
        assert!(
            out.status.success(),
            "test-slapd.sh start failed (is slapd installed? scripts/test.sh installs it): \
             {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.join("env")).unwrap();
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        OwnSlapd { dir, env }
    }
}

impl Drop for OwnSlapd {
    fn drop(&mut self) {
        let _ = slapd_script("stop", &self.dir);
    }
}

/// An answer.
#[derive(Debug)]
struct Res {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn etag(&self) -> String {
        self.header("etag").expect("an ETag").to_owned()
    }

    /// Asserts an error answer and returns its `error` object.
    fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{:#}", self.body);
        &self.body["error"]
    }

    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        &self.body
    }
}

fn non_admin() -> Principal {
    let dn = Dn::parse(&format!("uid=someone,ou=people,{BASE}")).unwrap();
    let nothing = heracles_core::acl::CompiledAcl::compile(&dn, &[], &[], &[], None);
    Principal::with_acl(dn, Some("someone".into()), Arc::new(nothing))
}

/// Which directory a scenario runs on.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Embedded,
    Slapd,
}

impl App {
    fn new(backend: Backend) -> App {
        // Short path: the ldapi socket path of slapd must stay under ~107 bytes.
        let dir = tempfile::Builder::new().prefix("hx-").tempdir().unwrap();
        let mut args = Args {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.path().join("data").to_str().unwrap().into()),
            base_dn: Some(BASE.into()),
            ..Args::default()
        };
        let mut env = std::collections::HashMap::new();
        let slapd = match backend {
            Backend::Embedded => None,
            Backend::Slapd => {
                let slapd = OwnSlapd::start(dir.path());
                assert_eq!(slapd.env["BASE_DN"], BASE);
                args.ldap_url = Some(slapd.env["LDAP_URI"].clone());
                args.bind_dn = Some(slapd.env["SERVICE_DN"].clone());
                args.jwt_secret = Some(crate::support::JWT_SECRET.into());
                env.insert(
                    "HERACLES_BIND_PASSWORD".to_owned(),
                    slapd.env["SERVICE_PW"].clone(),
                );
                Some(slapd)
            }
        };
        let config = Config::load(&args, &|k| env.get(k).cloned()).unwrap();
        let state = Arc::new(AppState::open(config).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(state.heracles().bootstrap(Some("An-admin-passw0rd")))
            .unwrap();
        let admin = Principal::system(&Dn::parse(BASE).unwrap());
        App {
            state,
            admin,
            rt,
            _slapd: slapd,
            _dir: dir,
        }
    }

    fn call_as(
        &self,
        p: &Principal,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let body: RequestBody = Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync();
        let req = req.body(body).unwrap();
        let reply = self.rt.block_on(dispatch_as(
            ROUTES,
            self.state.clone(),
            req,
            "test-request".into(),
            p.clone(),
        ));
        let (status, headers, bytes) = reply.into_parts();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            assert_eq!(
                headers.get("content-type").unwrap(),
                "application/json; charset=utf-8"
            );
            serde_json::from_slice(&bytes).unwrap()
        };
        Res {
            status: status.as_u16(),
            headers,
            body,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Res {
        self.call_as(&self.admin, method, path, body, &[])
    }

    fn get(&self, path: &str) -> Res {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Res {
        self.call("POST", path, Some(body))
    }

    fn put(&self, path: &str, body: &Value) -> Res {
        self.call("PUT", path, Some(body))
    }

    fn delete(&self, path: &str) -> Res {
        self.call("DELETE", path, None)
    }
}

fn user(uid: &str) -> Value {
    json!({"uid": uid, "cn": format!("{uid} Doe"), "sn": "Doe", "mail": format!("{uid}@example.com")})
}

fn uids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn users_crud_lists_and_preconditions_embedded() {
    users_crud_lists_and_preconditions(&App::new(Backend::Embedded));
}

#[test]
fn users_crud_lists_and_preconditions_slapd() {
    users_crud_lists_and_preconditions(&App::new(Backend::Slapd));
}

fn users_crud_lists_and_preconditions(app: &App) {
    // Create: 201, Location, ETag, the user.
    let r = app.post("/api/v1/users", &user("jdoe"));
    let u = r.ok(201);
    assert_eq!(u["uid"], "jdoe");
    assert_eq!(u["dn"], format!("uid=jdoe,ou=people,{BASE}"));
    assert_eq!(u["locked"], false);
    assert!(u.get("userPassword").is_none());
    assert_eq!(r.header("location"), Some("/api/v1/users/jdoe"));
    assert!(r.etag().starts_with('"'));
    app.post("/api/v1/users", &user("alice")).ok(201);
    app.post(
        "/api/v1/users",
        &json!({"uid": "bob", "cn": "Bob", "sn": "B", "posix": {"uidNumber": null}}),
    )
    .ok(201);
    // Duplicate: 409. Unknown field: 400. Missing sn: 400.
    app.post("/api/v1/users", &user("jdoe"))
        .error(409, "ALREADY_EXISTS");
    let mut bad = user("carol");
    bad["shoeSize"] = json!(42);
    app.post("/api/v1/users", &bad)
        .error(400, "VALIDATION_FAILED");
    app.post("/api/v1/users", &json!({"uid": "x", "cn": "x"}))
        .error(400, "VALIDATION_FAILED");
    // Not JSON: 400; not an object: 400.
    app.post("/api/v1/users", &json!([1]))
        .error(400, "VALIDATION_FAILED");

    // Get: 200 with a stable ETag.
    let r = app.get("/api/v1/users/jdoe");
    assert_eq!(r.ok(200)["mail"], "jdoe@example.com");
    let etag = r.etag();
    assert_eq!(app.get("/api/v1/users/jdoe").etag(), etag);
    app.get("/api/v1/users/nobody").error(404, "USER_NOT_FOUND");

    // Lists: default order by uid, paging, filter, sort, attributes.
    let all = app.get("/api/v1/users");
    assert_eq!(uids(all.ok(200)), ["admin", "alice", "bob", "jdoe"]);
    assert_eq!(all.body["pagination"]["total"], 4);
    let page = app.get("/api/v1/users?limit=2&offset=1");
    assert_eq!(uids(page.ok(200)), ["alice", "bob"]);
    assert_eq!(
        page.body["pagination"],
        json!({"total": 4, "limit": 2, "offset": 1, "has_more": true})
    );
    let r = app.get("/api/v1/users?filter=mail:ends:example.com&filter=uid:starts:j");
    assert_eq!(uids(r.ok(200)), ["jdoe"]);
    let r = app.get("/api/v1/users?filter=mail:present&sort=-uid");
    assert_eq!(uids(r.ok(200)), ["jdoe", "alice"]);
    let r = app.get("/api/v1/users?attributes=uid,mail&filter=uid:eq:jdoe");
    let item = &r.ok(200)["data"][0];
    let mut keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["dn", "mail", "uid"]);
    for bad in [
        "filter=shoeSize:eq:1",
        "filter=uid:like:x",
        "filter=uid:eq:",
        "filter=",
        "filter=nocolon",
    ] {
        app.get(&format!("/api/v1/users?{bad}"))
            .error(400, "INVALID_FILTER");
    }
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "offset=-1",
        "limit=1&limit=2",
    ] {
        app.get(&format!("/api/v1/users?{bad}"))
            .error(400, "INVALID_PAGINATION");
    }
    for bad in [
        "sort=shoeSize",
        "attributes=uid,shoeSize",
        "sort=",
        "attributes=,",
    ] {
        app.get(&format!("/api/v1/users?{bad}"))
            .error(400, "VALIDATION_FAILED");
    }

    // Update with If-Match: a stale tag is 412 and changes nothing; the current one works.
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/users/jdoe",
        Some(&json!({"mail": "new@example.com"})),
        &[("if-match", "\"stale\"")],
    );
    r.error(412, "PRECONDITION_FAILED");
    assert_eq!(
        app.get("/api/v1/users/jdoe").body["mail"],
        "jdoe@example.com"
    );
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/users/jdoe",
        Some(&json!({"mail": "new@example.com", "givenName": "John"})),
        &[("if-match", &format!("\"other\", {etag}"))],
    );
    assert_eq!(r.ok(200)["mail"], "new@example.com");
    assert_ne!(r.etag(), etag);
    // The old tag is stale now; a weak form of the current tag never matches.
    let current = r.etag();
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/users/jdoe",
        Some(&json!({"givenName": null})),
        &[("if-match", &etag)],
    )
    .error(412, "PRECONDITION_FAILED");
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/users/jdoe",
        Some(&json!({"givenName": null})),
        &[("if-match", &format!("W/{current}"))],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/users/jdoe",
        Some(&json!({"givenName": null})),
        &[("if-match", "*")],
    );
    assert!(r.ok(200).get("givenName").is_none());
    app.put("/api/v1/users/jdoe", &json!({"shoeSize": 1}))
        .error(400, "VALIDATION_FAILED");
    app.put("/api/v1/users/nobody", &json!({"cn": "x"}))
        .error(404, "USER_NOT_FOUND");
    // `*` needs the user to exist.
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/users/nobody",
        None,
        &[("if-match", "*")],
    )
    .error(404, "USER_NOT_FOUND");

    // Lock and unlock.
    assert_eq!(
        app.post("/api/v1/users/jdoe/lock", &json!({})).ok(200)["locked"],
        true
    );
    assert_eq!(app.get("/api/v1/users/jdoe").body["locked"], true);
    assert_eq!(
        app.call("POST", "/api/v1/users/jdoe/unlock", None).ok(200)["locked"],
        false
    );
    app.call("POST", "/api/v1/users/nobody/lock", None)
        .error(404, "USER_NOT_FOUND");

    // Delete: If-Match mismatch 412; then 204, and the user is gone.
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/users/alice",
        None,
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let tag = app.get("/api/v1/users/alice").etag();
    let r = app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/users/alice",
        None,
        &[("if-match", &tag)],
    );
    assert_eq!(r.status, 204);
    assert!(r.body.is_null());
    app.get("/api/v1/users/alice").error(404, "USER_NOT_FOUND");
    app.delete("/api/v1/users/alice")
        .error(404, "USER_NOT_FOUND");

    // Wrong method: 405; a non-admin: 403.
    app.call("PATCH", "/api/v1/users/jdoe", None)
        .error(405, "METHOD_NOT_ALLOWED");
    let who = non_admin();
    app.call_as(&who, "GET", "/api/v1/users", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "POST", "/api/v1/users", Some(&user("eve")), &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "GET", "/api/v1/users/jdoe", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "DELETE", "/api/v1/users/jdoe", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "POST", "/api/v1/users/jdoe/lock", None, &[])
        .error(403, "ACL_DENIED");
}

#[test]
fn groups_and_membership_embedded() {
    groups_and_membership(&App::new(Backend::Embedded));
}

#[test]
fn groups_and_membership_slapd() {
    groups_and_membership(&App::new(Backend::Slapd));
}

fn groups_and_membership(app: &App) {
    for uid in ["jdoe", "alice"] {
        app.post("/api/v1/users", &user(uid)).ok(201);
    }
    let r = app.post(
        "/api/v1/groups",
        &json!({"cn": "developers", "description": "Devs", "members": ["jdoe"]}),
    );
    let g = r.ok(201);
    assert_eq!(g["groupType"], "ldap");
    assert_eq!(g["members"], json!(["jdoe"]));
    assert_eq!(g["memberCount"], 1);
    assert_eq!(r.header("location"), Some("/api/v1/groups/developers"));
    let r = app.post(
        "/api/v1/groups",
        &json!({"cn": "posixers", "groupType": "mixed", "gidNumber": null}),
    );
    assert!(r.ok(201)["gidNumber"].is_u64(), "{:#}", r.body);
    app.post("/api/v1/groups", &json!({"cn": "developers"}))
        .error(409, "ALREADY_EXISTS");
    app.post("/api/v1/groups", &json!({"cn": "x", "color": "red"}))
        .error(400, "VALIDATION_FAILED");
    app.post("/api/v1/groups", &json!({"cn": "x", "members": ["nobody"]}))
        .error(404, "USER_NOT_FOUND");

    // Members: one, several (uid or DN), the user sees its groups.
    let r = app.post(
        "/api/v1/groups/posixers/members",
        &json!({"member": "jdoe"}),
    );
    assert_eq!(r.ok(200)["members"], json!(["jdoe"]));
    let r = app.post(
        "/api/v1/groups/developers/members",
        &json!({"members": [format!("uid=alice,ou=people,{BASE}"), "jdoe"]}),
    );
    assert_eq!(r.ok(200)["memberCount"], 2);
    assert_eq!(
        app.get("/api/v1/users/jdoe").body["groups"],
        json!(["developers", "posixers"])
    );
    app.post("/api/v1/groups/developers/members", &json!({}))
        .error(400, "VALIDATION_FAILED");
    app.post(
        "/api/v1/groups/developers/members",
        &json!({"member": "nobody"}),
    )
    .error(404, "USER_NOT_FOUND");
    app.post("/api/v1/groups/nope/members", &json!({"member": "jdoe"}))
        .error(404, "GROUP_NOT_FOUND");

    // Get, list, filters, attributes.
    let r = app.get("/api/v1/groups/developers");
    assert_eq!(r.ok(200)["description"], "Devs");
    let etag = r.etag();
    app.get("/api/v1/groups/nope").error(404, "GROUP_NOT_FOUND");
    let r = app.get("/api/v1/groups");
    let names: Vec<&str> = r.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["cn"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"developers") && names.contains(&"posixers"),
        "{names:?}"
    );
    let r = app.get("/api/v1/groups?filter=cn:eq:developers&attributes=member");
    let item = &r.ok(200)["data"][0];
    let mut keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["dn", "members"]);
    app.get("/api/v1/groups?filter=color:eq:red")
        .error(400, "INVALID_FILTER");

    // Update with If-Match.
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/groups/developers",
        Some(&json!({"description": "x"})),
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/groups/developers",
        Some(&json!({"description": "Developers"})),
        &[("if-match", &etag)],
    );
    assert_eq!(r.ok(200)["description"], "Developers");
    app.put("/api/v1/groups/developers", &json!({"color": "red"}))
        .error(400, "VALIDATION_FAILED");
    // Found by the API fuzzing (scripts/api-fuzz.py): the description is one string, as
    // documented — a number or a list was stored as text; and a body is a JSON object — an
    // array used to fill the fields in order (`[null]` removed the description).
    for bad in [
        json!({"description": 1.5e3}),
        json!({"description": ["a", "b"]}),
        json!({"description": ""}),
    ] {
        let e = app
            .put("/api/v1/groups/developers", &bad)
            .error(400, "VALIDATION_FAILED")
            .clone();
        assert_eq!(e["details"]["field"], "description", "{e:#}");
    }
    for bad in [json!([null, null]), json!(["x"]), json!("x"), json!(null)] {
        let e = app
            .put("/api/v1/groups/developers", &bad)
            .error(400, "VALIDATION_FAILED")
            .clone();
        assert!(
            e["message"].as_str().unwrap().contains("JSON object"),
            "{e:#}"
        );
    }
    app.put("/api/v1/templates/nope", &json!([null, null]))
        .error(400, "VALIDATION_FAILED");
    assert_eq!(
        app.get("/api/v1/groups/developers").ok(200)["description"],
        "Developers"
    );

    // Remove members.
    let r = app.delete("/api/v1/groups/developers/members/alice");
    assert_eq!(r.ok(200)["members"], json!(["jdoe"]));
    app.delete("/api/v1/groups/developers/members/alice")
        .error(404, "USER_NOT_FOUND");

    // Delete.
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/groups/developers",
        None,
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    assert_eq!(app.delete("/api/v1/groups/developers").status, 204);
    app.get("/api/v1/groups/developers")
        .error(404, "GROUP_NOT_FOUND");
    app.delete("/api/v1/groups/developers")
        .error(404, "GROUP_NOT_FOUND");

    let who = non_admin();
    for (m, path, body) in [
        ("GET", "/api/v1/groups", None),
        ("GET", "/api/v1/groups/posixers", None),
        ("POST", "/api/v1/groups", Some(json!({"cn": "x"}))),
        ("DELETE", "/api/v1/groups/posixers", None),
        (
            "POST",
            "/api/v1/groups/posixers/members",
            Some(json!({"member": "jdoe"})),
        ),
    ] {
        app.call_as(&who, m, path, body.as_ref(), &[])
            .error(403, "ACL_DENIED");
    }
}

#[test]
fn departments_tree_and_deletes_embedded() {
    departments_tree_and_deletes(&App::new(Backend::Embedded));
}

#[test]
fn departments_tree_and_deletes_slapd() {
    departments_tree_and_deletes(&App::new(Backend::Slapd));
}

fn departments_tree_and_deletes(app: &App) {
    let r = app.post(
        "/api/v1/departments",
        &json!({"ou": "Engineering", "description": "Eng"}),
    );
    let eng = r.ok(201).clone();
    assert_eq!(eng["parent"], Value::Null);
    let eng_dn = eng["dn"].as_str().unwrap().to_owned();
    assert_eq!(eng_dn, format!("ou=Engineering,ou=departments,{BASE}"));
    assert_eq!(
        r.header("location"),
        Some("/api/v1/departments/ou%3DEngineering%2Cou%3Ddepartments%2Cdc%3Dexample%2Cdc%3Dcom")
    );
    app.post(
        "/api/v1/departments",
        &json!({"ou": "Backend", "parent": eng_dn}),
    )
    .ok(201);
    app.post("/api/v1/departments", &json!({"ou": "Sales"}))
        .ok(201);
    // A second "Backend", below Sales: the bare name is then ambiguous.
    app.post(
        "/api/v1/departments",
        &json!({"ou": "Backend", "parent": "Sales"}),
    )
    .ok(201);
    app.post("/api/v1/departments", &json!({"ou": "Sales"}))
        .error(409, "ALREADY_EXISTS");
    app.post(
        "/api/v1/departments",
        &json!({"ou": "X", "parent": "Nowhere"}),
    )
    .error(404, "DEPARTMENT_NOT_FOUND");
    app.post("/api/v1/departments", &json!({"ou": "X", "boss": "me"}))
        .error(400, "VALIDATION_FAILED");

    // List, tree, get (by name, by DN, by name + parent).
    let r = app.get("/api/v1/departments?sort=ou");
    assert_eq!(r.ok(200)["pagination"]["total"], 4);
    let r = app.get("/api/v1/departments?filter=ou:eq:engineering");
    assert_eq!(r.ok(200)["data"][0]["children_count"], 1);
    app.get("/api/v1/departments?filter=boss:eq:me")
        .error(400, "INVALID_FILTER");
    let r = app.get("/api/v1/departments/tree");
    let tree = r.ok(200)["data"].as_array().unwrap();
    assert_eq!(tree.len(), 2);
    assert_eq!(tree[0]["department"]["ou"], "Engineering");
    assert_eq!(tree[0]["children"][0]["department"]["ou"], "Backend");
    let r = app.get("/api/v1/departments/Engineering");
    assert_eq!(r.ok(200)["description"], "Eng");
    let etag = r.etag();
    app.get("/api/v1/departments/Backend")
        .error(422, "BUSINESS_RULE_VIOLATION");
    let path = format!(
        "/api/v1/departments/Backend?parent={}",
        eng_dn.replace('=', "%3D").replace(',', "%2C")
    );
    assert_eq!(app.get(&path).ok(200)["parent"], eng_dn);
    app.get("/api/v1/departments/Nowhere")
        .error(404, "DEPARTMENT_NOT_FOUND");
    app.get("/api/v1/departments/Backend?parent=not-a-dn")
        .error(400, "INVALID_DN");

    // Update with If-Match.
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/departments/Engineering",
        Some(&json!({"description": "x"})),
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/departments/Engineering",
        Some(&json!({"description": null})),
        &[("if-match", &etag)],
    );
    assert!(r.ok(200).get("description").is_none());

    // Users and groups inside a department.
    let mut u = user("dev1");
    u["department"] = json!(eng_dn);
    let r = app.post("/api/v1/users", &u);
    assert_eq!(r.ok(201)["dn"], format!("uid=dev1,{eng_dn}"));

    // Delete: non-empty 422 unless recursive; bad flag 400.
    let e = app
        .delete("/api/v1/departments/Engineering")
        .error(422, "BUSINESS_RULE_VIOLATION")
        .clone();
    assert_eq!(e["details"]["entries"], 2);
    app.delete("/api/v1/departments/Engineering?recursive=maybe")
        .error(400, "VALIDATION_FAILED");
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/departments/Engineering?recursive=true",
        None,
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    assert_eq!(
        app.delete("/api/v1/departments/Engineering?recursive=true")
            .status,
        204
    );
    app.get("/api/v1/users/dev1").error(404, "USER_NOT_FOUND");
    app.get("/api/v1/departments/Engineering")
        .error(404, "DEPARTMENT_NOT_FOUND");
    // Now "Backend" is unique again; an empty department goes without `recursive`.
    assert_eq!(app.delete("/api/v1/departments/Backend").status, 204);

    let who = non_admin();
    app.call_as(&who, "GET", "/api/v1/departments", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "GET", "/api/v1/departments/tree", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(&who, "DELETE", "/api/v1/departments/Sales", None, &[])
        .error(403, "ACL_DENIED");
}

#[test]
fn templates_crud_and_use_embedded() {
    templates_crud_and_use(&App::new(Backend::Embedded));
}

#[test]
fn templates_crud_and_use_slapd() {
    templates_crud_and_use(&App::new(Backend::Slapd));
}

fn templates_crud_and_use(app: &App) {
    let r = app.post(
        "/api/v1/templates",
        &json!({"name": "staff", "description": "Staff",
                "defaults": {"loginShell": "/bin/zsh", "homeDirectory": "/home/{{uid}}",
                             "title": "Staff member"}}),
    );
    assert_eq!(r.ok(201)["name"], "staff");
    assert_eq!(r.header("location"), Some("/api/v1/templates/staff"));
    app.post("/api/v1/templates", &json!({"name": "Staff"}))
        .error(409, "ALREADY_EXISTS");
    app.post("/api/v1/templates", &json!({"name": "x", "color": 1}))
        .error(400, "VALIDATION_FAILED");
    app.post("/api/v1/templates", &json!({"name": "contractor"}))
        .ok(201);

    let r = app.get("/api/v1/templates/staff");
    assert_eq!(r.ok(200)["defaults"]["loginShell"], "/bin/zsh");
    let etag = r.etag();
    app.get("/api/v1/templates/nope")
        .error(404, "TEMPLATE_NOT_FOUND");
    let r = app.get("/api/v1/templates?filter=name:starts:sta&attributes=name");
    let data = r.ok(200)["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert!(data[0].get("defaults").is_none());
    assert_eq!(data[0]["name"], "staff");
    assert_eq!(
        app.get("/api/v1/templates?sort=-name").body["data"][0]["name"],
        "staff"
    );
    app.get("/api/v1/templates?filter=color:eq:1")
        .error(400, "INVALID_FILTER");

    // A user created with the template gets its defaults, placeholders expanded.
    let mut u = user("tpl");
    u["template"] = json!("staff");
    u["posix"] = json!({"uidNumber": null});
    let r = app.post("/api/v1/users", &u);
    let created = r.ok(201);
    assert_eq!(created["loginShell"], "/bin/zsh");
    assert_eq!(created["homeDirectory"], "/home/tpl");
    assert_eq!(created["title"], "Staff member");
    let mut u = user("tpl2");
    u["template"] = json!("nope");
    app.post("/api/v1/users", &u)
        .error(404, "TEMPLATE_NOT_FOUND");

    // Update and delete with If-Match.
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/templates/staff",
        Some(&json!({"description": "x"})),
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/templates/staff",
        Some(&json!({"description": "People on staff"})),
        &[("if-match", &etag)],
    );
    assert_eq!(r.ok(200)["description"], "People on staff");
    app.put("/api/v1/templates/nope", &json!({"description": "x"}))
        .error(404, "TEMPLATE_NOT_FOUND");
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/templates/staff",
        None,
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    assert_eq!(app.delete("/api/v1/templates/staff").status, 204);
    app.delete("/api/v1/templates/staff")
        .error(404, "TEMPLATE_NOT_FOUND");

    app.call_as(&non_admin(), "GET", "/api/v1/templates", None, &[])
        .error(403, "ACL_DENIED");
}

#[test]
fn settings_list_get_set_reset_embedded() {
    settings_list_get_set_reset(&App::new(Backend::Embedded));
}

#[test]
fn settings_list_get_set_reset_slapd() {
    settings_list_get_set_reset(&App::new(Backend::Slapd));
}

fn settings_list_get_set_reset(app: &App) {
    let r = app.get("/api/v1/settings");
    let all = r.ok(200)["data"].as_array().unwrap().clone();
    assert!(all.len() > 3);
    let keys: Vec<&str> = all.iter().map(|s| s["key"].as_str().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|k| k.to_lowercase());
    assert_eq!(keys, sorted, "ordered by key");
    assert_eq!(r.body["pagination"]["total"], all.len());

    let r = app.get("/api/v1/settings?limit=2&offset=1");
    assert_eq!(r.ok(200)["data"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["data"][0]["key"], all[1]["key"]);
    assert_eq!(r.body["pagination"]["has_more"], true);
    let r = app.get("/api/v1/settings?filter=key:eq:uid_range&attributes=value");
    let data = r.ok(200)["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(
        data[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["value"]
    );
    let r = app.get("/api/v1/settings?filter=key:starts:UID&sort=-key");
    let keys: Vec<&str> = r.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"uid_range"), "{keys:?}");
    assert!(keys.windows(2).all(|w| w[0] >= w[1]), "{keys:?}");
    app.get("/api/v1/settings?filter=color:eq:1")
        .error(400, "INVALID_FILTER");
    app.get("/api/v1/settings?filter=key:bogus:1")
        .error(400, "INVALID_FILTER");
    app.get("/api/v1/settings?sort=color")
        .error(400, "VALIDATION_FAILED");
    app.get("/api/v1/settings?attributes=color")
        .error(400, "VALIDATION_FAILED");
    app.get("/api/v1/settings?limit=0")
        .error(400, "INVALID_PAGINATION");

    let r = app.get("/api/v1/settings/uid_range");
    assert_eq!(r.ok(200)["default"], true);
    let etag = r.etag();
    app.get("/api/v1/settings/nope")
        .error(404, "SETTING_NOT_FOUND");

    let value = json!({"min": 20000, "max": 30000});
    app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/settings/uid_range",
        Some(&json!({ "value": value })),
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.call_as(
        &app.admin,
        "PUT",
        "/api/v1/settings/uid_range",
        Some(&json!({ "value": value })),
        &[("if-match", &etag)],
    );
    assert_eq!(r.ok(200)["value"], value);
    assert_eq!(r.body["default"], false);
    assert_eq!(app.get("/api/v1/settings/uid_range").body["value"], value);
    app.put(
        "/api/v1/settings/uid_range",
        &json!({"value": {"min": 5, "max": 1}}),
    )
    .error(400, "VALIDATION_FAILED");
    app.put("/api/v1/settings/uid_range", &json!({"val": 1}))
        .error(400, "VALIDATION_FAILED");
    app.put("/api/v1/settings/nope", &json!({"value": 1}))
        .error(404, "SETTING_NOT_FOUND");
    let r = app.get("/api/v1/settings?filter=default:eq:false");
    assert_eq!(r.ok(200)["data"][0]["key"], "uid_range");

    // Reset: back to the default, answered with it.
    app.call_as(
        &app.admin,
        "DELETE",
        "/api/v1/settings/uid_range",
        None,
        &[("if-match", "\"stale\"")],
    )
    .error(412, "PRECONDITION_FAILED");
    let r = app.delete("/api/v1/settings/uid_range");
    assert_eq!(r.status, 204);
    let r = app.get("/api/v1/settings/uid_range");
    assert_eq!(r.ok(200)["default"], true);
    assert_eq!(r.etag(), etag);

    let who = non_admin();
    app.call_as(&who, "GET", "/api/v1/settings", None, &[])
        .error(403, "ACL_DENIED");
    app.call_as(
        &who,
        "PUT",
        "/api/v1/settings/uid_range",
        Some(&json!({ "value": value })),
        &[],
    )
    .error(403, "ACL_DENIED");
}

#[test]
fn every_resource_route_is_documented_and_closed_without_a_token() {
    let s = Server::start(&[]);
    let doc = s.get("/openapi.json").json();
    for route in ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let method = route.method.as_str().to_lowercase();
        let op = &doc["paths"][route.path][&method];
        assert!(
            op.is_object(),
            "{} {} undocumented",
            route.method,
            route.path
        );
        // Public: health, version, login and refresh (SPEC §2).
        if route.doc.access == heracles_server::router::Access::Public {
            continue;
        }
        assert!(op["responses"]["401"].is_object(), "{}", route.path);
        assert!(op["responses"]["403"].is_object(), "{}", route.path);
        // Over HTTP, without a token: 401 in the envelope.
        let path = route.path.replace('{', "x").replace('}', "");
        let body = if route.doc.request.is_some() {
            "{}"
        } else {
            ""
        };
        let r = s.send(&format!(
            "{} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            route.method,
            body.len()
        ));
        r.assert_error(401, "UNAUTHENTICATED");
    }
    for name in [
        "User",
        "UserList",
        "Group",
        "Department",
        "DepartmentTree",
        "Template",
        "Setting",
    ] {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}
