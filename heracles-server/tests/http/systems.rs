//! Systems over real HTTP, on the embedded directory and on slapd: create with addresses
//! (one or a list), `?type=`, filters, ETag/If-Match, 409 on a taken address, 400 naming a
//! bad value, 404, and the answer's canonical forms.

#![allow(clippy::many_single_char_names)]

use serde_json::json;

use crate::blackbox::{
    call, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, Api, ADMIN_PW,
};
use crate::support::{slapd_env, Server};

fn scenario(s: &Server, admin_uid: &str, t: &str) {
    let api = Api {
        s,
        token: token(s, admin_uid, ADMIN_PW),
    };
    let n = u32::from_str_radix(&t[t.len() - 4..], 16).unwrap_or(0);
    let ip = format!("10.{}.{}.{}", 200 + n % 50, n / 256 % 256, n % 250 + 1);
    let (web, prn) = (format!("{t}web"), format!("{t}prn"));
    let r = api.post(
        "/api/v1/systems",
        &json!({"cn": web, "type": "server", "ipAddress": ip, "macAddress": "02-AA-BB-CC-DD-01",
                "description": "Web"}),
    );
    let sys = ok(&r, 201);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/systems/{web}").as_str())
    );
    assert_eq!(sys["ipAddress"], json!([ip]));
    assert_eq!(sys["macAddress"], json!(["02:aa:bb:cc:dd:01"]));
    assert_eq!(sys["type"], "server");
    let r = api.post(
        "/api/v1/systems",
        &json!({"cn": prn, "type": "printer", "ipAddress": [ip]}),
    );
    let e = r.assert_error(409, "ALREADY_EXISTS");
    assert_eq!(e["error"]["details"]["field"], "ipAddress");
    let e = api
        .post(
            "/api/v1/systems",
            &json!({"cn": prn, "type": "printer", "macAddress": "zz"}),
        )
        .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(e["error"]["details"]["value"], "zz");
    ok(
        &api.post("/api/v1/systems", &json!({"cn": prn, "type": "printer"})),
        201,
    );

    let page = ok(
        &api.get(&format!(
            "/api/v1/systems?type=printer&filter=cn:starts:{t}"
        )),
        200,
    );
    assert_eq!(page["pagination"]["total"], 1);
    assert_eq!(page["data"][0]["cn"], prn.as_str());
    let page = ok(
        &api.get(&format!("/api/v1/systems?filter=ipAddress:eq:{ip}")),
        200,
    );
    assert_eq!(page["data"][0]["cn"], web.as_str());
    api.get("/api/v1/systems?type=toaster")
        .assert_error(400, "VALIDATION_FAILED");

    let path = format!("/api/v1/systems/{web}");
    let r = api.get(&path);
    let etag = r.header("etag").unwrap().to_owned();
    let put = |m: &str| {
        call(
            s,
            "PUT",
            &path,
            Some(&api.token),
            Some(&json!({"description": null, "macAddress": null})),
            &[("If-Match", m)],
        )
    };
    let changed = ok(&put(&etag), 200);
    assert!(changed.get("description").is_none());
    assert_eq!(changed["macAddress"], json!([]));
    put(&etag).assert_error(412, "PRECONDITION_FAILED");

    for cn in [&web, &prn] {
        assert_eq!(api.delete(&format!("/api/v1/systems/{cn}")).status, 204);
    }
    api.get(&path).assert_error(404, "SYSTEM_NOT_FOUND");
}

#[test]
fn systems_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    scenario(&s, "admin", &tag("y"));
}

#[test]
fn systems_over_http_slapd() {
    let env = slapd_env();
    let t = tag("w");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    scenario(&s, &admin, &t);
    drop_slapd_admin(&env, &admin);
}
