//! The DHCP routes over real HTTP, on the embedded directory and on the project's slapd:
//! the SPEC §3 bodies, every validation answer (400/409/422), the service tree, lists with
//! filters, projection and paging, `ETag`/`If-Match`, recursive delete, ACL (403 for a
//! user without `dhcp:*`) and the audit trail.
#![allow(clippy::too_many_lines)]

use serde_json::{json, Value};

use crate::blackbox::{
    call, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, ADMIN_PW,
};
use crate::support::{slapd_env, Resp, Server};

struct Dhcp<'a> {
    s: &'a Server,
    token: String,
}

impl Dhcp<'_> {
    fn req(&self, method: &str, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Resp {
        let h: Vec<(&str, &str)> = if_match.map(|m| ("If-Match", m)).into_iter().collect();
        call(
            self.s,
            method,
            &format!("/api/v1/dhcp/services{path}"),
            Some(&self.token),
            body,
            &h,
        )
    }
    fn get(&self, path: &str) -> Resp {
        self.req("GET", path, None, None)
    }
    fn post(&self, path: &str, body: &Value) -> Resp {
        self.req("POST", path, Some(body), None)
    }
}

fn names(page: &Value, field: &str) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn dhcp_routes_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    scenario(&s, "admin", &tag("e"));
}

