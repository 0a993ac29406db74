//! A minimal HTTP/1.1 client over one keep-alive connection: enough for the server's
//! answers (`Content-Length` bodies), nothing more. Reconnects when the server closes.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Res;

/// One answer.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Res<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// A short text for error reports.
    pub fn summary(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(300).collect();
        format!("{} {text}", self.status)
    }
}

/// One keep-alive connection.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    req: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Client {
    /// Connects now (so that connecting is not part of the first request's time).
    pub async fn connect(addr: SocketAddr) -> Res<Client> {
        let mut c = Client {
            addr,
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            req: Vec::with_capacity(1024),
        };
        c.ensure().await?;
        Ok(c)
    }

    async fn ensure(&mut self) -> Res<&mut TcpStream> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
            self.buf.clear();
        }
        self.stream.as_mut().ok_or_else(|| "no connection".into())
    }

    /// Sends one request and reads its answer.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Res<Response> {
        self.req.clear();
        self.req.extend_from_slice(method.as_bytes());
        self.req.push(b' ');
        self.req.extend_from_slice(path.as_bytes());
        self.req.extend_from_slice(b" HTTP/1.1\r\nHost: bench\r\n");
        if let Some(t) = token {
            self.req.extend_from_slice(b"Authorization: Bearer ");
            self.req.extend_from_slice(t.as_bytes());
            self.req.extend_from_slice(b"\r\n");
        }
        if let Some(b) = body {
            self.req
                .extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
            self.req.extend_from_slice(b.len().to_string().as_bytes());
            self.req.extend_from_slice(b"\r\n\r\n");
            self.req.extend_from_slice(b.as_bytes());
        } else {
            self.req.extend_from_slice(b"\r\n");
        }
        let req = std::mem::take(&mut self.req);
        let result = self.exchange(&req, method == "HEAD").await;
        self.req = req;
        if result.is_err() {
            // The connection is in an unknown state: start over on the next request.
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, req: &[u8], head: bool) -> Res<Response> {
        self.ensure().await?.write_all(req).await?;
        // Headers.
        let header_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.read_more().await?;
        };
        let head_text = std::str::from_utf8(&self.buf[..header_end])?.to_owned();
        let mut lines = head_text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut length = 0usize;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(format!("unsupported transfer-encoding {value}").into());
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        if head || status == 204 || status == 304 {
            length = 0;
        }
        while self.buf.len() < header_end + length {
            self.read_more().await?;
        }
        let body = self.buf[header_end..header_end + length].to_vec();
        self.buf.drain(..header_end + length);
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }

    async fn read_more(&mut self) -> Res<()> {
        let stream = self.stream.as_mut().ok_or("the connection is gone")?;
        self.buf.reserve(16 * 1024);
        if stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}
