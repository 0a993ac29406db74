//! Tokens and login throttling (SPEC §2).
//!
//! **Tokens** ([`Tokens`]) are HS256 JWTs (jsonwebtoken). The first configured secret signs,
//! every configured secret verifies (secret rotation: put the new one first, keep the old one
//! until the longest token lifetime has passed). Verification is pinned to HS256 (a token
//! naming another algorithm, `none` included, is refused), allows no clock leeway, and checks
//! `exp`, `nbf`, `iss` ([`ISSUER`]) and `aud` ([`AUDIENCE`]); every claim of [`Claims`] is
//! required. `typ` tells access tokens from refresh tokens: a refresh token is never accepted
//! as a bearer token, nor an access token by `/auth/refresh`. `sid` names the session (an
//! entry under `ou=sessions`, see `heracles_core::service::sessions`), so a token of a
//! revoked session is refused even before it expires. A token whose signature and claims
//! checked out is remembered (up to 4096 of them) so the next request with it is not decoded
//! again; its time limits and type are still checked on every use.
//!
//! **Throttling** ([`Throttle`]): failed logins are counted per account (the uid, or the uid
//! of a `uid=...` DN, case-insensitively; any other DN as written) and per client address, in
//! memory per instance, over sliding windows whose sizes and limits are the settings'
//! `login_throttle`. Once a key has as many failures in its window as the limit allows, every
//! further attempt for it — even with the right password — is refused with 429
//! `RATE_LIMITED` and `Retry-After` (the seconds until the oldest counted failure leaves the
//! window). An attempt counts as a failure from its start (so concurrent attempts cannot
//! all slip past the check) until it turns out otherwise: a successful login clears the
//! account's failures, and an attempt that failed for another reason (directory down) no
//! longer counts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::schema::MatchingRule;
use heracles_core::service::settings::LoginThrottle;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// The `iss` claim of every token.
pub const ISSUER: &str = "heracles";
/// The `aud` claim of every token.
pub const AUDIENCE: &str = "heracles-api";

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// A bearer token for the API.
    Access,
    /// Only for `POST /auth/refresh`.
    Refresh,
}

/// The claims of both token types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's DN.
    pub sub: String,
    /// The user's uid.
    pub uid: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// Not before (Unix seconds).
    pub nbf: u64,
    /// Token id (for refresh tokens: the one the session stores the hash of).
    pub jti: String,
    /// `access` or `refresh`.
    pub typ: TokenType,
    /// Issuer ([`ISSUER`]).
    pub iss: String,
    /// Audience ([`AUDIENCE`]).
    pub aud: String,
    /// Session id.
    pub sid: String,
}

/// Signs and verifies tokens.
pub struct Tokens {
    signing: EncodingKey,
    verifying: Vec<DecodingKey>,
    validation: Validation,
    /// Tokens whose signature and claims were already checked, with their claims: a
    /// client sends the same bearer token with every request, and checking it again
    /// (base64, HMAC, two JSON documents) was ~5% of the server's CPU on `GET
    /// /users/{uid}`. Only what cannot change is remembered (the secrets are fixed for
    /// the life of a `Tokens`); the time checks (`exp`, `nbf`) are made again on every use.
    /// At most [`VERIFIED_CACHE`] tokens; expired ones are swept when it is full.
    verified: Mutex<HashMap<String, Claims>>,
}

/// Tokens [`Tokens::verify`] remembers.
const VERIFIED_CACHE: usize = 4096;

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("secrets", &self.verifying.len())
            .finish_non_exhaustive()
    }
}

