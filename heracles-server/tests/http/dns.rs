//! DNS over real HTTP, on the embedded directory and on the shared slapd: zones, records,
//! validation errors naming the bad value, filters and paging, ETag/If-Match, the serial,
//! access control and the audit trail.

use serde_json::{json, Value};

use crate::blackbox::{
    call, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, Api, ADMIN_PW, USER_PW,
};
use crate::support::{slapd_env, Server};

#[test]
fn dns_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    scenario(&s, "admin", &tag("d"));
}

#[test]
fn dns_over_http_slapd() {
    let env = slapd_env();
    let t = tag("n");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    scenario(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}

fn serial_of(api: &Api, zone: &str) -> u64 {
    ok(&api.get(&format!("/api/v1/dns/zones/{zone}")), 200)["serial"]
        .as_u64()
        .unwrap()
}

#[allow(clippy::too_many_lines, clippy::many_single_char_names)] // one scenario
fn scenario(s: &Server, admin: &str, t: &str) {
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
    let zone = format!("{t}.test");
    let zones = "/api/v1/dns/zones";
    let records = format!("{zones}/{zone}/records");

    // Create; the answer is the zone with its SOA fields.
    let r = api.post(
        zones,
        &json!({"zoneName": zone, "primaryNs": format!("ns1.{zone}"),
                "adminEmail": format!("hostmaster@{zone}"), "ttl": 7200,
                "primaryNsAddress": "10.0.0.1"}),
    );
    let z = ok(&r, 201);
    assert_eq!(
        r.header("location"),
        Some(format!("{zones}/{zone}").as_str())
    );
    assert!(r.header("etag").is_some());
    assert_eq!(z["zoneType"], "forward");
    assert_eq!(z["primaryNs"], format!("ns1.{zone}."));
    assert_eq!(z["ttl"], 7200);
    assert_eq!(z["refresh"], 3600);
    assert_eq!(z["recordCount"], 2);
    let first_serial = z["serial"].as_u64().unwrap();
    let r = api.post(
        zones,
        &json!({"zoneName": zone, "primaryNs": "ns.other.example", "adminEmail": "a@b.example"}),
    );
    r.assert_error(409, "ALREADY_EXISTS");
    for (body, field, value) in [
        (
            json!({"zoneName": "bad zone", "primaryNs": "ns.x.example", "adminEmail": "a@x.example"}),
            "zoneName",
            "bad zone",
        ),
        (
            json!({"zoneName": "300.10.in-addr.arpa", "primaryNs": "ns.x.example", "adminEmail": "a@x.example"}),
            "zoneName",
            "300.10.in-addr.arpa",
        ),
        (
            json!({"zoneName": "x.example", "primaryNs": "ns.y.example", "adminEmail": "nobody"}),
            "adminEmail",
            "nobody",
        ),
    ] {
        let e = api
            .post(zones, &body)
            .assert_error(400, "VALIDATION_FAILED");
        assert_eq!(e["error"]["details"]["field"], field);
        assert_eq!(e["error"]["details"]["value"], value);
    }
    api.post(zones, &json!({"zoneName": "x.example", "nope": 1}))
        .assert_error(400, "VALIDATION_FAILED");

    // Records.
    for (body, ttl) in [
        (
            json!({"name": "www", "type": "A", "value": "192.168.1.10", "ttl": 3600}),
            3600,
        ),
        (
            json!({"name": "www", "type": "A", "value": "192.168.1.11"}),
            3600,
        ),
        (
            json!({"name": "mail", "type": "A", "value": "192.168.1.20"}),
            7200,
        ),
        (
            json!({"name": "@", "type": "MX", "value": format!("10 mail.{zone}.")}),
            7200,
        ),
        (
            json!({"name": "sip", "type": "AAAA", "value": "2001:db8::5"}),
            7200,
        ),
        (
            json!({"name": "_sip._tcp", "type": "SRV", "value": format!("10 5 5060 sip.{zone}."), "ttl": 300}),
            300,
        ),
        (
            json!({"name": "@", "type": "TXT", "value": "v=spf1 mx -all"}),
            7200,
        ),
        (
            json!({"name": "ftp", "type": "CNAME", "value": "www"}),
            7200,
        ),
    ] {
        let r = api.post(&records, &body);
        let rec = ok(&r, 201);
        assert_eq!(rec["ttl"], ttl, "{body}");
        assert!(
            r.header("location").unwrap().starts_with(&records),
            "{body}"
        );
    }
    assert!(serial_of(&api, &zone) >= first_serial + 8);
    for (body, status, code, reason, field, value) in [
        (
            json!({"name": "x", "type": "A", "value": "999.1.1.1"}),
            400,
            "VALIDATION_FAILED",
            "invalid_ipv4",
            "value",
            "999.1.1.1",
        ),
        (
            json!({"name": "x", "type": "MX", "value": "70000 mail"}),
            400,
            "VALIDATION_FAILED",
            "invalid_mx_preference",
            "value",
            "70000 mail",
        ),
        (
            json!({"name": "x", "type": "PTR", "value": "www.example.com."}),
            400,
            "VALIDATION_FAILED",
            "ptr_in_forward_zone",
            "type",
            "PTR",
        ),
        (
            json!({"name": "www", "type": "CNAME", "value": "x.example."}),
            400,
            "VALIDATION_FAILED",
            "cname_not_exclusive",
            "type",
            "CNAME",
        ),
        (
            json!({"name": "bad name", "type": "A", "value": "10.0.0.1"}),
            400,
            "VALIDATION_FAILED",
            "invalid_character",
            "name",
            "bad name",
        ),
        (
            json!({"name": "t", "type": "TXT", "value": "a".repeat(300)}),
            400,
            "VALIDATION_FAILED",
            "txt_string_too_long",
            "value",
            "",
        ),
    ] {
        let e = api.post(&records, &body).assert_error(status, code);
        let d = &e["error"]["details"];
        assert_eq!(d["reason"], reason, "{body}");
        assert_eq!(d["field"], field, "{body}");
        if !value.is_empty() {
            assert_eq!(d["value"], value, "{body}");
        }
    }
    api.post(
        &records,
        &json!({"name": "www", "type": "A", "value": "192.168.1.10"}),
    )
    .assert_error(409, "ALREADY_EXISTS");
    api.post(
        &records,
        &json!({"name": "www", "type": "A", "value": "1.2.3.4", "extra": 1}),
    )
    .assert_error(400, "VALIDATION_FAILED");
    api.post(
        "/api/v1/dns/zones/none.example/records",
        &json!({"name": "www", "type": "A", "value": "1.2.3.4"}),
    )
    .assert_error(404, "ZONE_NOT_FOUND");

    // Lists: filters, paging, sort, attributes.
    let page = ok(
        &api.get(&format!("{records}?filter=type:eq:A&limit=2")),
        200,
    );
    assert_eq!(page["pagination"]["total"], 4);
    assert_eq!(page["pagination"]["has_more"], true);
    assert_eq!(page["data"][0]["name"], "mail");
    let page = ok(
        &api.get(&format!("{records}?filter=name:eq:www&attributes=value")),
        200,
    );
    assert_eq!(
        page["data"][0],
        json!({"dn": page["data"][0]["dn"], "value": "192.168.1.10"})
    );
    let page = ok(&api.get(&format!("{records}?sort=-ttl&limit=1")), 200);
    assert_eq!(page["data"][0]["ttl"], 7200);
    let all = ok(&api.get(&records), 200);
    assert_eq!(all["pagination"]["total"], 10);
    assert_eq!(all["data"][0]["name"], "@");
    api.get(&format!("{records}?filter=owner:eq:www"))
        .assert_error(400, "INVALID_FILTER");
    api.get(&format!("{records}?limit=0"))
        .assert_error(400, "INVALID_PAGINATION");
    let listed = ok(&api.get(&format!("{zones}?filter=zoneName:eq:{zone}")), 200);
    assert_eq!(listed["pagination"]["total"], 1);
    assert_eq!(listed["data"][0]["recordCount"], 10);

    // Record set: ETag, If-Match, ?value=.
    let set_path = format!("{records}/www/A");
    let r = api.get(&set_path);
    let set = ok(&r, 200);
    assert_eq!(set["values"], json!(["192.168.1.10", "192.168.1.11"]));
    let set_tag = r.header("etag").unwrap().to_owned();
    with("DELETE", &set_path, None, "\"0123\"").assert_error(412, "PRECONDITION_FAILED");
    let before = serial_of(&api, &zone);
    let r = api.delete(&format!("{set_path}?value=192.168.1.11"));
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(serial_of(&api, &zone) > before);
    // The set changed: the old tag no longer matches.
    with("DELETE", &set_path, None, &set_tag).assert_error(412, "PRECONDITION_FAILED");
    let fresh = api.get(&set_path).header("etag").unwrap().to_owned();
    assert_eq!(with("DELETE", &set_path, None, &fresh).status, 204);
    api.get(&set_path).assert_error(404, "RECORD_NOT_FOUND");
    api.delete(&format!("{records}/nothing/TXT"))
        .assert_error(404, "RECORD_NOT_FOUND");
    let e = api
        .delete(&format!("{records}/%40/NS"))
        .assert_error(422, "BUSINESS_RULE_VIOLATION");
    assert!(e["error"]["message"].as_str().unwrap().contains("NS"));

    // PUT the zone with If-Match.
    let zone_path = format!("{zones}/{zone}");
    let r = api.get(&zone_path);
    let zone_tag = r.header("etag").unwrap().to_owned();
    with(
        "PUT",
        &zone_path,
        Some(&json!({"refresh": 7200})),
        "\"0123\"",
    )
    .assert_error(412, "PRECONDITION_FAILED");
    let changed = ok(
        &with(
            "PUT",
            &zone_path,
            Some(&json!({"refresh": 7200, "retry": 600})),
            &zone_tag,
        ),
        200,
    );
    assert_eq!(
        (changed["refresh"].as_u64(), changed["retry"].as_u64()),
        (Some(7200), Some(600))
    );
    assert!(changed["serial"].as_u64().unwrap() > r.json()["serial"].as_u64().unwrap());

    // Access: a user without DNS rights.
    let uid = format!("{t}u");
    ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": uid, "cn": "No Dns", "sn": "Dns", "userPassword": USER_PW}),
        ),
        201,
    );
    let plain = Api {
        s,
        token: token(s, &uid, USER_PW),
    };
    let e = plain.get(zones).assert_error(403, "ACL_DENIED");
    assert_eq!(e["error"]["details"]["permission"], "dns:read");
    plain
        .post(
            &records,
            &json!({"name": "x", "type": "A", "value": "10.0.0.9"}),
        )
        .assert_error(403, "ACL_DENIED");
    assert_eq!(api.delete(&format!("/api/v1/users/{uid}")).status, 204);

    // The audit trail has the DNS changes.
    let events = ok(
        &api.get("/api/v1/audit?filter=object_type:eq:dns&limit=1000"),
        200,
    );
    let zone_dn = z["dn"].as_str().unwrap().to_lowercase();
    let mine: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["target"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
                .ends_with(&zone_dn)
        })
        .collect();
    assert!(mine
        .iter()
        .any(|e| e["action"] == "create" && e["result"] == "success"));
    assert!(mine
        .iter()
        .any(|e| e["action"] == "delete" && e["result"] == "success"));
    assert!(mine
        .iter()
        .any(|e| e["action"] == "modify" && e["result"] == "success"));

    // Delete the zone with its records.
    with("DELETE", &zone_path, None, "\"0123\"").assert_error(412, "PRECONDITION_FAILED");
    assert_eq!(api.delete(&zone_path).status, 204);
    api.get(&zone_path).assert_error(404, "ZONE_NOT_FOUND");
    api.get(&records).assert_error(404, "ZONE_NOT_FOUND");

    // The document describes the routes.
    let doc = ok(&api.get("/openapi.json"), 200);
    assert!(
        doc["paths"]["/api/v1/dns/zones/{zoneName}/records/{name}/{type}"]["delete"].is_object()
    );
    assert!(doc["components"]["schemas"]["DnsRecordCreate"].is_object());
}
