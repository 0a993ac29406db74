//! `/api/v1/auth/*` (SPEC §2) and `POST /api/v1/users/{uid}/password`.
//!
//! - `login`: the password is checked by the core (an LDAP bind as the user); wrong password,
//!   unknown user and locked account are the same 401 `INVALID_CREDENTIALS`. Every attempt
//!   is an audit event (recorded by the core, `Users::login`; a throttled one here, with
//!   result `RATE_LIMITED`). Failures are throttled per account and per client address
//!   ([`crate::auth::Throttle`]), and every failure is answered no sooner than
//!   [`FAILED_LOGIN_FLOOR`] after the request began, so the time taken does not tell an
//!   unknown user (no password to check) from a wrong password (a hash verification).
//!   Success opens a session (an entry under `ou=sessions`) and answers an access and a
//!   refresh token.
//! - `refresh`: spends the refresh token (single use) and answers a new pair; a spent token
//!   presented again revokes the whole session (see `SessionsService::rotate`). The account
//!   must still exist and not be locked, else the session is revoked.
//! - `logout`: revokes the bearer token's session — both of its tokens stop working on every
//!   instance (within 1 s on the others).
//! - `me`: the caller, with every permission some assignment grants it (its compiled ACL).
//! - `change_password`: any caller may change its own password (with `current_password`);
//!   changing another's needs an administrator. Wrong current passwords count as failed
//!   logins of that account.

use std::time::Duration;

use heracles_core::audit::{action, object_type, AuditContext};
use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::service::sessions::{now_secs, random_id, Session};
use heracles_core::service::settings::Settings;
use serde::{Deserialize, Serialize};

use crate::auth::{account_key, TokenType};
use crate::reply::Reply;
use crate::request::Ctx;
use crate::router::{principal_of, HandlerFuture};
use crate::state::AppState;

/// `POST /auth/login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// A uid or a full DN.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `POST /auth/refresh` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the last login or refresh.
    pub refresh_token: String,
}

/// `POST /users/{uid}/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password (needed for one's own account).
    #[serde(default)]
    pub current_password: Option<String>,
    /// The new password.
    pub new_password: String,
}

/// The user in a login answer.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    /// DN.
    pub dn: String,
    /// uid.
    pub uid: String,
    /// Full name.
    pub cn: String,
}

/// A token pair.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    /// Bearer token for the API.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// `POST /auth/login` answer.
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    /// The tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// Who logged in.
    pub user: UserSummary,
}

/// `GET /auth/me` answer.
#[derive(Debug, Serialize)]
pub struct Me {
    /// DN.
    pub dn: String,
    /// uid.
    pub uid: Option<String>,
    /// Full name.
    pub cn: Option<String>,
    /// Mail address.
    pub mail: Option<String>,
    /// Whether the caller is an administrator.
    pub admin: bool,
    /// `object:action` permissions held.
    pub permissions: Vec<String>,
}

/// The least time a failed login takes to answer (longer than checking a password hash).
pub const FAILED_LOGIN_FLOOR: Duration = Duration::from_millis(250);

fn invalid_credentials() -> Error {
    Error::new(
        ErrorCode::InvalidCredentials,
        "invalid username or password",
    )
}

fn unauthenticated(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

/// Signs the access and refresh tokens of a session.
fn issue_pair(
    state: &AppState,
    dn: &Dn,
    uid: &str,
    session: &Session,
    settings: &Settings,
) -> Result<TokenPair> {
    let now = now_secs();
    let access_ttl = settings.access_token_ttl_seconds;
    let access_token = state.tokens().issue(
        TokenType::Access,
        dn,
        uid,
        &session.id,
        &random_id()?,
        now,
        access_ttl,
    )?;
    let refresh_token = state.tokens().issue(
        TokenType::Refresh,
        dn,
        uid,
        &session.id,
        &session.refresh_jti,
        now,
        session.expires_at.saturating_sub(now),
    )?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: access_ttl,
    })
}

/// `POST /api/v1/auth/login`.
pub fn login(mut ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let started = tokio::time::Instant::now();
        let body: LoginRequest = ctx.json().await?;
        let state = ctx.state().clone();
        let h = state.heracles();
        let settings = h.settings().effective().await?;
        let key = account_key(&body.username);
        let ip = ctx.client_addr().map(|a| a.ip());
        let audit_ctx = ctx.anonymous_audit_context();
        let at = match state.throttle().attempt(&key, ip, &settings.login_throttle) {
            Ok(at) => at,
            Err(e) => {
                tracing::warn!(account = %key, client = ?ip, request_id = ctx.request_id(), "login refused: too many failures");
                h.audit()
                    .record(
                        &audit_ctx,
                        action::LOGIN,
                        object_type::SESSION,
                        &body.username,
                        &e,
                        Vec::new(),
                    )
                    .await;
                return Err(e);
            }
        };
        // The core records the attempt in the audit trail, whatever its outcome.
        let user = match h
            .users()
            .login(&audit_ctx, &body.username, &body.password)
            .await
        {
            Ok(user) => user,
            Err(e) if e.code() == ErrorCode::InvalidCredentials => {
                // Counted as a failure by `attempt`.
                tracing::info!(account = %key, client = ?ip, request_id = ctx.request_id(), "login failed");
                tokio::time::sleep_until(started + FAILED_LOGIN_FLOOR).await;
                return Err(invalid_credentials());
            }
            Err(e) => {
                state.throttle().release(&key, ip, at);
                return Err(e);
            }
        };
        state.throttle().succeeded(&key, ip, at);
        let session = h
            .sessions()
            .create_with_ttl(&user.dn, settings.refresh_token_ttl_seconds)
            .await?;
        let tokens = issue_pair(&state, &user.dn, &user.uid, &session, &settings)?;
        tracing::info!(user = %user.dn, session = %session.id, request_id = ctx.request_id(), "login");
        state.maybe_purge_sessions();
        Reply::ok(&LoginResponse {
            tokens,
            user: UserSummary {
                dn: user.dn.to_string(),
                uid: user.uid,
                cn: user.cn,
            },
        })
    })
}

