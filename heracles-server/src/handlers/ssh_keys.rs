//! `/api/v1/users/{uid}/ssh-keys`: a user's SSH public keys — list, add, delete (SPEC §3).
//! Parsing, fingerprints, duplicates, ACL and audit are the core's
//! ([`heracles_core::service::ssh_keys`]).

use heracles_core::error::Result;
use heracles_core::service::ssh_keys::NewSshKey;
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/users/{uid}/ssh-keys`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_keys)
}

/// `POST /api/v1/users/{uid}/ssh-keys`.
pub fn add(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, add_key)
}

/// `DELETE /api/v1/users/{uid}/ssh-keys/{id}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_key)
}

async fn list_keys(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().ssh_keys().list(&p, uid, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn add_key(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?.to_owned();
    let body: NewSshKey = ctx.json().await?;
    let key = ctx
        .state()
        .heracles()
        .ssh_keys()
        .add(&p, &uid, &body)
        .await?;
    Reply::json(StatusCode::CREATED, &key)
}

async fn delete_key(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let id = ctx.param("id")?;
    ctx.state()
        .heracles()
        .ssh_keys()
        .delete(&p, uid, id)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "SshKey",
            json!({
                "type": "object",
                "description": "One value of the user's sshPublicKey.",
                "required": ["id", "fingerprint", "type", "comment", "bits", "public_key"],
                "properties": {
                    "id": {"type": "string",
                           "description": "The SHA-256 fingerprint in base64url without \
                                           padding: the key's path segment.",
                           "example": "RRt45AtypHTW-E4tmCXFI68jHWkMxUhNba5VeNZPm7Y"},
                    "fingerprint": {"type": "string", "nullable": true,
                                    "description": "As `ssh-keygen -l` prints it; null for a \
                                                    stored value that is not a key.",
                                    "example": "SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y"},
                    "type": {"type": "string", "example": "ssh-ed25519",
                             "description": "`unknown` for a stored value that is not a key."},
                    "comment": {"type": "string", "nullable": true, "example": "jdoe@laptop"},
                    "bits": {"type": "integer", "nullable": true, "example": 256},
                    "public_key": {"type": "string",
                                   "description": "The stored authorized_keys line."},
                    "options": {"type": "string",
                                "description": "authorized_keys options of a value another \
                                                tool wrote (absent otherwise)."}
                }
            }),
        ),
        ("SshKeyList", crate::openapi::page_schema("SshKey")),
        (
            "SshKeyCreate",
            json!({
                "type": "object",
                "required": ["public_key"],
                "properties": {
                    "public_key": {
                        "type": "string",
                        "description": "One OpenSSH public key line `type base64 [comment]`: \
                                        ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa \
                                        (≥ 2048 bits), sk-ssh-ed25519@openssh.com, \
                                        sk-ecdsa-sha2-nistp256@openssh.com. authorized_keys \
                                        options are refused.",
                        "example": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R jdoe@laptop"
                    }
                },
                "additionalProperties": false
            }),
        ),
    ]
}