fn unauthenticated(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

impl Tokens {
    /// Keys from the configured secrets: the first signs, all verify.
    pub fn new(secrets: &[Secret]) -> Result<Tokens> {
        let key_err = |e: jsonwebtoken::errors::Error| {
            Error::new(
                ErrorCode::InvalidConfig,
                format!("unusable token secret: {e}"),
            )
        };
        let first = secrets.first().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidConfig,
                "no token signing secret is configured",
            )
        })?;
        let signing = EncodingKey::from_secret(first.expose().as_bytes()).map_err(key_err)?;
        let verifying = secrets
            .iter()
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()).map_err(key_err))
            .collect::<Result<Vec<_>>>()?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]);
        Ok(Tokens {
            signing,
            verifying,
            validation,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Signs a token.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        typ: TokenType,
        sub: &Dn,
        uid: &str,
        sid: &str,
        jti: &str,
        now: u64,
        ttl_seconds: u64,
    ) -> Result<String> {
        let claims = Claims {
            sub: sub.to_string(),
            uid: uid.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            nbf: now,
            jti: jti.to_owned(),
            typ,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sid: sid.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.signing)
            .map_err(|e| Error::internal(format!("cannot sign a token: {e}")))
    }

    /// Verifies a token of type `typ` with every secret; `UNAUTHENTICATED` if no secret
    /// accepts it, or it is expired, not yet valid, for another issuer or audience, or of
    /// the other type.
    pub fn verify(&self, token: &str, typ: TokenType) -> Result<Claims> {
        let now = jsonwebtoken::get_current_timestamp();
        let known = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned();
        let claims = match known {
            // The checks `decode` makes of the time, as it makes them (no leeway).
            Some(c) if c.exp < now => return Err(unauthenticated("the token has expired")),
            Some(c) if c.nbf > now => return Err(unauthenticated("the token is not valid yet")),
            Some(c) => c,
            None => {
                let c = self.decode(token)?;
                let mut cache = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() >= VERIFIED_CACHE {
                    cache.retain(|_, k| k.exp >= now);
                    if cache.len() >= VERIFIED_CACHE {
                        cache.clear();
                    }
                }
                cache.insert(token.to_owned(), c.clone());
                c
            }
        };
        if claims.typ != typ {
            return Err(unauthenticated(match typ {
                TokenType::Access => "a refresh token is not a bearer token",
                TokenType::Refresh => "this is not a refresh token",
            }));
        }
        Ok(claims)
    }

    /// Checks a token's signature with every secret, and its claims.
    fn decode(&self, token: &str) -> Result<Claims> {
        let mut last = unauthenticated("the token is invalid");
        for key in &self.verifying {
            match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                // Another secret may have signed it.
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                Err(e) => {
                    last = unauthenticated(match e.kind() {
                        ErrorKind::ExpiredSignature => "the token has expired",
                        ErrorKind::ImmatureSignature => "the token is not valid yet",
                        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                            "the token was not issued for this API"
                        }
                        _ => "the token is invalid",
                    });
                    break;
                }
            }
        }
        Err(last)
    }
}

/// Failures of one key within its window.
#[derive(Debug, Default)]
struct Window(VecDeque<Instant>);

impl Window {
    fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .0
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.0.pop_front();
        }
    }
}

/// Keys kept before idle ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Default)]
struct Counters {
    accounts: HashMap<String, Window>,
    addresses: HashMap<IpAddr, Window>,
}

/// Per-instance failed-login counters (see the module documentation).
#[derive(Debug, Default)]
pub struct Throttle(Mutex<Counters>);