#[test]
fn dhcp_routes_slapd() {
    let env = slapd_env();
    let t = tag("d");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    scenario(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}

fn scenario(s: &Server, admin: &str, t: &str) {
    let api = Dhcp {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    let name = format!("dhcp{t}");
    let svc = format!("/{name}");

    // A service, with the SPEC body; the server entry is filled in.
    let r = api.post(
        "",
        &json!({"cn": name, "description": "main", "statements": ["default-lease-time 3600"],
                "options": ["domain-name \"example.com\""]}),
    );
    let created = ok(&r, 201);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/dhcp/services/{name}").as_str())
    );
    assert!(r.header("etag").is_some());
    assert_eq!(created["cn"], name.as_str());
    assert_eq!(created["description"], "main");
    assert_eq!(created["server"], name.as_str());
    assert!(created["primaryDN"]
        .as_str()
        .unwrap()
        .starts_with(&format!("cn={name},ou=servers,ou=dhcp,")));
    assert_eq!(created["subnets"], json!([]));
    api.post("", &json!({"cn": name}))
        .assert_error(409, "ALREADY_EXISTS");
    for bad in [
        json!({"cn": "bad name"}),
        json!({"cn": "x", "statements": ["a\nb"]}),
        json!({"cn": "x", "options": ["domain-name \"example.com"]}),
        json!({"cn": "x", "options": ["option routers 10.0.0.1"]}),
        json!({"cn": "x", "server": "not a host"}),
        json!({"cn": "x", "description": ""}),
        json!({"cn": "x", "colour": "blue"}),
    ] {
        let r = api.post("", &bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }

    // Subnets: one directly below, one in a shared network.
    let r = api.post(
        &format!("{svc}/subnets"),
        &json!({"network": "192.168.1.0", "prefix": 24}),
    );
    let sub = ok(&r, 201);
    assert_eq!(sub["netmask"], "255.255.255.0");
    assert_eq!(sub["sharedNetwork"], Value::Null);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/dhcp/services/{name}/subnets/192.168.1.0").as_str())
    );
    let e = api
        .post(
            &format!("{svc}/subnets"),
            &json!({"network": "192.168.1.7", "prefix": 24}),
        )
        .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(e["error"]["details"]["expected"], "192.168.1.0");
    api.post(
        &format!("{svc}/subnets"),
        &json!({"network": "192.168.0.0", "prefix": 16}),
    )
    .assert_error(422, "BUSINESS_RULE_VIOLATION");
    api.post(
        &format!("{svc}/subnets"),
        &json!({"network": "192.168.1.0/24"}),
    )
    .assert_error(409, "ALREADY_EXISTS");
    ok(
        &api.post(
            &format!("{svc}/shared-networks"),
            &json!({"cn": "lan", "description": "office"}),
        ),
        201,
    );
    let sub2 = ok(
        &api.post(
            &format!("{svc}/subnets?shared_network=lan"),
            &json!({"network": "10.5.0.0/16", "options": ["routers 10.5.0.1"]}),
        ),
        201,
    );
    assert_eq!(sub2["sharedNetwork"], "lan");
    api.post(
        &format!("{svc}/subnets?shared_network=nope"),
        &json!({"network": "10.6.0.0/16"}),
    )
    .assert_error(404, "DHCP_NOT_FOUND");

    // Pools.
    let r = api.post(
        &format!("{svc}/subnets/192.168.1.0/pools"),
        &json!({"range": "192.168.1.100 192.168.1.199"}),
    );
    let pool = ok(&r, 201);
    assert_eq!(pool["id"], "192.168.1.100-192.168.1.199");
    assert_eq!(pool["size"], 100);
    let pool_path = format!("{svc}/subnets/192.168.1.0/pools/192.168.1.100-192.168.1.199");
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/dhcp/services{pool_path}").as_str())
    );
    for (range, status, code) in [
        (
            "192.168.1.150 192.168.1.250",
            422,
            "BUSINESS_RULE_VIOLATION",
        ),
        ("192.168.1.100 192.168.1.199", 409, "ALREADY_EXISTS"),
        ("192.168.2.1 192.168.2.9", 400, "VALIDATION_FAILED"),
        ("192.168.1.9 192.168.1.1", 400, "VALIDATION_FAILED"),
        ("192.168.1.1", 400, "VALIDATION_FAILED"),
    ] {
        // A single address is a range of one: inside, but the one below overlaps nothing.
        let r = api.post(
            &format!("{svc}/subnets/192.168.1.0/pools"),
            &json!({"range": range}),
        );
        if range == "192.168.1.1" {
            ok(&r, 201);
            continue;
        }
        r.assert_error(status, code);
    }
    ok(
        &api.post(
            &format!("{svc}/subnets/10.5.0.0/pools"),
            &json!({"range": "10.5.1.1 10.5.1.254", "permitList": ["deny unknown-clients"]}),
        ),
        201,
    );

    // Hosts, with the SPEC body.
    let r = api.post(
        &format!("{svc}/hosts"),
        &json!({"cn": "printer1", "macAddress": "00:11:22:33:44:66", "fixedAddress": "192.168.1.50"}),
    );
    let printer = ok(&r, 201);
    assert_eq!(printer["subnet"], "192.168.1.0");
    assert_eq!(printer["macAddress"], "00:11:22:33:44:66");
    ok(
        &api.post(
            &format!("{svc}/hosts"),
            &json!({"cn": "laptop", "macAddress": "02-00-00-00-00-0A", "fixedAddress": "10.5.9.9"}),
        ),
        201,
    );
    for (body, status, code) in [
        (
            json!({"cn": "printer1", "macAddress": "00:11:22:33:44:67"}),
            409,
            "ALREADY_EXISTS",
        ),
        (
            json!({"cn": "other", "macAddress": "00-11-22-33-44-66"}),
            409,
            "ALREADY_EXISTS",
        ),
        (
            json!({"cn": "other", "macAddress": "00:11:22:33:44"}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"cn": "other", "fixedAddress": "172.16.0.1"}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"cn": "other", "fixedAddress": "192.168.1.300"}),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({"cn": "other", "statements": ["fixed-address 192.168.1.9"]}),
            400,
            "VALIDATION_FAILED",
        ),
        (json!({"cn": "bad/name"}), 400, "VALIDATION_FAILED"),
    ] {
        api.post(&format!("{svc}/hosts"), &body)
            .assert_error(status, code);
    }

    // The whole tree.
    let r = api.get(&svc);
    let tree = ok(&r, 200);
    let tree_tag = r.header("etag").unwrap().to_owned();
    assert_eq!(
        names(&json!({"data": tree["sharedNetworks"]}), "cn"),
        ["lan"]
    );
    assert_eq!(
        names(&json!({"data": tree["subnets"]}), "network"),
        ["10.5.0.0", "192.168.1.0"]
    );
    assert_eq!(tree["subnets"][1]["pools"].as_array().unwrap().len(), 2);
    assert_eq!(
        names(&json!({"data": tree["hosts"]}), "cn"),
        ["laptop", "printer1"]
    );
    assert_eq!(tree["hosts"][0]["subnet"], "10.5.0.0");

    // Lists: filters, projection, paging, shared network.
    let page = ok(
        &api.get(&format!(
            "{svc}/hosts?filter=macAddress:eq:00-11-22-33-44-66"
        )),
        200,
    );
    assert_eq!(names(&page, "cn"), ["printer1"]);
    let page = ok(
        &api.get(&format!(
            "{svc}/hosts?sort=-fixedAddress&limit=1&attributes=cn,fixedAddress"
        )),
        200,
    );
    assert_eq!(names(&page, "cn"), ["printer1"]);
    assert_eq!(page["pagination"]["total"], 2);
    assert_eq!(page["pagination"]["has_more"], true);
    assert!(page["data"][0].get("macAddress").is_none(), "{page}");
    let page = ok(&api.get(&format!("{svc}/subnets?shared_network=lan")), 200);
    assert_eq!(names(&page, "network"), ["10.5.0.0"]);
    let page = ok(
        &api.get(&format!(
            "{svc}/subnets/10.5.0.0/pools?filter=permitList:present"
        )),
        200,
    );
    assert_eq!(names(&page, "id"), ["10.5.1.1-10.5.1.254"]);
    let page = ok(&api.get(&format!("?filter=cn:eq:{name}")), 200);
    assert_eq!(names(&page, "cn"), [name.as_str()]);
    let page = ok(&api.get(&format!("{svc}/shared-networks")), 200);
    assert_eq!(names(&page, "cn"), ["lan"]);
    api.get(&format!("{svc}/hosts?filter=nope:eq:x"))
        .assert_error(400, "INVALID_FILTER");
    api.get(&format!("{svc}/subnets?filter=description:contains:x"))
        .assert_error(400, "INVALID_FILTER");
    api.get(&format!("{svc}/hosts?sort=subnet"))
        .assert_error(400, "VALIDATION_FAILED");
    api.get(&format!("{svc}/hosts?limit=0"))
        .assert_error(400, "INVALID_PAGINATION");
    for missing in [
        "/nope".to_owned(),
        format!("{svc}/subnets/10.9.0.0"),
        format!("{svc}/subnets/not-an-address"),
        format!("{svc}/subnets/192.168.1.0/pools/192.168.1.2-192.168.1.3"),
        format!("{svc}/hosts/nobody"),
        format!("{svc}/shared-networks/wan"),
    ] {
        api.get(&missing).assert_error(404, "DHCP_NOT_FOUND");
    }

    // ETag / If-Match on single objects.
    let r = api.get(&format!("{svc}/hosts/printer1"));
    let host_tag = r.header("etag").unwrap().to_owned();
    assert_eq!(ok(&r, 200)["fixedAddress"], "192.168.1.50");
    let change = json!({"fixedAddress": "192.168.1.51", "description": "2nd floor"});
    api.req(
        "PUT",
        &format!("{svc}/hosts/printer1"),
        Some(&change),
        Some("\"stale\""),
    )
    .assert_error(412, "PRECONDITION_FAILED");
    let r = api.req(
        "PUT",
        &format!("{svc}/hosts/printer1"),
        Some(&change),
        Some(&host_tag),
    );
    let changed = ok(&r, 200);
    assert_eq!(changed["fixedAddress"], "192.168.1.51");
    assert_eq!(changed["description"], "2nd floor");
    assert_ne!(r.header("etag"), Some(host_tag.as_str()));
    api.req(
        "PUT",
        &format!("{svc}/hosts/printer1"),
        Some(&json!({"macAddress": "02:00:00:00:00:0a"})),
        None,
    )
    .assert_error(409, "ALREADY_EXISTS");
    let r = api.req(
        "PUT",
        &format!("{svc}/subnets/10.5.0.0"),
        Some(&json!({"prefix": 20, "statements": ["default-lease-time 600"]})),
        None,
    );
    assert_eq!(ok(&r, 200)["prefix"], 20);
    api.req(
        "PUT",
        &format!("{svc}/subnets/10.5.0.0"),
        Some(&json!({"prefix": 24})),
        None,
    )
    .assert_error(422, "BUSINESS_RULE_VIOLATION");
    let r = api.req(
        "PUT",
        &pool_path,
        Some(&json!({"range": "192.168.1.100 192.168.1.150"})),
        None,
    );
    assert_eq!(
        r.assert_error(400, "VALIDATION_FAILED")["error"]["details"]["reason"],
        "immutable"
    );
    let r = api.req(
        "PUT",
        &pool_path,
        Some(&json!({"permitList": ["allow unknown-clients"]})),
        None,
    );
    assert_eq!(ok(&r, 200)["permitList"], json!(["allow unknown-clients"]));
    let pool_tag = api.get(&pool_path).header("etag").unwrap().to_owned();
    api.req("DELETE", &pool_path, None, Some("\"stale\""))
        .assert_error(412, "PRECONDITION_FAILED");
    let r = api.req("DELETE", &pool_path, None, Some(&pool_tag));
    assert_eq!(r.status, 204, "{}", r.text());
    let r = api.req("PUT", &svc, Some(&json!({"options": null})), None);
    assert_eq!(ok(&r, 200)["options"], json!([]));

    // Deleting: a subnet holding a fixed address, a non-empty service, a stale tree tag.
    api.req(
        "DELETE",
        &format!("{svc}/subnets/192.168.1.0?recursive=true"),
        None,
        None,
    )
    .assert_error(422, "BUSINESS_RULE_VIOLATION");
    let r = api.req("DELETE", &format!("{svc}/hosts/printer1"), None, None);
    assert_eq!(r.status, 204, "{}", r.text());
    api.req("DELETE", &format!("{svc}/subnets/192.168.1.0"), None, None)
        .assert_error(422, "BUSINESS_RULE_VIOLATION");
    let r = api.req(
        "DELETE",
        &format!("{svc}/subnets/192.168.1.0?recursive=true"),
        None,
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let e = api
        .req("DELETE", &svc, None, None)
        .assert_error(422, "BUSINESS_RULE_VIOLATION");
    assert!(e["error"]["details"]["entries"].as_u64().unwrap() > 0);
    api.req(
        "DELETE",
        &format!("{svc}?recursive=true"),
        None,
        Some(&tree_tag),
    )
    .assert_error(412, "PRECONDITION_FAILED");

    // Access: a user without dhcp permissions.
    let uid = format!("{t}u");
    ok(
        &call(
            s,
            "POST",
            "/api/v1/users",
            Some(&api.token),
            Some(&json!({"uid": uid, "cn": "Plain User", "sn": "User",
                         "userPassword": "Plain-Passw0rd-12"})),
            &[],
        ),
        201,
    );
    let plain = Dhcp {
        s,
        token: token(s, &uid, "Plain-Passw0rd-12"),
    };
    plain.get("").assert_error(403, "ACL_DENIED");
    plain.get(&svc).assert_error(403, "ACL_DENIED");
    plain
        .post(&format!("{svc}/hosts"), &json!({"cn": "sneaky"}))
        .assert_error(403, "ACL_DENIED");

    // The audit trail has the writes, as dhcp events.
    let page = ok(
        &call(
            s,
            "GET",
            &format!(
                "/api/v1/audit?filter=object_type:eq:dhcp&filter=target:contains:{name}&limit=1000"
            ),
            Some(&api.token),
            None,
            &[],
        ),
        200,
    );
    let actions: Vec<String> = names(&page, "action");
    assert!(actions.iter().any(|a| a == "create"), "{page}");
    assert!(actions.iter().any(|a| a == "modify"), "{page}");
    assert!(actions.iter().any(|a| a == "delete"), "{page}");

    // Recursive delete; the service is gone.
    let r = api.req("DELETE", &format!("{svc}?recursive=true"), None, None);
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&svc).assert_error(404, "DHCP_NOT_FOUND");
    let r = call(
        s,
        "DELETE",
        &format!("/api/v1/users/{uid}"),
        Some(&api.token),
        None,
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
}
