//! A small pool of bound ldap3 connections.
//!
//! ldap3 has no pool. This one keeps up to `pool_size` connections, each bound as the
//! service account when it is opened. A connection handed out again is checked first: one
//! whose driver task ended (the server closed it) is dropped, and one idle for longer than
//! `health_check_after` is probed with a WhoAmI and replaced if the probe fails. A
//! connection that failed mid-operation is never returned to the pool, so after the server
//! comes back the next operation simply opens a fresh one: reconnection needs no step.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use ldap3::exop::WhoAmI;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::ClientConfig;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::{timeout, timeout_at};

use super::config::{Bind, LdapConfig};
use super::convert::map_error;
use crate::error::{Error, ErrorCode, LdapOperation, Result};

struct Idle {
    ldap: Ldap,
    since: Instant,
}

/// The pool.
pub(super) struct Pool {
    config: LdapConfig,
    tls: Option<Arc<ClientConfig>>,
    idle: Mutex<Vec<Idle>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("url", &self.config.url)
            .field("size", &self.config.pool_size)
            .field("idle", &self.idle_count())
            .finish_non_exhaustive()
    }
}

/// A connection on loan from the pool; it goes back when dropped unless marked broken.
pub(super) struct Conn<'a> {
    pub(super) ldap: Ldap,
    pool: &'a Pool,
    broken: bool,
    _permit: SemaphorePermit<'a>,
}

impl Conn<'_> {
    /// Keeps this connection out of the pool.
    pub(super) fn discard(&mut self) {
        self.broken = true;
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if !self.broken && !self.ldap.is_closed() {
            let mut idle = self
                .pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            idle.push(Idle {
                ldap: self.ldap.clone(),
                since: Instant::now(),
            });
        }
    }
}

impl Pool {
    pub(super) fn new(config: LdapConfig, tls: Option<Arc<ClientConfig>>) -> Self {
        let permits = Semaphore::new(config.pool_size.max(1));
        Pool {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            permits,
        }
    }

    pub(super) fn config(&self) -> &LdapConfig {
        &self.config
    }

    pub(super) fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// A healthy, bound connection by `deadline`: waiting for a free slot, probing idle
    /// connections and opening a new one all count. (Before, each idle connection past
    /// `health_check_after` was probed in turn for up to `connect_timeout`, so a stalled
    /// server held one operation for many times its timeout.)
    pub(super) async fn get_by(&self, deadline: tokio::time::Instant) -> Result<Conn<'_>> {
        match timeout_at(deadline, self.get_unbounded()).await {
            Ok(got) => got,
            Err(_) => Err(
                Error::timeout(LdapOperation::Connect, self.config.operation_timeout)
                    .with_message("no directory connection was ready in time"),
            ),
        }
    }

    async fn get_unbounded(&self) -> Result<Conn<'_>> {
        let wait = self.config.operation_timeout;
        let permit = match timeout(wait, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(Error::internal("the connection pool is closed")),
            Err(_) => {
                return Err(Error::timeout(LdapOperation::Connect, wait)
                    .with_message("no pooled directory connection became free in time"))
            }
        };
        loop {
            let candidate = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(Idle { mut ldap, since }) = candidate else {
                break;
            };
            if ldap.is_closed() {
                continue;
            }
            if since.elapsed() >= self.config.health_check_after && !self.probe(&mut ldap).await {
                continue;
            }
            return Ok(Conn {
                ldap,
                pool: self,
                broken: false,
                _permit: permit,
            });
        }
        let ldap = self.open(&self.config.bind).await?;
        Ok(Conn {
            ldap,
            pool: self,
            broken: false,
            _permit: permit,
        })
    }

    async fn probe(&self, ldap: &mut Ldap) -> bool {
        let limit = self.config.connect_timeout;
        matches!(
            timeout(limit, ldap.extended(WhoAmI)).await,
            Ok(Ok(res)) if res.1.rc == 0
        )
    }

    /// Opens a new connection and binds it as `bind` (not pooled by itself), within
    /// `connect_timeout` for the TCP connect, TLS and the bind together.
    pub(super) async fn open(&self, bind: &Bind) -> Result<Ldap> {
        let limit = self.config.connect_timeout;
        match timeout(limit, self.open_unbounded(bind)).await {
            Ok(opened) => opened,
            Err(_) => Err(Error::timeout(LdapOperation::Connect, limit)
                .with_detail("url", self.config.url.as_str())),
        }
    }

    async fn open_unbounded(&self, bind: &Bind) -> Result<Ldap> {
        let cfg = &self.config;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(cfg.connect_timeout)
            .set_starttls(cfg.starttls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(Arc::clone(tls));
        }
        let url = cfg.url.as_str();
        let limit = cfg.connect_timeout;
        let (conn, mut ldap) = match timeout(limit, LdapConnAsync::with_settings(settings, url))
            .await
        {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let (err, _) = map_error(LdapOperation::Connect, "", e);
                return Err(err.with_detail("url", url));
            }
            Err(_) => {
                return Err(Error::timeout(LdapOperation::Connect, limit).with_detail("url", url))
            }
        };
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "directory connection ended");
            }
        });
        let bound = match bind {
            Bind::Anonymous => return Ok(ldap),
            Bind::Simple { dn, password } => {
                if dn.is_root() {
                    return Err(Error::new(
                        ErrorCode::InvalidConfig,
                        "the bind DN is empty or invalid",
                    ));
                }
                timeout(limit, ldap.simple_bind(&dn.to_string(), password)).await
            }
            Bind::SaslExternal => timeout(limit, ldap.sasl_external_bind()).await,
        };
        match bound {
            Ok(Ok(res)) => match res.success() {
                Ok(_) => Ok(ldap),
                Err(e) => Err(map_error(LdapOperation::Connect, "", e).0),
            },
            Ok(Err(e)) => Err(map_error(LdapOperation::Connect, "", e).0),
            Err(_) => Err(Error::timeout(LdapOperation::Connect, limit)),
        }
    }
}