/// `POST /api/v1/auth/refresh`.
pub fn refresh(mut ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let body: RefreshRequest = ctx.json().await?;
        let state = ctx.state().clone();
        let h = state.heracles();
        let claims = state
            .tokens()
            .verify(&body.refresh_token, TokenType::Refresh)?;
        let dn = Dn::parse(&claims.sub).map_err(|_| unauthenticated("the token is invalid"))?;
        let settings = h.settings().effective().await?;
        let session = h
            .sessions()
            .rotate_with_ttl(&claims.sid, &claims.jti, settings.refresh_token_ttl_seconds)
            .await?;
        if session.subject_dn != dn {
            h.sessions().revoke(&session.id).await?;
            return Err(unauthenticated("the token does not belong to its session"));
        }
        let entry = h
            .directory()
            .get(&dn, &["uid", "pwdAccountLockedTime"])
            .await?;
        let uid = match entry {
            Some(e) if e.get("pwdAccountLockedTime").is_empty() => {
                e.first_str("uid").unwrap_or(&claims.uid).to_owned()
            }
            _ => {
                h.sessions().revoke(&session.id).await?;
                return Err(unauthenticated(
                    "the account no longer exists or is locked: the session is revoked",
                ));
            }
        };
        Reply::ok(&issue_pair(&state, &dn, &uid, &session, &settings)?)
    })
}

/// `POST /api/v1/auth/logout`.
pub fn logout(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let p = principal_of(&ctx)?;
        let session = ctx.session_id()?;
        let h = ctx.state().heracles();
        let revoked = h.sessions().revoke(session).await;
        // Ending a session is a write of Heracles' state: audited, whatever the outcome.
        h.audit()
            .record(
                &AuditContext::for_principal(&p),
                action::LOGOUT,
                object_type::SESSION,
                &p.dn,
                &revoked,
                Vec::new(),
            )
            .await;
        revoked?;
        tracing::info!(user = %p.dn, session = %session, request_id = ctx.request_id(), "logout");
        Ok(Reply::no_content())
    })
}

/// `GET /api/v1/auth/me`.
pub fn me(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let p = principal_of(&ctx)?;
        let entry = ctx
            .state()
            .heracles()
            .directory()
            .get(&p.dn, &["uid", "cn", "mail"])
            .await?;
        let field = |name: &str| {
            entry
                .as_ref()
                .and_then(|e| e.first_str(name))
                .map(str::to_owned)
        };
        Reply::ok(&Me {
            dn: p.dn.to_string(),
            uid: field("uid").or_else(|| p.uid.clone()),
            cn: field("cn"),
            mail: field("mail"),
            admin: p.admin,
            permissions: p.acl().granted().iter().map(|x| x.to_string()).collect(),
        })
    })
}

/// `POST /api/v1/users/{uid}/password`.
pub fn change_password(mut ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let body: PasswordChange = ctx.json().await?;
        let state = ctx.state().clone();
        let p = principal_of(&ctx)?;
        let uid = ctx.param("uid")?.to_owned();
        let h = state.heracles();
        let settings = h.settings().effective().await?;
        let key = account_key(&uid);
        let ip = ctx.client_addr().map(|a| a.ip());
        let own = p.uid.as_deref() == Some(uid.as_str());
        let at = if own {
            Some(
                state
                    .throttle()
                    .attempt(&key, ip, &settings.login_throttle)?,
            )
        } else {
            None
        };
        let result = h
            .users()
            .set_password(
                &p,
                &uid,
                body.current_password.as_deref(),
                &body.new_password,
            )
            .await;
        if let Some(at) = at {
            // A wrong current password stays counted as a failed login.
            if !matches!(&result, Err(e) if e.code() == ErrorCode::InvalidCredentials) {
                state.throttle().release(&key, ip, at);
            }
        }
        result?;
        tracing::info!(actor = %p.dn, uid = %uid, request_id = ctx.request_id(), "password changed");
        Ok(Reply::no_content())
    })
}
