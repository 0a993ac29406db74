//! Sudo rules through the core on both backends: the lifecycle with its validation,
//! filters and preconditions, the `cn=defaults` entry, and the consumer check — the
//! stored entries exported as LDIF and read by sudo's own `cvtsudoers` (Debian's `sudo`
//! package), which parses `sudoRole` entries with the code sudo's LDAP backend uses.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use heracles_core::directory::{Scope, SearchRequest};
use heracles_core::filter::Filter;
use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::sudo::{NewSudoRule, SudoRuleUpdate};
use heracles_core::service::{etag_of, Container, Heracles, IfMatch, ListQuery, Principal};
use heracles_core::{ldif, ErrorCode};
use serde_json::{json, Value};

use crate::fixture::Target;

static N: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this run (the shared slapd outlives runs).
pub fn tag(name: &str) -> String {
    format!(
        "{name}{}x{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn ready(t: &Target) -> (Heracles, Principal) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    (h, admin)
}

/// A consumer tool (`cvtsudoers`, `ssh-keygen`) on the PATH. Missing: the check is skipped
/// with a note, unless `HERACLES_REQUIRE_CONSUMER_TOOLS=1` (set by `scripts/test.sh`,
/// which installs them) makes it a failure.
pub fn consumer_tool(name: &str, package: &str) -> Option<PathBuf> {
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

fn new_rule(v: Value) -> NewSudoRule {
    serde_json::from_value(v).unwrap()
}

fn update(v: Value) -> SudoRuleUpdate {
    serde_json::from_value(v).unwrap()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// A user and a group the rules can name.
async fn people(h: &Heracles, admin: &Principal, t: &str) -> (String, String) {
    let uid = format!("{t}u");
    let body = json!({"uid": uid, "cn": "Sudo User", "sn": "User"});
    h.users()
        .create(admin, body.as_object().unwrap())
        .await
        .unwrap();
    let group = format!("{t}G");
    h.groups()
        .create(
            admin,
            &NewGroup {
                cn: group.clone(),
                group_type: Some(GroupType::Posix),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    (uid, group)
}

async fn forget_people(h: &Heracles, admin: &Principal, uid: &str, group: &str) {
    h.users().delete(admin, uid).await.unwrap();
    h.groups().delete(admin, group).await.unwrap();
}

pub async fn sudo_rules_crud_validation_and_filters(t: &Target) {
    let (h, admin) = ready(t).await;
    let tg = tag("sr");
    let (uid, group) = people(&h, &admin, &tg).await;
    let sudo = h.sudo();
    let cn = format!("{tg}-web");
    let rule = sudo
        .create(
            &admin,
            &new_rule(json!({
                "cn": cn,
                "description": "Web admins",
                "sudoUser": [uid, format!("%{group}"), "%#5000", "#0", "+webops", "!#12"],
                "sudoHost": ["ALL", "10.0.0.0/8", "!db1.example.com", "2001:db8::/32"],
                "sudoCommand": ["/usr/bin/systemctl restart nginx", "!/usr/bin/su",
                                "sudoedit /etc/nginx/nginx.conf"],
                "sudoRunAsUser": ["root", "#0"],
                "sudoRunAsGroup": "wheel",
                "sudoOption": ["!authenticate", "env_keep+=SSH_AUTH_SOCK"],
                "sudoOrder": 10,
                "sudoNotBefore": "20250101000000Z",
                "sudoNotAfter": "20350101000000Z"
            })),
        )
        .await
        .unwrap();
    let container = h.container(Container::Sudoers).unwrap();
    assert_eq!(rule.dn.to_string(), format!("cn={cn},{container}"));
    assert_eq!(rule.cn, cn);
    assert_eq!(rule.sudo_run_as_group, ["wheel"]);
    assert_eq!(rule.sudo_order, Some(10));
    assert_eq!(rule.sudo_not_after.as_deref(), Some("20350101000000Z"));
    assert_eq!(
        sorted(&rule.sudo_user),
        sorted(&[
            uid.clone(),
            format!("%{group}"),
            "%#5000".into(),
            "#0".into(),
            "+webops".into(),
            "!#12".into()
        ])
    );
    // The entry is what sudo reads: a sudoRole with the attributes as given.
    let e = t.dir().get(&rule.dn, &["*"]).await.unwrap().unwrap();
    assert!(e.has_value("objectClass", "sudoRole"));
    assert_eq!(e.first_str("sudoOrder"), Some("10"));
    assert_eq!(
        sorted(
            &e.strs("sudoOption")
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>()
        ),
        ["!authenticate", "env_keep+=SSH_AUTH_SOCK"]
    );

    // Get is case-insensitive; a second rule of that name (any case) is a conflict.
    let got = sudo.get(&admin, &cn.to_uppercase()).await.unwrap();
    assert_eq!(got, rule);
    let e = sudo
        .create(
            &admin,
            &new_rule(
                json!({"cn": cn.to_uppercase(), "sudoUser": "ALL", "sudoHost": "ALL",
                             "sudoCommand": "ALL"}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);

    // Validation: each error names the field and the value.
    let base = json!({"cn": format!("{tg}-bad"), "sudoUser": ["ALL"], "sudoHost": ["ALL"],
                      "sudoCommand": ["ALL"]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        new_rule(b)
    };
    for (body, field, value, reason) in [
        (
            with("sudoUser", json!(["nobody-here-at-all"])),
            "sudoUser",
            "nobody-here-at-all",
            "unknown_user",
        ),
        (
            with("sudoUser", json!([uid.to_uppercase()])),
            "sudoUser",
            uid.to_uppercase().as_str(),
            "case_mismatch",
        ),
        (
            with("sudoUser", json!(["%no-such-group-x"])),
            "sudoUser",
            "%no-such-group-x",
            "unknown_group",
        ),
        (
            with("sudoUser", json!([format!("%{}", group.to_lowercase())])),
            "sudoUser",
            format!("%{}", group.to_lowercase()).as_str(),
            "case_mismatch",
        ),
        (
            with("sudoHost", json!(["10.0.0.0/33"])),
            "sudoHost",
            "10.0.0.0/33",
            "invalid_network",
        ),
        (
            with("sudoCommand", json!(["systemctl restart nginx"])),
            "sudoCommand",
            "systemctl restart nginx",
            "not_absolute",
        ),
        (
            with("sudoOption", json!(["!env_keep=X"])),
            "sudoOption",
            "!env_keep=X",
            "negated_with_value",
        ),
        (
            with("sudoRunAsUser", json!(["a b"])),
            "sudoRunAsUser",
            "a b",
            "invalid_name",
        ),
        (
            with("sudoNotBefore", json!("2025-01-01")),
            "sudoNotBefore",
            "2025-01-01",
            "invalid_time",
        ),
        (with("sudoOrder", json!(-1)), "sudoOrder", "-1", "negative"),
        (
            with("sudoHost", json!(["ALL", "ALL"])),
            "sudoHost",
            "ALL",
            "duplicate",
        ),
        (
            with("cn", json!("has space")),
            "cn",
            "has space",
            "invalid_character",
        ),
    ] {
        let e = sudo.create(&admin, &body).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{body:?}: {e}");
        assert_eq!(e.details()["field"], field, "{e:?}");
        assert_eq!(e.details()["value"], value, "{e:?}");
        assert_eq!(e.details()["reason"], reason, "{e:?}");
        assert!(e.message().contains(value), "{}", e.message());
    }
    for missing in ["sudoUser", "sudoHost", "sudoCommand"] {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(missing);
        let e = sudo.create(&admin, &new_rule(b)).await.unwrap_err();
        assert_eq!(e.details()["reason"], "required", "{missing}");
        assert_eq!(e.details()["field"], missing);
    }
    let e = sudo
        .create(
            &admin,
            &with("sudoNotAfter", json!("20240101000000Z"))
                .clone_with_not_before("20250101000000Z"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "invalid_period");

    // Lists: filters on any sudoRole attribute, sort, paging.
    let cn2 = format!("{tg}-db");
    sudo.create(
        &admin,
        &new_rule(
            json!({"cn": cn2, "sudoUser": [format!("%{group}")], "sudoHost": "db1",
                         "sudoCommand": "/usr/bin/psql", "sudoOrder": 20}),
        ),
    )
    .await
    .unwrap();
    let q = |f: &str| {
        ListQuery::default()
            .filter(format!("cn:starts:{tg}"))
            .filter(f)
    };
    let names = |p: &heracles_core::page::Page<heracles_core::service::sudo::SudoRule>| {
        p.data.iter().map(|r| r.cn.clone()).collect::<Vec<_>>()
    };
    let page = sudo
        .list(
            &admin,
            &ListQuery::default().filter(format!("cn:starts:{tg}")),
        )
        .await
        .unwrap();
    assert_eq!(names(&page), [cn2.clone(), cn.clone()]);
    assert_eq!(page.pagination.total, 2);
    let page = sudo
        .list(&admin, &q(&format!("sudoUser:eq:%{group}")))
        .await
        .unwrap();
    assert_eq!(page.pagination.total, 2);
    let page = sudo
        .list(&admin, &q(&format!("sudoUser:eq:{uid}")))
        .await
        .unwrap();
    assert_eq!(names(&page), [cn.as_str()]);
    let page = sudo.list(&admin, &q("sudoHost:eq:db1")).await.unwrap();
    assert_eq!(names(&page), [cn2.as_str()]);
    let page = sudo
        .list(&admin, &q("sudoOrder:present").sort("-sudoOrder"))
        .await
        .unwrap();
    assert_eq!(names(&page), [cn2.clone(), cn.clone()]);
    // sudoCommand has no substring rule: `contains` is refused on both backends.
    let e = sudo
        .list(&admin, &q("sudoCommand:contains:psql"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFilter);
    let e = sudo.list(&admin, &q("uidNumber:eq:1")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFilter);

    // Update: only the fields given; null removes; a required field cannot go.
    let updated = sudo
        .update(
            &admin,
            &cn,
            &update(
                json!({"sudoHost": ["web1", "web2"], "description": null, "sudoOrder": null,
                           "sudoNotBefore": null}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(sorted(&updated.sudo_host), ["web1", "web2"]);
    assert_eq!(updated.description, None);
    assert_eq!(updated.sudo_order, None);
    assert_eq!(updated.sudo_not_before, None);
    assert_eq!(updated.sudo_not_after, rule.sudo_not_after);
    assert_eq!(sorted(&updated.sudo_command), sorted(&rule.sudo_command));
    for (body, field) in [
        (json!({"sudoCommand": null}), "sudoCommand"),
        (json!({"sudoUser": []}), "sudoUser"),
    ] {
        let e = sudo.update(&admin, &cn, &update(body)).await.unwrap_err();
        assert_eq!(e.details()["reason"], "required");
        assert_eq!(e.details()["field"], field);
    }
    let e = sudo
        .update(
            &admin,
            &cn,
            &update(json!({"sudoNotAfter": "20240101000000Z",
                                            "sudoNotBefore": "20300101000000Z"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "invalid_period");
    let e = sudo
        .update(&admin, &cn, &update(json!({"sudoUser": ["ghost-user-x"]})))
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "unknown_user");
    assert!(serde_json::from_value::<SudoRuleUpdate>(json!({"cn": "x"})).is_err());
    // Nothing to change: the same answer, no write.
    let same = sudo
        .update(&admin, &cn, &update(json!({"sudoHost": ["web2", "web1"]})))
        .await
        .unwrap();
    assert_eq!(same, updated);

    // If-Match: a stale tag is refused, the current one accepted.
    let stale = IfMatch::parse(&etag_of(&rule).unwrap());
    let e = sudo
        .if_match(Some(&stale))
        .update(&admin, &cn, &update(json!({"sudoHost": "ALL"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let current = IfMatch::parse(&etag_of(&updated).unwrap());
    sudo.if_match(Some(&current))
        .update(&admin, &cn, &update(json!({"sudoHost": "ALL"})))
        .await
        .unwrap();
    let e = sudo
        .if_match(Some(&current))
        .delete(&admin, &cn)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);

    // ACL: without sudo rights nothing is visible or writable.
    let nobody = h
        .principal(&h.users().get(&admin, &uid).await.unwrap().dn)
        .await
        .unwrap();
    for e in [
        sudo.list(&nobody, &ListQuery::default()).await.unwrap_err(),
        sudo.get(&nobody, &cn).await.unwrap_err(),
        sudo.delete(&nobody, &cn).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::AclDenied);
        assert!(e.details()["permission"]
            .as_str()
            .unwrap()
            .starts_with("sudo:"));
    }

    // Delete.
    sudo.delete(&admin, &cn).await.unwrap();
    sudo.delete(&admin, &cn2).await.unwrap();
    for e in [
        sudo.get(&admin, &cn).await.unwrap_err(),
        sudo.delete(&admin, &cn).await.unwrap_err(),
        sudo.update(&admin, &cn, &update(json!({})))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::SudoRuleNotFound);
        assert_eq!(e.details()["cn"], cn);
    }
    forget_people(&h, &admin, &uid, &group).await;
}

trait WithNotBefore {
    fn clone_with_not_before(&self, t: &str) -> Self;
}

impl WithNotBefore for NewSudoRule {
    fn clone_with_not_before(&self, t: &str) -> Self {
        NewSudoRule {
            sudo_not_before: Some(t.to_owned()),
            ..self.clone()
        }
    }
}

/// `cn=defaults` holds sudo's global options only. On the shared slapd it may already
/// exist (another run); then only the refusals are checked.
pub async fn sudo_defaults_entry(t: &Target) {
    let (h, admin) = ready(t).await;
    let sudo = h.sudo();
    let e = sudo
        .create(
            &admin,
            &new_rule(json!({"cn": "defaults", "sudoOption": "!lecture", "sudoHost": "ALL"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "defaults_only_options");
    assert_eq!(e.details()["field"], "sudoHost");
    let e = sudo
        .create(
            &admin,
            &new_rule(json!({"cn": "Defaults", "sudoOption": "!lecture", "sudoOrder": 1})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "defaults_only_options");
    if sudo.get(&admin, "defaults").await.is_ok() {
        return;
    }
    let d = sudo
        .create(
            &admin,
            &new_rule(json!({"cn": "defaults", "description": "global options",
                             "sudoOption": ["env_keep+=SSH_AUTH_SOCK", "!lecture"]})),
        )
        .await
        .unwrap();
    assert!(d.sudo_user.is_empty() && d.sudo_host.is_empty() && d.sudo_command.is_empty());
    let d = sudo
        .update(
            &admin,
            "DEFAULTS",
            &update(json!({"sudoOption": ["!lecture"]})),
        )
        .await
        .unwrap();
    assert_eq!(d.sudo_option, ["!lecture"]);
    let e = sudo
        .update(&admin, "defaults", &update(json!({"sudoCommand": ["ALL"]})))
        .await
        .unwrap_err();
    assert_eq!(e.details()["reason"], "defaults_only_options");
    sudo.delete(&admin, "defaults").await.unwrap();
}

/// Joins the continuation lines of cvtsudoers' sudoers output (`\` + newline + indent).
fn unwrap_sudoers(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let mut line = line.to_owned();
        while let Some(stripped) = line.strip_suffix('\\').map(str::to_owned) {
            let Some(next) = lines.next() else { break };
            line = format!("{stripped} {}", next.trim_start());
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn cvtsudoers(tool: &PathBuf, ldif_text: &str, format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sudoers.ldif");
    std::fs::write(&path, ldif_text).unwrap();
    let out = Command::new(tool)
        .args(["-i", "ldif", "-f", format])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cvtsudoers failed: {}\n{ldif_text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "cvtsudoers complained: {}\n{ldif_text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The key/value pairs of a cvtsudoers JSON list (`[{"username": "x"}, ...]`) as
/// `"username=x"` / `"!username=x"` strings, sorted.
fn members(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|m| {
            let obj = m.as_object().unwrap();
            let neg = if obj.get("negated") == Some(&json!(true)) {
                "!"
            } else {
                ""
            };
            let (k, v) = obj.iter().find(|(k, _)| *k != "negated").unwrap();
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            format!("{neg}{k}={v}")
        })
        .collect();
    out.sort();
    out
}

pub async fn sudo_rules_read_back_by_cvtsudoers(t: &Target) {
    let Some(tool) = consumer_tool("cvtsudoers", "sudo") else {
        return;
    };
    let (h, admin) = ready(t).await;
    let tg = tag("cv");
    let (uid, group) = people(&h, &admin, &tg).await;
    let sudo = h.sudo();
    let digest = "0123456789abcdef".repeat(4);
    let web = format!("{tg}-web");
    let db = format!("{tg}-db");
    sudo.create(
        &admin,
        &new_rule(json!({
            "cn": web,
            "sudoUser": [uid, format!("%{group}"), "!#1001"],
            "sudoHost": ["ALL", "192.168.1.0/24", "!db1"],
            "sudoCommand": ["/usr/bin/systemctl restart nginx", "!/usr/bin/su",
                            format!("sha256:{digest} /bin/ls"), "sudoedit /etc/hosts"],
            "sudoRunAsUser": ["root"],
            "sudoRunAsGroup": ["wheel"],
            "sudoOption": ["!authenticate"],
            "sudoOrder": 5,
            "sudoNotBefore": "20250101000000Z",
            "sudoNotAfter": "20350101000000Z"
        })),
    )
    .await
    .unwrap();
    sudo.create(
        &admin,
        &new_rule(
            json!({"cn": db, "sudoUser": "%#5000", "sudoHost": "+dbhosts",
                         "sudoCommand": "ALL", "sudoOption": "setenv"}),
        ),
    )
    .await
    .unwrap();

    // What sudo would fetch: the sudoRole entries below ou=sudoers, as LDIF.
    let container = h.container(Container::Sudoers).unwrap();
    let fetch = |cn: String| {
        let dir = t.dir.clone();
        let container = container.clone();
        async move {
            dir.search(
                &SearchRequest::new(
                    container,
                    Scope::Subtree,
                    Filter::and([Filter::eq("objectClass", "sudoRole"), Filter::eq("cn", cn)]),
                )
                .attributes(["*"]),
            )
            .await
            .unwrap()
        }
    };
    let web_entries = fetch(web.clone()).await;
    let db_entries = fetch(db.clone()).await;
    assert_eq!((web_entries.len(), db_entries.len()), (1, 1));
    let both = ldif::to_string(web_entries.iter().chain(&db_entries)).unwrap();

    // The sudoers rendering: one line per rule, under a comment naming it.
    let text = unwrap_sudoers(&cvtsudoers(&tool, &both, "sudoers"));
    for cn in [&web, &db] {
        assert!(text.contains(&format!("# sudoRole {cn}\n")), "{text}");
    }
    let web_line = text
        .lines()
        .skip_while(|l| *l != format!("# sudoRole {web}"))
        .nth(1)
        .unwrap();
    for part in [
        uid.as_str(),
        &format!("%{group}"),
        "!#1001",
        "192.168.1.0/24",
        "!db1",
        "(root : wheel)",
        "NOTBEFORE=20250101000000Z",
        "NOTAFTER=20350101000000Z",
        "NOPASSWD:",
        "/usr/bin/systemctl restart nginx",
        "!/usr/bin/su",
        &format!("sha256:{digest} /bin/ls"),
        "sudoedit /etc/hosts",
    ] {
        assert!(web_line.contains(part), "'{part}' missing from: {web_line}");
    }
    let db_line = text
        .lines()
        .skip_while(|l| *l != format!("# sudoRole {db}"))
        .nth(1)
        .unwrap();
    assert_eq!(db_line, "%#5000 +dbhosts = SETENV: ALL", "{text}");

    // The structured rendering, value by value.
    let v: Value = serde_json::from_str(&cvtsudoers(
        &tool,
        &ldif::to_string(&web_entries).unwrap(),
        "json",
    ))
    .unwrap();
    let spec = &v["User_Specs"][0];
    assert_eq!(
        members(&spec["User_List"]),
        [
            "!userid=1001".to_owned(),
            format!("usergroup={group}"),
            format!("username={uid}")
        ]
    );
    assert_eq!(
        members(&spec["Host_List"]),
        [
            "!hostname=db1",
            "hostname=ALL",
            "networkaddr=192.168.1.0/24"
        ]
    );
    let cmnd = &spec["Cmnd_Specs"][0];
    assert_eq!(members(&cmnd["runasusers"]), ["username=root"]);
    assert_eq!(members(&cmnd["runasgroups"]), ["usergroup=wheel"]);
    let mut options = members(&cmnd["Options"]);
    options.sort();
    assert_eq!(
        options,
        [
            "authenticate=false",
            "notafter=20350101000000Z",
            "notbefore=20250101000000Z"
        ]
    );
    let commands = cmnd["Commands"].as_array().unwrap();
    let find = |c: &str| {
        commands
            .iter()
            .find(|x| x["command"] == c)
            .unwrap_or_else(|| panic!("{c} missing: {commands:?}"))
    };
    assert_eq!(find("/usr/bin/su")["negated"], true);
    assert_eq!(find("/bin/ls")["sha256"], digest.as_str());
    assert!(find("/usr/bin/systemctl restart nginx")
        .get("negated")
        .is_none());
    find("sudoedit /etc/hosts");
    assert_eq!(commands.len(), 4);

    sudo.delete(&admin, &web).await.unwrap();
    sudo.delete(&admin, &db).await.unwrap();
    forget_people(&h, &admin, &uid, &group).await;
}
