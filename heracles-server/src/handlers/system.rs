//! `/api/v1/health`, `/api/v1/version` and `/openapi.json`.

use std::time::Duration;

use http::header::{CACHE_CONTROL, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::error::RETRY_AFTER_UNAVAILABLE;
use crate::reply::Reply;
use crate::request::Ctx;
use crate::router::HandlerFuture;

/// The server's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long the health check waits for the directory.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// The health answer (SPEC §3).
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: &'static str,
    /// Server version.
    pub version: &'static str,
    /// State of each dependency.
    pub services: Services,
}

/// Dependencies in the health answer.
#[derive(Debug, Clone, Serialize)]
pub struct Services {
    /// `connected` or `unreachable`.
    pub ldap: &'static str,
}

/// The version answer.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// Always `heracles`.
    pub name: &'static str,
    /// Server version (semver).
    pub version: &'static str,
    /// REST API version served.
    pub api_version: &'static str,
}

/// `GET /api/v1/health`: asks the directory, with a short time limit.
pub fn health(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let directory = ctx.state().directory().clone();
        let ok = match tokio::time::timeout(HEALTH_TIMEOUT, directory.health()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(code = %e.code(), error = %e.message(), "health: the directory failed");
                false
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = HEALTH_TIMEOUT.as_millis(),
                    "health: the directory did not answer in time"
                );
                false
            }
        };
        let body = Health {
            status: if ok { "healthy" } else { "degraded" },
            version: VERSION,
            services: Services {
                ldap: if ok { "connected" } else { "unreachable" },
            },
        };
        let status = if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let mut reply = Reply::json(status, &body)?
            .with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if !ok {
            reply = reply.with_header(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE));
        }
        Ok(reply)
    })
}

/// `GET /api/v1/version`.
pub fn version(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        Reply::ok(&Version {
            name: "heracles",
            version: VERSION,
            api_version: "v1",
        })
    })
}

/// `GET /openapi.json`: the document rendered at startup from the route table.
pub fn openapi(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        Ok(Reply::json_bytes(
            StatusCode::OK,
            ctx.state().openapi_json().clone(),
        ))
    })
}
