//! HTTPS for the set node (`armory serve --tls`): phone cameras only scan in a secure context, and
//! a set's LAN has no public name, so the node makes a self-signed certificate once and prints its
//! SHA-256 fingerprint for people to compare on their phones. An operator with a real certificate
//! passes it instead.
//!
//! rustls runs on the `ring` provider (chosen explicitly, so another crate enabling aws-lc-rs can
//! never change or break it). Handshakes run in their own tasks ([`TlsListener`]), so one slow or
//! silent client never holds up the others' connections.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// The generated certificate, in the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// Its private key, in the data directory (mode 0600).
pub const KEY_FILE: &str = "tls-key.pem";

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {why}")]
    Cert { path: PathBuf, why: String },
    #[error(
        "cannot read the TLS private key {path}: {why} (it must be a PEM file with one PKCS#8, PKCS#1 or SEC1 key)"
    )]
    Key { path: PathBuf, why: String },
    #[error(
        "{present} exists but {missing} does not: restore it, or remove {present} to generate a new self-signed certificate"
    )]
    HalfPair { present: PathBuf, missing: PathBuf },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the TLS certificate and key do not work together: {0}")]
    Config(String),
}

/// A certificate chain and its key, ready to serve.
pub struct Certificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Where the certificate is.
    pub cert_path: PathBuf,
    /// True if it was generated just now.
    pub generated: bool,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("cert_path", &self.cert_path)
            .field("fingerprint", &self.fingerprint())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Certificate {
    /// SHA-256 of the leaf certificate's DER, as browsers show it (`AB:CD:...`).
    pub fn fingerprint(&self) -> String {
        let der: &[u8] = self.chain.first().map_or(&[], |c| c.as_ref());
        Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// A rustls server configuration (TLS 1.2 and 1.3, ALPN `http/1.1`) on the ring provider.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Reads a certificate chain and its key from PEM files.
pub fn load(cert: &Path, key: &Path) -> Result<Certificate, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            path: cert.to_owned(),
            why: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Cert {
            path: cert.to_owned(),
            why: "no CERTIFICATE block in it".into(),
        });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_owned(),
        why: e.to_string(),
    })?;
    Ok(Certificate {
        chain,
        key: key_der,
        cert_path: cert.to_owned(),
        generated: false,
    })
}

/// The self-signed certificate kept in `dir` ([`CERT_FILE`], [`KEY_FILE`]), generated on first use
/// for `localhost`, `127.0.0.1`, this machine's hostname and `listen` (unless unspecified). It is
/// kept afterwards, so phones that accepted it once keep trusting it; remove both files to make a
/// new one (e.g. after moving the node to another address).
pub fn load_or_generate(dir: &Path, listen: IpAddr) -> Result<Certificate, TlsError> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => return load(&cert_path, &key_path),
        (true, false) => {
            return Err(TlsError::HalfPair {
                present: cert_path,
                missing: key_path,
            });
        }
        (false, true) => {
            return Err(TlsError::HalfPair {
                present: key_path,
                missing: cert_path,
            });
        }
        (false, false) => {}
    }
    let names = subject_alt_names(listen, hostname().as_deref());
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Armory set node");
    let key = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    // The key first, private from its first byte; the certificate last, so a crash in between
    // leaves a half pair that is reported, never a certificate without its key silently replaced.
    write_new(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_new(&cert_path, cert.pem().as_bytes(), 0o644)?;
    let mut loaded = load(&cert_path, &key_path)?;
    loaded.generated = true;
    Ok(loaded)
}

/// The names a generated certificate covers.
fn subject_alt_names(listen: IpAddr, hostname: Option<&str>) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if let Some(h) = hostname {
        let valid = !h.is_empty()
            && h.len() <= 253
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if valid && !names.iter().any(|n| n.eq_ignore_ascii_case(h)) {
            names.push(h.to_owned());
        }
    }
    if !listen.is_unspecified() {
        let ip = listen.to_string();
        if !names.contains(&ip) {
            names.push(ip);
        }
    }
    names
}

/// This machine's hostname, if the system says it.
fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let wrap = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut f = options.open(path).map_err(wrap)?;
    f.write_all(bytes).map_err(wrap)?;
    f.sync_all().map_err(wrap)
}

/// A listener that hands axum finished TLS connections. A background task accepts TCP connections
/// and runs each handshake in its own task (bounded by [`HANDSHAKE_TIMEOUT`]); failed handshakes
/// (plain HTTP to the TLS port, an untrusting phone) are dropped there. Dropping the listener
/// stops the accepting.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(accept_loop(listener, acceptor, tx));
        Ok(TlsListener {
            ready,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // As axum's own TCP listener: a failed connection is the client's problem; any
                // other error (out of file descriptors) gets a pause before trying again.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                ) {
                    tracing::error!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task is gone (only when the listener is dropped): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_localhost_the_hostname_and_a_specific_listen_ip() {
        let any: IpAddr = [0, 0, 0, 0].into();
        assert_eq!(
            subject_alt_names(any, Some("armory-laptop")),
            ["localhost", "127.0.0.1", "armory-laptop"]
        );
        let lan: IpAddr = [192, 168, 1, 20].into();
        assert_eq!(
            subject_alt_names(lan, Some("bad name!")),
            ["localhost", "127.0.0.1", "192.168.1.20"]
        );
    }
}
