//! `armory serve --tls`: the real binary over HTTPS on 127.0.0.1:0 with its generated self-signed
//! certificate, talked to by a rustls client that trusts exactly that certificate.

use crate::common::{armory, stderr};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

struct TlsServer {
    child: Child,
    addr: String,
    /// The line `TLS certificate (...): SHA-256 AB:CD:...` as printed.
    cert_line: String,
}

impl TlsServer {
    fn start(data: &Path) -> TlsServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_armory"))
            .arg("--data")
            .arg(data)
            .args(["serve", "--demo", "--tls", "--listen", "127.0.0.1:0"])
            .env_remove("ARMORY_DATA")
            .env_remove("ARMORY_LISTEN")
            .env_remove("ARMORY_TLS")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut addr, mut cert_line) = (None, None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some((_, rest)) = line.split_once(" on https://") {
                addr = Some(rest.trim_end_matches('/').to_owned());
            }
            if line.starts_with("TLS certificate") {
                cert_line = Some(line);
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        TlsServer {
            child,
            addr: addr.expect("the server printed an https:// address"),
            cert_line: cert_line.expect("the server printed its certificate"),
        }
    }

    fn fingerprint(&self) -> &str {
        self.cert_line.rsplit("SHA-256 ").next().unwrap()
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }

    /// One HTTPS request (Connection: close) from a client that trusts only `cert`; returns the
    /// status line and headers, and the body.
    fn https(&self, cert: &CertificateDer<'static>, request: &str) -> (String, String) {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(&self.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match tls.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A peer that closes without close_notify: what arrived is the response.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("reading the HTTPS response: {e}"),
            }
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_cert(data: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(data.join("tls-cert.pem")).unwrap()
}

#[test]
fn serve_tls_speaks_https_with_a_kept_self_signed_certificate_and_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = TlsServer::start(&data);
    assert!(
        server.cert_line.contains("made now"),
        "{}",
        server.cert_line
    );
    let cert = read_cert(&data);
    // The fingerprint people compare on their phones is the SHA-256 of the certificate.
    let expected: Vec<String> = Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(server.fingerprint(), expected.join(":"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tls-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is private");
    }

    let (head, body) = server.https(
        &cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "ok\n");

    // Signing in over HTTPS sets a session cookie that browsers only send back over HTTPS.
    let sign_in = r#"{"person": "hannah", "password": "demo-hannah-pass"}"#;
    let (head, _) = server.https(
        &cert,
        &format!(
            "POST /api/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{sign_in}",
            sign_in.len()
        ),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let cookie = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase().starts_with("set-cookie:") && l.contains("armory_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie in {head}"));
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for a in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(attrs.contains(&a), "{a} missing from {cookie}");
    }

    // Plain HTTP to the TLS port gets no HTTP answer: the handshake fails and the server hangs up.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(
        !String::from_utf8_lossy(&raw).contains("200 OK"),
        "plain HTTP was answered: {}",
        String::from_utf8_lossy(&raw)
    );
    // ...and the server goes on serving HTTPS.
    let (head, _) = server.https(
        &cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let status = server.stop();
    assert!(status.success(), "{status:?}");
    let first = std::fs::read(data.join("tls-cert.pem")).unwrap();

    // A restart serves the same certificate, so phones that accepted it keep trusting it.
    let mut again = TlsServer::start(&data);
    assert!(!again.cert_line.contains("made now"), "{}", again.cert_line);
    assert_eq!(again.fingerprint(), expected.join(":"));
    assert_eq!(std::fs::read(data.join("tls-cert.pem")).unwrap(), first);
    let (head, _) = again.https(
        &cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let status = again.stop();
    assert!(status.success(), "{status:?}");
    // Graceful shutdown closed the log: it verifies and replays.
    let out = armory(&data, &["verify", "--replay"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn serve_tls_refuses_half_a_certificate_pair_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = armory(&data, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    std::fs::write(data.join("tls-cert.pem"), "not a pair").unwrap();
    let out = armory(&data, &["serve", "--tls", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tls-key.pem does not") && err.contains("remove"),
        "{err}"
    );
}
