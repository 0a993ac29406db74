//! Sudo rules and SSH keys over real HTTP, on the embedded directory and on the project's
//! slapd: CRUD with ETag/If-Match, validation errors naming the bad value, filters, ACL,
//! audit events — and on slapd the consumer checks with the consumers' own tools: the
//! rule fetched by `ldapsearch` (as sudo's LDAP backend fetches it) and converted by
//! `cvtsudoers`, and the key fetched by `ldapsearch … sshPublicKey` (as an sshd
//! `AuthorizedKeysCommand` does) fingerprinted by `ssh-keygen -l`.
// A scenario reads best as one function.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::blackbox::{
    call, drop_slapd_admin, ok, slapd_admin, start_on_slapd, tag, token, Api, ADMIN_PW, USER_PW,
};
use crate::support::{slapd_env, Server};

const ED25519: &str = "ssh-ed25519 \
    AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R jdoe@laptop";
// `ssh-keygen -l` of ED25519.
const ED25519_FP: &str = "SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y";
const ECDSA_256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAAB\
    BBLeZCp55ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOYpuJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pA= \
    jdoe@laptop-ecdsa256";
// `ssh-keygen -l` of ECDSA_256.
const ECDSA_256_FP: &str = "SHA256:ApilOiBxFblI1V+YfgR4QdWJSoTe7gDFdCUWATohoXU";

/// Percent-encodes one path segment or query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A consumer tool on the PATH; missing, the check is skipped unless
/// `HERACLES_REQUIRE_CONSUMER_TOOLS=1` (scripts/test.sh installs the tools and sets it).
fn consumer_tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("HERACLES_REQUIRE_CONSUMER_TOOLS").as_deref() != Ok("1"),
            "{name} is missing: install Debian's {package} (scripts/test.sh does)"
        );
        eprintln!("note: {name} not found (Debian package {package}): consumer check skipped");
    }
    found
}

/// `ldapsearch` on slapd as the service account: the LDIF of what matches `filter`.
fn ldapsearch(env: &HashMap<String, String>, base: &str, filter: &str, attrs: &[&str]) -> String {
    let out = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &env["LDAP_URI"]])
        .args([
            "-D",
            &env["SERVICE_DN"],
            "-w",
            &env["SERVICE_PW"],
            "-b",
            base,
        ])
        .arg(filter)
        .args(attrs)
        .output()
        .expect("ldapsearch (slapd's client tools) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn put(api: &Api<'_>, path: &str, body: &Value, if_match: Option<&str>) -> crate::support::Resp {
    let h: Vec<(&str, &str)> = if_match.map(|m| ("If-Match", m)).into_iter().collect();
    call(api.s, "PUT", path, Some(&api.token), Some(body), &h)
}

fn delete_if(api: &Api<'_>, path: &str, if_match: &str) -> crate::support::Resp {
    call(
        api.s,
        "DELETE",
        path,
        Some(&api.token),
        None,
        &[("If-Match", if_match)],
    )
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn sudo_and_ssh_keys_over_http_embedded() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    sudo_scenario(&s, "admin", &tag("su"), None);
    ssh_keys_scenario(&s, "admin", &tag("sk"), None);
}

#[test]
fn sudo_and_ssh_keys_over_http_slapd() {
    let env = slapd_env();
    let t = tag("su");
    let admin = format!("{t}adm");
    slapd_admin(&env, &admin);
    let s = start_on_slapd(&env);
    sudo_scenario(&s, &admin, &t, Some(&env));
    ssh_keys_scenario(&s, &admin, &tag("sk"), Some(&env));
    drop_slapd_admin(&env, &admin);
}