/// The throttling key of a login name: the uid, or the uid of a `uid=` DN, in the normal
/// form of `uid`'s equality rule (`caseIgnoreMatch`: NFKC, lower case, insignificant
/// spaces) — so every spelling the directory finds the same account by (`JDOE`, ` jdoe `,
/// a full-width `ｊｄｏｅ`, `UID=jdoe, ou=People,...`) counts against the same account.
/// Any other DN: each of its values normalised likewise.
pub fn account_key(username: &str) -> String {
    let trimmed = username.trim();
    if trimmed.contains('=') {
        if let Ok(dn) = Dn::parse(trimmed) {
            if let Some(rdn) = dn.rdn() {
                if rdn.attr().eq_ignore_ascii_case("uid") && !rdn.is_multi_valued() {
                    return fold_value(rdn.value());
                }
            }
            return dn
                .rdns()
                .iter()
                .map(|rdn| {
                    rdn.avas()
                        .iter()
                        .map(|ava| format!("{}={}", ava.normalized_attr(), fold_value(ava.value())))
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect::<Vec<_>>()
                .join(",");
        }
    }
    fold_value(trimmed)
}

/// A value in the normal form of `caseIgnoreMatch`, the equality rule of `uid` (and `cn`).
fn fold_value(value: &str) -> String {
    MatchingRule::CaseIgnoreMatch
        .normalize(value.as_bytes())
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_else(|| value.trim().to_lowercase())
}

fn retry_after(w: &Window, now: Instant, window: Duration) -> u64 {
    w.0.front()
        .map_or(1, |oldest| {
            let left = window.saturating_sub(now.duration_since(*oldest));
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        })
        .max(1)
}

fn rate_limited(what: &str, secs: u64) -> Error {
    Error::new(
        ErrorCode::RateLimited,
        format!("too many failed logins for this {what}; retry in {secs} s"),
    )
    .with_detail("retry_after", secs)
    .with_detail("limit", what)
}

impl Throttle {
    /// Starts a login attempt: refuses it (429) when the account or the address has used up
    /// its failures, else counts it as a failure right away — so that concurrent attempts
    /// cannot all pass the check before any failure is recorded — and answers the mark to
    /// give to [`Throttle::succeeded`] or [`Throttle::release`] when it did not fail.
    pub fn attempt(
        &self,
        account: &str,
        addr: Option<IpAddr>,
        limits: &LoginThrottle,
    ) -> Result<Instant> {
        let now = Instant::now();
        let Ok(mut c) = self.0.lock() else {
            return Ok(now);
        };
        let account_window = Duration::from_secs(limits.account_window_seconds);
        let address_window = Duration::from_secs(limits.address_window_seconds);
        if let Some(w) = c.accounts.get_mut(account) {
            w.prune(now, account_window);
            if w.0.len() >= limits.account_failures as usize {
                return Err(rate_limited("account", retry_after(w, now, account_window)));
            }
        }
        if let Some(w) = addr.and_then(|a| c.addresses.get_mut(&a)) {
            w.prune(now, address_window);
            if w.0.len() >= limits.address_failures as usize {
                return Err(rate_limited(
                    "client address",
                    retry_after(w, now, address_window),
                ));
            }
        }
        if c.accounts.len() >= SWEEP_AT {
            c.accounts.retain(|_, w| {
                w.prune(now, account_window);
                !w.0.is_empty()
            });
        }
        if c.addresses.len() >= SWEEP_AT {
            c.addresses.retain(|_, w| {
                w.prune(now, address_window);
                !w.0.is_empty()
            });
        }
        c.accounts
            .entry(account.to_owned())
            .or_default()
            .0
            .push_back(now);
        if let Some(a) = addr {
            c.addresses.entry(a).or_default().0.push_back(now);
        }
        Ok(now)
    }

    /// The attempt `at` did not fail on its credentials (e.g. the directory was down): it
    /// no longer counts.
    pub fn release(&self, account: &str, addr: Option<IpAddr>, at: Instant) {
        let Ok(mut c) = self.0.lock() else {
            return;
        };
        let remove = |w: &mut Window| {
            if let Some(i) = w.0.iter().position(|t| *t == at) {
                w.0.remove(i);
            }
        };
        if let Some(w) = c.accounts.get_mut(account) {
            remove(w);
        }
        if let Some(w) = addr.and_then(|a| c.addresses.get_mut(&a)) {
            remove(w);
        }
    }

    /// The attempt `at` succeeded: the account's failures are forgotten, and the attempt
    /// no longer counts for the address.
    pub fn succeeded(&self, account: &str, addr: Option<IpAddr>, at: Instant) {
        self.release(account, addr, at);
        if let Ok(mut c) = self.0.lock() {
            c.accounts.remove(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secrets: &[&str]) -> Tokens {
        let s: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
        Tokens::new(&s).unwrap()
    }

    const A: &str = "a-secret-a-secret-a-secret-a-secret-0001";
    const B: &str = "b-secret-b-secret-b-secret-b-secret-0002";

    fn dn() -> Dn {
        Dn::parse("uid=jdoe,ou=people,dc=example,dc=com").unwrap()
    }

    fn now() -> u64 {
        heracles_core::service::sessions::now_secs()
    }

    #[test]
    fn issue_verify_and_rotation_of_secrets() {
        let t = tokens(&[A]);
        let tok = t
            .issue(TokenType::Access, &dn(), "jdoe", "sid1", "j1", now(), 60)
            .unwrap();
        let c = t.verify(&tok, TokenType::Access).unwrap();
        assert_eq!(c.uid, "jdoe");
        assert_eq!(c.sid, "sid1");
        assert_eq!(c.iss, ISSUER);
        // Wrong type both ways.
        assert_eq!(
            t.verify(&tok, TokenType::Refresh).unwrap_err().code(),
            ErrorCode::Unauthenticated
        );
        // New secret first, old one still verifies.
        let rotated = tokens(&[B, A]);
        rotated.verify(&tok, TokenType::Access).unwrap();
        let new_tok = rotated
            .issue(TokenType::Refresh, &dn(), "jdoe", "sid1", "j2", now(), 60)
            .unwrap();
        rotated.verify(&new_tok, TokenType::Refresh).unwrap();
        // ... but not by a server that only knows the old one.
        assert!(t.verify(&new_tok, TokenType::Refresh).is_err());
    }

    #[test]
    fn a_remembered_token_is_still_checked_for_time_and_type() {
        let t = tokens(&[A]);
        // Valid for one more second at most: accepted (and remembered) now ...
        let start = now();
        let short = t
            .issue(TokenType::Access, &dn(), "jdoe", "s", "j", start, 1)
            .unwrap();
        assert_eq!(t.verify(&short, TokenType::Access).unwrap().uid, "jdoe");
        assert_eq!(t.verify(&short, TokenType::Access).unwrap().uid, "jdoe");
        // ... never as another type ...
        assert!(t.verify(&short, TokenType::Refresh).is_err());
        // ... and refused once expired, though remembered.
        while now() <= start + 1 {
            std::thread::sleep(Duration::from_millis(50));
        }
        let e = t.verify(&short, TokenType::Access).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthenticated);
        assert!(e.message().contains("expired"), "{e}");
        // A full cache makes room: expired tokens go first, every token still verifies.
        for i in 0..VERIFIED_CACHE + 10 {
            let tok = t
                .issue(
                    TokenType::Access,
                    &dn(),
                    &format!("u{i}"),
                    "s",
                    "j",
                    now(),
                    60,
                )
                .unwrap();
            assert_eq!(
                t.verify(&tok, TokenType::Access).unwrap().uid,
                format!("u{i}")
            );
        }
        assert!(t.verified.lock().unwrap().len() <= VERIFIED_CACHE);
        assert!(t.verify(&short, TokenType::Access).is_err());
    }

    #[test]
    fn expired_immature_garbage_and_none_are_refused() {
        let t = tokens(&[A]);
        let expired = t
            .issue(TokenType::Access, &dn(), "jdoe", "s", "j", now() - 100, 10)
            .unwrap();
        assert!(t
            .verify(&expired, TokenType::Access)
            .unwrap_err()
            .message()
            .contains("expired"));
        let future = t
            .issue(
                TokenType::Access,
                &dn(),
                "jdoe",
                "s",
                "j",
                now() + 100,
                1000,
            )
            .unwrap();
        assert!(t.verify(&future, TokenType::Access).is_err());
        assert!(t.verify("garbage", TokenType::Access).is_err());
        assert!(t.verify("", TokenType::Access).is_err());
        // alg none: same claims, unsigned.
        let good = t
            .issue(TokenType::Access, &dn(), "jdoe", "s", "j", now(), 60)
            .unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(t.verify(&none, TokenType::Access).is_err());
        // Tampered payload.
        let parts: Vec<&str> = good.split('.').collect();
        let other = t
            .issue(TokenType::Access, &dn(), "admin", "s", "j", now(), 60)
            .unwrap();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            other.split('.').nth(1).unwrap(),
            parts[2]
        );
        assert!(t.verify(&forged, TokenType::Access).is_err());
    }

    #[test]
    fn throttle_by_account_and_address() {
        let limits = LoginThrottle {
            account_failures: 2,
            account_window_seconds: 60,
            address_failures: 3,
            address_window_seconds: 60,
        };
        let th = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let k = account_key("JDoe");
        assert_eq!(k, account_key("uid=jdoe,ou=people,dc=example,dc=com"));
        // Every spelling the directory's matching rule equates is the same account.
        for same in [
            " jdoe ",
            "\u{ff4a}\u{ff44}\u{ff4f}\u{ff45}",
            "J\u{ff24}oe",
            "UID=\u{ff2a}DOE , OU=People,dc=example,dc=com",
        ] {
            assert_eq!(account_key(same), k, "{same:?}");
        }
        // Distinct for the directory, distinct here.
        assert_ne!(account_key("jdoe\u{200b}"), k);
        assert_ne!(
            account_key("cn=J\u{ff24}oe,ou=people,dc=example,dc=com"),
            account_key("cn=jdoe,ou=groups,dc=example,dc=com")
        );
        assert_eq!(
            account_key("cn=J\u{ff24}oe,ou=people,dc=example,dc=com"),
            account_key("CN=jdoe,OU=PEOPLE,DC=example,DC=com")
        );
        th.attempt(&k, Some(ip), &limits).unwrap();
        th.attempt(&k, Some(ip), &limits).unwrap();
        let e = th.attempt(&k, Some(ip), &limits).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        let secs = e.details()["retry_after"].as_u64().unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
        // Another account from the same address: one more failure allowed.
        let at = th.attempt("other", Some(ip), &limits).unwrap();
        let e = th.attempt("third", Some(ip), &limits).unwrap_err();
        assert_eq!(e.details()["limit"], "client address");
        // A released attempt does not count.
        th.release("other", Some(ip), at);
        let at = th.attempt("third", Some(ip), &limits).unwrap();
        // A success forgets the account's failures and does not count for the address.
        th.succeeded("third", Some(ip), at);
        th.attempt("third", Some(ip), &limits).unwrap();
        // Another address is fine for a fresh account.
        th.attempt("fourth", Some("10.0.0.1".parse().unwrap()), &limits)
            .unwrap();
    }
}
