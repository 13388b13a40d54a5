//! Connections, held on a hostile network (a set's Wi-Fi with strangers on it).
//!
//! Each connection is served as HTTP/1 by hyper with a timer, so a client that has not sent a
//! complete request head within [`Limits::idle`] (a new connection that says nothing or trickles
//! its headers, or a kept-alive one between requests) is closed. A request that takes longer than
//! [`Limits::request`] in all (a body sent a byte a second) is answered 408. At most
//! [`Limits::connections`] are open at once: one over that is closed as soon as it is accepted,
//! counted in `/metrics` and printed (at most once a second), so one laptop's sockets cannot use
//! up the process's file descriptors, whose limit the server raises to fit at start. Shutdown lets
//! requests in flight finish and closes idle connections at once.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};

/// What the server allows each connection and request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A connection closes when no complete request head arrives for this long.
    pub idle: Duration,
    /// A request (its body read and its answer made) taking longer is answered 408.
    pub request: Duration,
    /// Connections open at once; one more is closed when accepted.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(10),
            request: Duration::from_secs(30),
            connections: 4096,
        }
    }
}

/// Raises the soft limit of open files to the hard one (or to what `connections` needs), so
/// the connection cap, not the operating system's default of 1,024, is what holds. Returns the
/// limit in force.
pub fn raise_file_limit(connections: usize) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // The log, its WAL, the auth database, the listener and stdio besides the connections.
    let want = connections as u64 + 64;
    let current = limit.current.unwrap_or(u64::MAX);
    if current < want {
        limit.current = Some(limit.maximum.map_or(want, |max| want.min(max)));
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!("cannot raise the open-file limit from {current}: {e}");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then waits for the
/// connections to finish their requests in flight.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: Limits,
    refused: Arc<AtomicU64>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = std::net::SocketAddr>,
{
    let cap = u32::try_from(limits.connections.max(1)).unwrap_or(u32::MAX);
    let permits = Arc::new(Semaphore::new(cap as usize));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_warned = None::<tokio::time::Instant>;
    loop {
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused.fetch_add(1, Ordering::Relaxed);
            let now = tokio::time::Instant::now();
            if last_warned.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
                last_warned = Some(now);
                tracing::warn!(
                    "{cap} connections are open, the most allowed: closed a new one from {peer:?} ({} so far)",
                    refused.load(Ordering::Relaxed)
                );
            }
            drop(io);
            continue;
        };
        // Each request of the connection knows its peer (sign-in throttling by address).
        let service = TowerToHyperService::new(tower_layer::Layer::layer(
            &axum::Extension(axum::extract::ConnectInfo(peer)),
            router.clone(),
        ));
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.idle)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection from {peer:?}: {e}");
                    }
                }
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every permit back: every connection has finished.
    let _ = permits.acquire_many(cap).await;
    Ok(())
}