fn sudo_scenario(s: &Server, admin: &str, t: &str, slapd: Option<&HashMap<String, String>>) {
    let api = Api {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    let uid = format!("{t}u");
    ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": uid, "cn": "Sudo User", "sn": "User", "userPassword": USER_PW}),
        ),
        201,
    );
    let group = format!("{t}web");
    ok(
        &api.post(
            "/api/v1/groups",
            &json!({"cn": group, "groupType": "posix"}),
        ),
        201,
    );

    // Create: the SPEC body.
    let cn = format!("{t}-web-admins");
    let r = api.post(
        "/api/v1/sudo",
        &json!({"cn": cn, "sudoUser": [uid, format!("%{group}")], "sudoHost": ["ALL"],
                "sudoCommand": ["/usr/bin/systemctl restart nginx"],
                "sudoOption": ["!authenticate"], "description": "Web admins"}),
    );
    let rule = ok(&r, 201);
    let path = format!("/api/v1/sudo/{}", enc(&cn));
    assert_eq!(r.header("location"), Some(path.as_str()));
    let created_tag = r.header("etag").unwrap().to_owned();
    assert!(rule["dn"]
        .as_str()
        .unwrap()
        .starts_with(&format!("cn={cn},ou=sudoers,")));
    assert_eq!(
        sorted(&rule["sudoUser"]),
        sorted(&json!([uid, format!("%{group}")]))
    );
    assert_eq!(rule["sudoOption"], json!(["!authenticate"]));
    assert_eq!(rule["sudoRunAsUser"], json!([]));

    // Get, with the same ETag; list with filters and fields.
    let r = api.get(&path);
    assert_eq!(ok(&r, 200), rule);
    assert_eq!(r.header("etag"), Some(created_tag.as_str()));
    let page = ok(
        &api.get(&format!(
            "/api/v1/sudo?filter={}&filter={}&attributes=cn,sudoUser",
            enc(&format!("cn:starts:{t}")),
            enc(&format!("sudoUser:eq:%{group}"))
        )),
        200,
    );
    assert_eq!(page["pagination"]["total"], 1);
    let item = page["data"][0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["cn", "dn", "sudoUser"]);
    api.get(&format!(
        "/api/v1/sudo?filter={}",
        enc("sudoCommand:contains:nginx")
    ))
    .assert_error(400, "INVALID_FILTER");
    api.get(&format!("/api/v1/sudo?filter={}", enc("mail:eq:x")))
        .assert_error(400, "INVALID_FILTER");

    // Validation: 400 naming the field and the value; 409 for an existing name.
    let bad = |field: &str, value: Value| {
        let mut body = json!({"cn": format!("{t}-bad"), "sudoUser": "ALL", "sudoHost": "ALL",
                              "sudoCommand": "ALL"});
        body[field] = value;
        api.post("/api/v1/sudo", &body)
    };
    for (field, value, shown, reason) in [
        (
            "sudoUser",
            json!(["ghost-user-x"]),
            "ghost-user-x",
            "unknown_user",
        ),
        (
            "sudoUser",
            json!("%ghost-group-x"),
            "%ghost-group-x",
            "unknown_group",
        ),
        ("sudoHost", json!(["web 1"]), "web 1", "invalid_host"),
        ("sudoCommand", json!("rm -rf /"), "rm -rf /", "not_absolute"),
        (
            "sudoNotAfter",
            json!("tomorrow"),
            "tomorrow",
            "invalid_time",
        ),
        ("sudoOrder", json!(-5), "-5", "negative"),
    ] {
        let v = bad(field, value).assert_error(400, "VALIDATION_FAILED");
        assert_eq!(v["error"]["details"]["field"], field, "{v}");
        assert_eq!(v["error"]["details"]["value"], shown, "{v}");
        assert_eq!(v["error"]["details"]["reason"], reason, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(shown),
            "{v}"
        );
    }
    bad("sudoUsers", json!("x")).assert_error(400, "VALIDATION_FAILED");
    bad("sudoHost", json!({"a": 1})).assert_error(400, "VALIDATION_FAILED");
    api.post(
        "/api/v1/sudo",
        &json!({"cn": cn.to_uppercase(), "sudoUser": "ALL", "sudoHost": "ALL", "sudoCommand": "ALL"}),
    )
    .assert_error(409, "ALREADY_EXISTS");

    // PUT: only the fields given, null removes; If-Match is honoured.
    let r = put(
        &api,
        &path,
        &json!({"sudoHost": ["web1.example.com", "10.1.0.0/16"], "description": null,
                "sudoRunAsUser": "root", "sudoOrder": 3}),
        Some(&created_tag),
    );
    let changed = ok(&r, 200);
    let changed_tag = r.header("etag").unwrap().to_owned();
    assert_ne!(changed_tag, created_tag);
    assert!(changed.get("description").is_none(), "{changed}");
    assert_eq!(
        sorted(&changed["sudoHost"]),
        ["10.1.0.0/16", "web1.example.com"]
    );
    assert_eq!(changed["sudoRunAsUser"], json!(["root"]));
    assert_eq!(changed["sudoOrder"], 3);
    assert_eq!(changed["sudoCommand"], rule["sudoCommand"]);
    put(&api, &path, &json!({"sudoHost": "ALL"}), Some(&created_tag))
        .assert_error(412, "PRECONDITION_FAILED");
    put(&api, &path, &json!({"sudoCommand": null}), None).assert_error(400, "VALIDATION_FAILED");
    put(&api, &path, &json!({"cn": "renamed"}), None).assert_error(400, "VALIDATION_FAILED");
    put(
        &api,
        "/api/v1/sudo/nope-x",
        &json!({"sudoHost": "ALL"}),
        None,
    )
    .assert_error(404, "SUDO_RULE_NOT_FOUND");

    // On slapd, the rule as sudo's LDAP backend fetches it, converted by sudo's tool.
    if let Some(env) = slapd {
        let base = format!("ou=sudoers,{}", env["BASE_DN"]);
        let ldif = ldapsearch(
            env,
            &base,
            &format!("(&(objectClass=sudoRole)(cn={cn}))"),
            &[],
        );
        assert!(ldif.contains(&format!("sudoUser: %{group}\n")), "{ldif}");
        if let Some(tool) = consumer_tool("cvtsudoers", "sudo") {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("rule.ldif");
            std::fs::write(&file, &ldif).unwrap();
            let out = Command::new(tool)
                .args(["-i", "ldif", "-f", "sudoers"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
            let text = String::from_utf8(out.stdout)
                .unwrap()
                .replace("\\\n    ", " ");
            // (cvtsudoers names the rule in a `# sudoRole` comment only when `cn` comes
            // after `objectClass` in the LDIF; slapd returns `cn` first. The rule is the
            // same either way.)
            let rules: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert_eq!(rules.len(), 1, "{text}\n{ldif}");
            let line = rules[0];
            for part in [
                uid.as_str(),
                &format!("%{group}"),
                "10.1.0.0/16",
                "web1.example.com",
                "= (root) NOPASSWD: /usr/bin/systemctl restart nginx",
            ] {
                assert!(line.contains(part), "'{part}' missing from {line}");
            }
        }
    }

    // Others: a user without sudo rights sees nothing and changes nothing.
    let user = Api {
        s,
        token: token(s, &uid, USER_PW),
    };
    let v = user.get("/api/v1/sudo").assert_error(403, "ACL_DENIED");
    assert_eq!(v["error"]["details"]["permission"], "sudo:read");
    user.get(&path).assert_error(403, "ACL_DENIED");
    user.post(
        "/api/v1/sudo",
        &json!({"cn": "mine", "sudoUser": "ALL", "sudoHost": "ALL",
                                      "sudoCommand": "ALL"}),
    )
    .assert_error(403, "ACL_DENIED");
    user.delete(&path).assert_error(403, "ACL_DENIED");
    // Without a token: 401.
    call(s, "GET", "/api/v1/sudo", None, None, &[]).assert_error(401, "UNAUTHENTICATED");

    // The audit trail has the create and the modify, as object type sudo.
    let dn = rule["dn"].as_str().unwrap();
    let events = ok(
        &api.get(&format!(
            "/api/v1/audit?filter={}&filter={}",
            enc("object_type:eq:sudo"),
            enc(&format!("target:eq:{dn}"))
        )),
        200,
    );
    let actions: Vec<(&str, &str)> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .collect();
    assert!(actions.contains(&("create", "success")), "{actions:?}");
    assert!(actions.contains(&("modify", "success")), "{actions:?}");
    assert!(
        actions.contains(&("modify", "PRECONDITION_FAILED")),
        "{actions:?}"
    );

    // Delete: a stale If-Match is refused, the current one accepted.
    delete_if(&api, &path, &created_tag).assert_error(412, "PRECONDITION_FAILED");
    let r = delete_if(&api, &path, &changed_tag);
    assert_eq!(r.status, 204, "{}", r.text());
    api.get(&path).assert_error(404, "SUDO_RULE_NOT_FOUND");
    api.delete(&path).assert_error(404, "SUDO_RULE_NOT_FOUND");

    // The defaults entry accepts only options.
    let v = api
        .post(
            "/api/v1/sudo",
            &json!({"cn": "defaults", "sudoCommand": "ALL"}),
        )
        .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(v["error"]["details"]["reason"], "defaults_only_options");

    assert_eq!(api.delete(&format!("/api/v1/users/{uid}")).status, 204);
    assert_eq!(api.delete(&format!("/api/v1/groups/{group}")).status, 204);
}

fn ssh_keys_scenario(s: &Server, admin: &str, t: &str, slapd: Option<&HashMap<String, String>>) {
    let api = Api {
        s,
        token: token(s, admin, ADMIN_PW),
    };
    let uid = format!("{t}u");
    let user_dn = ok(
        &api.post(
            "/api/v1/users",
            &json!({"uid": uid, "cn": "Key User", "sn": "User", "userPassword": USER_PW}),
        ),
        201,
    )["dn"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = format!("/api/v1/users/{uid}/ssh-keys");
    // The user manages its own keys (the built-in `self` policy).
    let me = Api {
        s,
        token: token(s, &uid, USER_PW),
    };
    let k = ok(
        &me.post(&keys, &json!({"public_key": format!("{ED25519}\n")})),
        201,
    );
    assert_eq!(k["fingerprint"], ED25519_FP);
    assert_eq!(k["type"], "ssh-ed25519");
    assert_eq!(k["comment"], "jdoe@laptop");
    assert_eq!(k["bits"], 256);
    assert_eq!(k["public_key"], ED25519);
    let id = k["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "RRt45AtypHTW-E4tmCXFI68jHWkMxUhNba5VeNZPm7Y");
    let k2 = ok(&api.post(&keys, &json!({"public_key": ECDSA_256})), 201);
    assert_eq!(k2["fingerprint"], ECDSA_256_FP);
    assert_eq!(k2["bits"], 256);

    let page = ok(&me.get(&keys), 200);
    assert_eq!(page["pagination"]["total"], 2);
    let page = ok(
        &me.get(&format!(
            "{keys}?filter={}&attributes=id,bits",
            enc("type:starts:ecdsa")
        )),
        200,
    );
    assert_eq!(page["data"], json!([{"id": k2["id"], "bits": 256}]));
    me.get(&format!("{keys}?filter={}", enc("colour:eq:red")))
        .assert_error(400, "INVALID_FILTER");
    me.get(&format!("{keys}?sort=colour"))
        .assert_error(400, "VALIDATION_FAILED");

    // Refusals.
    let v = me
        .post(
            &keys,
            &json!({"public_key": ED25519.replace("jdoe@laptop", "again")}),
        )
        .assert_error(409, "ALREADY_EXISTS");
    assert_eq!(v["error"]["details"]["fingerprint"], ED25519_FP);
    for (line, reason) in [
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP1", "unsupported_type"),
        ("no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R",
            "options_not_supported"),
        ("ssh-ed25519 AAAA", "truncated"),
        ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R", "type_mismatch"),
    ] {
        let v = me
            .post(&keys, &json!({"public_key": line}))
            .assert_error(400, "VALIDATION_FAILED");
        assert_eq!(v["error"]["details"]["field"], "public_key");
        assert_eq!(v["error"]["details"]["reason"], reason, "{line}");
    }
    me.post(&keys, &json!({"key": ED25519}))
        .assert_error(400, "VALIDATION_FAILED");
    me.post(
        &format!("/api/v1/users/{admin}/ssh-keys"),
        &json!({"public_key": ECDSA_256}),
    )
    .assert_error(403, "ACL_DENIED");
    me.get(&format!("/api/v1/users/{admin}/ssh-keys"))
        .assert_error(403, "ACL_DENIED");
    api.get("/api/v1/users/no-such-user-x/ssh-keys")
        .assert_error(404, "USER_NOT_FOUND");

    // On slapd: what an AuthorizedKeysCommand prints, and ssh-keygen reading it.
    if let Some(env) = slapd {
        let ldif = ldapsearch(
            env,
            &env["BASE_DN"],
            &format!("(uid={uid})"),
            &["sshPublicKey"],
        );
        let mut lines: Vec<String> = ldif
            .lines()
            .filter_map(|l| l.strip_prefix("sshPublicKey: "))
            .map(str::to_owned)
            .collect();
        lines.sort();
        let mut expected = vec![ED25519.to_owned(), ECDSA_256.to_owned()];
        expected.sort();
        assert_eq!(lines, expected, "{ldif}");
        if let Some(tool) = consumer_tool("ssh-keygen", "openssh-client") {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("authorized_keys");
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
            let out = Command::new(tool)
                .arg("-l")
                .arg("-f")
                .arg(&file)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let mut fps: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| l.split(' ').nth(1).unwrap().to_owned())
                .collect();
            fps.sort();
            let mut ours = vec![ED25519_FP.to_owned(), ECDSA_256_FP.to_owned()];
            ours.sort();
            assert_eq!(fps, ours);
        }
    }

    // Audited as modifies of the user.
    let events = ok(
        &api.get(&format!(
            "/api/v1/audit?filter={}&filter={}&filter={}",
            enc("object_type:eq:user"),
            enc("action:eq:modify"),
            enc(&format!("target:eq:{user_dn}"))
        )),
        200,
    );
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["result"] == "success"
                && e["changes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["attribute"] == "sshPublicKey"))),
        "{events}"
    );

    // Delete by id, then by fingerprint (percent-encoded); the class goes with the last.
    let r = me.delete(&format!("{keys}/{id}"));
    assert_eq!(r.status, 204, "{}", r.text());
    let v = me
        .delete(&format!("{keys}/{id}"))
        .assert_error(404, "SSH_KEY_NOT_FOUND");
    assert_eq!(v["error"]["details"]["id"], id.as_str());
    let r = api.delete(&format!("{keys}/{}", enc(ECDSA_256_FP)));
    assert_eq!(r.status, 204, "{}", r.text());
    let u = ok(&api.get(&format!("/api/v1/users/{uid}")), 200);
    assert!(u.get("sshPublicKey").is_none(), "{u}");
    assert!(
        !u["objectClass"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().eq_ignore_ascii_case("ldapPublicKey")),
        "{u}"
    );
    assert_eq!(ok(&me.get(&keys), 200)["data"], json!([]));
    assert_eq!(api.delete(&format!("/api/v1/users/{uid}")).status, 204);
}
