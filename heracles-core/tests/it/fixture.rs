//! Access to the project's throwaway slapd.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use std::sync::Arc;

use heracles_core::directory::{Directory, EmbeddedDirectory, Entry, LdapConfig, LdapDirectory};
use heracles_core::dn::{Dn, Rdn};

/// The keys of `DIR/env` written by `ldap/test-slapd.sh`.
#[derive(Debug, Clone)]
pub struct Slapd {
    vars: HashMap<String, String>,
}

impl Slapd {
    /// Reads an env file (`KEY='value'` lines).
    pub fn from_env_file(path: &Path) -> Slapd {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                let v = v.trim();
                let v = v
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .unwrap_or(v);
                (k.trim().to_owned(), v.to_owned())
            })
            .collect();
        Slapd { vars }
    }

    /// The shared instance of the test run.
    pub fn shared() -> Slapd {
        let path = std::env::var_os("HERACLES_TEST_SLAPD_ENV").unwrap_or_else(|| {
            panic!(
                "HERACLES_TEST_SLAPD_ENV is not set: these tests need the project's slapd. \
                 Run them with scripts/test.sh (see README.md), or start one with \
                 `ldap/test-slapd.sh start DIR` and export HERACLES_TEST_SLAPD_ENV=DIR/env"
            )
        });
        Slapd::from_env_file(Path::new(&path))
    }

    pub fn get(&self, key: &str) -> &str {
        self.vars.get(key).map_or_else(
            || panic!("{key} missing from the slapd env file"),
            String::as_str,
        )
    }

    pub fn base(&self) -> Dn {
        Dn::parse(self.get("BASE_DN")).unwrap()
    }

    /// Configuration binding as the ordinary (non-root) service account.
    pub fn service_config(&self) -> LdapConfig {
        LdapConfig::simple(
            self.get("LDAP_URI"),
            self.get("SERVICE_DN"),
            self.get("SERVICE_PW"),
        )
    }

    pub async fn service(&self) -> LdapDirectory {
        LdapDirectory::connect(self.service_config()).await.unwrap()
    }
}

/// A private instance for tests that stop or restart the server; stopped on drop.
pub struct OwnSlapd {
    pub dir: PathBuf,
    pub env: Slapd,
    _tmp: tempfile::TempDir,
}

pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("ldap")
        .join("test-slapd.sh")
}

pub fn run_script(action: &str, dir: &Path) {
    let out = Command::new("sh")
        .arg(script())
        .arg(action)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "test-slapd.sh {action} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl OwnSlapd {
    pub fn start() -> OwnSlapd {
        // Short path: the ldapi socket path must stay under ~107 bytes.
        let tmp = tempfile::Builder::new().prefix("hx-").tempdir().unwrap();
        let dir = tmp.path().join("s");
        run_script("start", &dir);
        let env = Slapd::from_env_file(&dir.join("env"));
        OwnSlapd {
            dir,
            env,
            _tmp: tmp,
        }
    }

    pub fn stop(&self) {
        run_script("stop", &self.dir);
    }

    pub fn restart(&self) {
        run_script("restart", &self.dir);
    }
}

impl Drop for OwnSlapd {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A directory under test: slapd through `LdapDirectory`, or an `EmbeddedDirectory`.
pub struct Target {
    pub dir: Arc<dyn Directory>,
    pub base: Dn,
    _folder: Option<tempfile::TempDir>,
}

impl Target {
    pub fn dir(&self) -> &dyn Directory {
        &*self.dir
    }

    /// Any directory already holding the base tree.
    pub fn over(dir: Arc<dyn Directory>, base: Dn) -> Target {
        Target {
            dir,
            base,
            _folder: None,
        }
    }

    /// The shared slapd, as the ordinary service account.
    pub async fn slapd() -> Target {
        let slapd = Slapd::shared();
        Target {
            dir: Arc::new(slapd.service().await),
            base: slapd.base(),
            _folder: None,
        }
    }

    /// A fresh embedded directory holding the same base tree as the test slapd.
    pub async fn embedded() -> Target {
        let folder = tempfile::tempdir().unwrap();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
        dir.add(
            &Entry::new(base.clone())
                .with("objectClass", ["top", "dcObject", "organization"])
                .with("dc", ["example"])
                .with("o", ["example"]),
        )
        .await
        .unwrap();
        for ou in ["people", "groups", "heracles"] {
            dir.add(
                &Entry::new(base.child(Rdn::new("ou", ou).unwrap()))
                    .with("objectClass", ["top", "organizationalUnit"])
                    .with("ou", [ou]),
            )
            .await
            .unwrap();
        }
        Target {
            dir: Arc::new(dir),
            base,
            _folder: Some(folder),
        }
    }
}

/// A fresh organizational unit under the base for one test, so tests run in parallel
/// without seeing each other's entries.
pub async fn sandbox(dir: &dyn Directory, base: &Dn, name: &str) -> Dn {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ou = format!("t-{name}-{}-{n}", std::process::id());
    let dn = base.child(Rdn::new("ou", &ou).unwrap());
    dir.add(
        &Entry::new(dn.clone())
            .with("objectClass", ["organizationalUnit"])
            .with("ou", [ou.as_str()]),
    )
    .await
    .unwrap();
    dn
}

/// The body of a group creation: `cn` of `kind` with `members` (uids or DNs).
pub fn group(
    cn: &str,
    kind: heracles_core::service::groups::GroupType,
    members: &[&str],
) -> heracles_core::service::groups::NewGroup {
    heracles_core::service::groups::NewGroup {
        cn: cn.to_owned(),
        group_type: Some(kind),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        ..Default::default()
    }
}

/// An inetOrgPerson entry under `parent`.
pub fn person(parent: &Dn, uid: &str) -> Entry {
    Entry::new(parent.child(Rdn::new("uid", uid).unwrap()))
        .with("objectClass", ["inetOrgPerson"])
        .with("uid", [uid])
        .with("cn", [format!("User {uid}")])
        .with("sn", [uid])
}
