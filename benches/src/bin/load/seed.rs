//! The seed data: N users and their groups as LDIF, in the layout Heracles writes.
//!
//! Each user is what `POST /api/v1/users` with a `posix` block creates — `inetOrgPerson` +
//! `posixAccount` + `shadowAccount` in `ou=people`, `uidNumber` from the allocation range,
//! `gidNumber` = `uidNumber`, home from the default pattern, the default shell, `gecos` from
//! `cn` — with one known password, hashed once with `{SSHA}` (fast to load; the server's
//! own default is `{ARGON2}`). Every user is in two "mixed" groups (`groupOfNames` +
//! `posixGroupAux`, `member` and `memberUid` kept consistent, as Heracles writes them): a
//! team of 25 and one of ten departments. Users carry the `memberOf` values slapd's memberof
//! overlay would have written had they been added online (slapadd runs no overlay). One
//! user in ten has a `@sales.example.com` mail address (what the filtered list asks for).

use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use heracles_core::directory::EmbeddedDirectory;
use heracles_core::dn::Dn;
use heracles_core::password::{self, Scheme};

use crate::Res;

/// The base DN (the test slapd's default suffix, the server's default base).
pub const BASE: &str = "dc=example,dc=com";
/// The password of every seeded user.
pub const PASSWORD: &str = "Bench-Passw0rd-1";
/// First uidNumber (the default allocation range starts there).
pub const FIRST_ID: usize = 10_000;
/// Members of a team group.
const TEAM: usize = 25;
/// Department groups.
const DEPARTMENTS: usize = 10;

const GIVEN: [&str; 16] = [
    "Ada", "Brian", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kateryna", "Liam", "Maya", "Noah", "Olga", "Pedro",
];
const SURNAMES: [&str; 16] = [
    "Abbott", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov",
];

/// The uid of seeded user `i`.
pub fn uid(i: usize) -> String {
    format!("user{i:06}")
}

/// The `filter=` clause of the filtered list, and how many users it matches.
pub const SALES_FILTER: &str = "mail:ends:@sales.example.com";

/// What was generated.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// The LDIF file (users and groups; the base tree is not in it).
    pub ldif: PathBuf,
}

impl Seed {
    /// Users matching [`SALES_FILTER`].
    pub fn sales_users(&self) -> usize {
        (0..self.users).filter(|i| i % 10 == 3).count()
    }

    /// The next free uidNumber and gidNumber once the seed is loaded.
    pub fn next_ids(&self) -> (usize, usize) {
        (FIRST_ID + self.users, FIRST_ID + self.users + self.groups)
    }
}

fn teams(n: usize) -> usize {
    n.div_ceil(TEAM)
}

fn departments(n: usize) -> usize {
    DEPARTMENTS.min(n)
}

/// Writes the users and groups, with a progress line every tenth.
pub fn write_ldif(path: &Path, n: usize) -> Res<Seed> {
    let started = Instant::now();
    let hash = password::hash(PASSWORD, Scheme::Ssha)?;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let step = (n / 10).max(1);
    let mut rec = String::with_capacity(1024);
    for i in 0..n {
        let uid = uid(i);
        let given = GIVEN[i % GIVEN.len()];
        let sn = SURNAMES[(i / GIVEN.len()) % SURNAMES.len()];
        let domain = if i % 10 == 3 {
            "sales.example.com"
        } else {
            "example.com"
        };
        let id = FIRST_ID + i;
        rec.clear();
        write!(
            rec,
            "dn: uid={uid},ou=people,{BASE}\n\
             objectClass: top\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             objectClass: shadowAccount\n\
             uid: {uid}\ncn: {given} {sn}\nsn: {sn}\ngivenName: {given}\n\
             mail: {uid}@{domain}\nuidNumber: {id}\ngidNumber: {id}\n\
             homeDirectory: /home/{uid}\nloginShell: /bin/bash\ngecos: {given} {sn}\n\
             userPassword: {hash}\n\
             memberOf: cn=team{team:05},ou=groups,{BASE}\n\
             memberOf: cn=dept{dept},ou=groups,{BASE}\n\n",
            team = i / TEAM,
            dept = i % DEPARTMENTS
        )?;
        out.write_all(rec.as_bytes())?;
        if (i + 1) % step == 0 || i + 1 == n {
            eprintln!("    generated {:>7} / {n} users", i + 1);
        }
    }
    let mut gid = FIRST_ID + n;
    let mut groups = 0;
    let group = |out: &mut BufWriter<std::fs::File>,
                 cn: &str,
                 description: &str,
                 gid: usize,
                 members: &mut dyn Iterator<Item = usize>|
     -> Res<()> {
        let mut rec = format!(
            "dn: cn={cn},ou=groups,{BASE}\nobjectClass: top\nobjectClass: groupOfNames\n\
             objectClass: posixGroupAux\ncn: {cn}\ndescription: {description}\n\
             gidNumber: {gid}\n"
        );
        let members: Vec<String> = members.map(uid).collect();
        for m in &members {
            writeln!(rec, "member: uid={m},ou=people,{BASE}")?;
        }
        for m in &members {
            writeln!(rec, "memberUid: {m}")?;
        }
        rec.push('\n');
        out.write_all(rec.as_bytes())?;
        Ok(())
    };
    for t in 0..teams(n) {
        let mut members = (t * TEAM)..((t + 1) * TEAM).min(n);
        group(
            &mut out,
            &format!("team{t:05}"),
            "A team",
            gid,
            &mut members,
        )?;
        gid += 1;
        groups += 1;
    }
    for d in 0..departments(n) {
        let mut members = (d..n).step_by(DEPARTMENTS);
        group(
            &mut out,
            &format!("dept{d}"),
            "A department",
            gid,
            &mut members,
        )?;
        gid += 1;
        groups += 1;
    }
    out.flush()?;
    eprintln!(
        "    generated {groups} groups; LDIF written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Seed {
        users: n,
        groups,
        ldif: path.to_owned(),
    })
}

/// The entries the test slapd's script creates before `SEED_LDIF`, for the embedded
/// directory (its bootstrap creates the rest of the tree): the suffix, `ou=people`,
/// `ou=groups`, `ou=heracles` and the id counters past the seeded numbers.
fn embedded_prefix(seed: &Seed) -> String {
    let (uid_next, gid_next) = seed.next_ids();
    format!(
        "dn: {BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n\
         dc: example\no: example\n\n\
         dn: ou=people,{BASE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{BASE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=heracles,{BASE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: heracles\n\n\
         dn: cn=counters,ou=heracles,{BASE}\nobjectClass: top\nobjectClass: heraclesCounter\n\
         cn: counters\nheraclesNextUidNumber: {uid_next}\nheraclesNextGidNumber: {gid_next}\n\n"
    )
}

/// Loads the seed into a new embedded directory in `folder` (its LDIF import: batched,
/// checked like any write), with a progress line every tenth, then compacts it.
pub fn load_embedded(folder: &Path, seed: &Seed) -> Res<()> {
    let started = Instant::now();
    let dir = EmbeddedDirectory::open(folder, &Dn::parse(BASE)?)?;
    dir.import_ldif(embedded_prefix(seed).as_bytes(), |_| {})?;
    let total = seed.users + seed.groups;
    let step = (total / 10).max(1);
    let file = std::fs::File::open(&seed.ldif)?;
    dir.import_ldif(BufReader::with_capacity(1 << 20, file), |done| {
        if done % step == 0 || done == total {
            eprintln!(
                "    embedded: imported {done:>7} / {total} entries ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    })?;
    dir.compact()?;
    eprintln!(
        "    embedded: loaded and compacted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
