//! A small HTTP/1.1 client on a tokio TCP stream: keep-alive requests with `Content-Length` or
//! chunked bodies, and the head of a streaming response (the body is then read by the caller).

use crate::sse::Chunked;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// `name=value` of a `Set-Cookie` for `name`, ready for a `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.trim_start().starts_with(&format!("{name}=")))
            .map(|pair| pair.trim().to_string())
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub head: Head,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses a response head (without its final blank line).
pub fn parse_head(raw: &[u8]) -> io::Result<Head> {
    let text = std::str::from_utf8(raw).map_err(|_| bad("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty response"))?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(bad("not an HTTP/1.x response"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Head { status, headers })
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    host: String,
    /// Bytes read past the previous response.
    buf: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        // An abortive close leaves no TIME_WAIT behind, so that tens of thousands of
        // connections can be opened again and again from one address. (A zero linger never
        // blocks the thread on drop, which is what the deprecation is about.)
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::ZERO))?;
        Ok(Conn {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(8192),
        })
    }

    /// Writes a request. `headers` are extra header lines; a body goes with `Content-Length`.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> io::Result<()> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (n, v) in headers {
            req.push_str(n);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        let mut bytes = match body {
            Some((ctype, b)) => {
                req.push_str(&format!(
                    "Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                ));
                let mut v = req.into_bytes();
                v.extend_from_slice(b);
                v
            }
            None => {
                req.push_str("\r\n");
                req.into_bytes()
            }
        };
        self.stream.write_all(&bytes).await?;
        bytes.clear();
        Ok(())
    }

    /// Reads a response head; the body's first bytes stay buffered.
    pub async fn read_head(&mut self) -> io::Result<Head> {
        loop {
            if let Some(end) = find_head_end(&self.buf) {
                let head = parse_head(&self.buf[..end])?;
                self.buf.drain(..end + 4);
                return Ok(head);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad("response head too large"));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads the whole body of a response whose head has been read.
    pub async fn read_body(&mut self, head: &Head, method: &str) -> io::Result<Vec<u8>> {
        if method == "HEAD" || head.status == 204 || head.status == 304 || head.status / 100 == 1 {
            return Ok(Vec::new());
        }
        if head.is_chunked() {
            let mut decoder = Chunked::default();
            let mut body = Vec::new();
            loop {
                let input = std::mem::take(&mut self.buf);
                // Nothing is pipelined on these connections: bytes after the body are dropped.
                if decoder
                    .feed(&input, &mut |d: &[u8]| body.extend_from_slice(d))
                    .map_err(bad)?
                {
                    return Ok(body);
                }
                self.fill().await?;
            }
        }
        if let Some(len) = head.header("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
            while self.buf.len() < len {
                self.fill().await?;
            }
            let body: Vec<u8> = self.buf.drain(..len).collect();
            return Ok(body);
        }
        // Delimited by the end of the connection.
        loop {
            match self.fill().await {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(std::mem::take(&mut self.buf))
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends a request and reads its whole response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> io::Result<Response> {
        self.send(method, path, headers, body).await?;
        let head = self.read_head().await?;
        let body = self.read_body(&head, method).await?;
        Ok(Response { head, body })
    }

    /// For a streaming body: the bytes already read past the head, and the stream.
    pub fn into_parts(self) -> (TcpStream, Vec<u8>) {
        (self.stream, self.buf)
    }
}

/// One request on a fresh connection.
pub async fn fetch(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> io::Result<Response> {
    let mut conn = Conn::connect(addr).await?;
    conn.request(method, path, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_cookies() {
        let raw = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                    set-cookie: other=1; Path=/\r\n\
                    set-cookie: headway_session=abc.def; HttpOnly; SameSite=Lax; Path=/\r\n\
                    transfer-encoding: chunked";
        let head = parse_head(raw).unwrap();
        assert_eq!(head.status, 201);
        assert_eq!(head.header("Content-Type"), Some("application/json"));
        assert!(head.is_chunked());
        assert_eq!(
            head.cookie("headway_session").as_deref(),
            Some("headway_session=abc.def")
        );
        assert_eq!(head.cookie("missing"), None);
        assert!(parse_head(b"SSH-2.0 nope").is_err());
    }
}
