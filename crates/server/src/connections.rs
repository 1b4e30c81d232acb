//! The accept loop: HTTP/1.1 connections driven by hyper with the limits `axum::serve` lacks,
//! so that hostile clients cannot hoard the server.
//!
//! - A connection must send its request head within `header_read_timeout` (hyper's timer).
//! - A connection with no request in flight is closed after `idle_timeout` — from accept for
//!   one that never sends anything, from its last response for a kept-alive one.
//! - At most `max_connections` are open, below the process's file limit. At the cap the
//!   oldest connection with no request in flight is closed to make room (slow and idle
//!   clients are the cheap ones to drop: a browser reconnects); only when every connection is
//!   busy do new ones wait in the listen backlog. So a flood of slow sockets can never keep
//!   `/healthz` or a signed-in call from being served.
//!
//! Body and whole-request timeouts are tower layers in `router` (they concern requests, not
//! connections).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Connection limits (settings `header_read_timeout_seconds`, `idle_timeout_seconds`,
/// `max_connections`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// One open connection, as the registry sees it.
struct Conn {
    /// Requests in flight.
    busy: AtomicUsize,
    /// Bumped whenever the connection turns busy or idle, so stale queue entries are skipped.
    generation: AtomicU64,
    /// Set once its slot is given back (evicted or ended), so it is given back once.
    released: AtomicBool,
    evict: Notify,
    /// When the last request ended (or the connection was accepted).
    idle_since: Mutex<Instant>,
}

/// The open connections and the idle ones in the order they became idle.
pub struct Registry {
    max: usize,
    open: AtomicUsize,
    idle: Mutex<VecDeque<(Weak<Conn>, u64)>>,
    freed: Notify,
    evicted: AtomicU64,
    timed_out: AtomicU64,
}

impl Registry {
    pub fn new(max: usize) -> Arc<Registry> {
        Arc::new(Registry {
            max: max.max(1),
            open: AtomicUsize::new(0),
            idle: Mutex::new(VecDeque::new()),
            freed: Notify::new(),
            evicted: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
        })
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections closed to make room, since start.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Connections closed for sending their request head too slowly or for idling, since start.
    pub fn timed_out(&self) -> u64 {
        self.timed_out.load(Ordering::Relaxed)
    }

    fn queue_idle(&self, conn: &Arc<Conn>) {
        let generation = conn.generation.load(Ordering::Acquire);
        let mut idle = self.idle.lock().expect("idle queue");
        idle.push_back((Arc::downgrade(conn), generation));
        // Kept-alive connections queue an entry per request: drop the stale ones now and then.
        if idle.len() > 4 * self.max {
            idle.retain(|(w, g)| {
                w.upgrade()
                    .is_some_and(|c| c.generation.load(Ordering::Acquire) == *g && !c.released.load(Ordering::Acquire))
            });
        }
    }

    /// Close the connection idle the longest, giving its slot back at once; false when every
    /// connection is busy.
    fn evict_one(&self) -> bool {
        loop {
            let Some((weak, generation)) = self.idle.lock().expect("idle queue").pop_front() else { return false };
            let Some(conn) = weak.upgrade() else { continue };
            let still_idle =
                conn.busy.load(Ordering::Acquire) == 0 && conn.generation.load(Ordering::Acquire) == generation;
            if still_idle && self.release(&conn) {
                self.evicted.fetch_add(1, Ordering::Relaxed);
                conn.evict.notify_one();
                return true;
            }
        }
    }

    fn release(&self, conn: &Conn) -> bool {
        if conn.released.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.freed.notify_one();
        true
    }

    /// Wait for a slot: make room by closing an idle connection, or wait for one to end.
    async fn admit(&self) {
        loop {
            let freed = self.freed.notified();
            if self.open.load(Ordering::Acquire) < self.max || self.evict_one() {
                self.open.fetch_add(1, Ordering::AcqRel);
                return;
            }
            freed.await;
        }
    }
}

/// Marks its connection busy while a request is served.
struct InFlight {
    conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl InFlight {
    fn begin(conn: &Arc<Conn>, registry: &Arc<Registry>) -> InFlight {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.generation.fetch_add(1, Ordering::AcqRel);
        InFlight { conn: conn.clone(), registry: registry.clone() }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.conn.idle_since.lock().expect("idle clock") = Instant::now();
        if self.conn.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.conn.generation.fetch_add(1, Ordering::AcqRel);
            self.registry.queue_idle(&self.conn);
            // An acceptor waiting at the cap may now close this one.
            self.registry.freed.notify_one();
        }
    }
}

/// Serve `service` on `listener` until `shutdown` resolves, then let in-flight requests finish.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    registry: Arc<Registry>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = registry.admit() => {}
        }
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => { registry.open.fetch_sub(1, Ordering::AcqRel); break }
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    registry.open.fetch_sub(1, Ordering::AcqRel);
                    // Out of descriptors or a connection reset before accept: never fatal.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            released: AtomicBool::new(false),
            evict: Notify::new(),
            idle_since: Mutex::new(Instant::now()),
        });
        registry.queue_idle(&conn);
        tokio::spawn(connection(stream, peer, service.clone(), limits, conn, registry.clone(), stop_rx.clone()));
    }
    // Stop accepting; tell connections to finish their request and close, then wait a while.
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + Duration::from_secs(30);
    while registry.open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn connection<S>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    service: S,
    limits: ConnectionLimits,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    S: tower::Service<Request, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (for_service, for_registry) = (conn.clone(), registry.clone());
    let hyper_service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let in_flight = InFlight::begin(&for_service, &for_registry);
        // The peer address feeds the per-client limits.
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut service = service.clone();
        async move {
            let response = tower::Service::call(&mut service, req.map(axum::body::Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let served = builder.serve_connection(TokioIo::new(stream), hyper_service);
    tokio::pin!(served);
    let mut stopping = false;
    loop {
        let idle_deadline = *conn.idle_since.lock().expect("idle clock") + limits.idle_timeout;
        tokio::select! {
            result = served.as_mut() => {
                if let Err(e) = result {
                    if e.is_timeout() {
                        registry.timed_out.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            // Closed to make room: it had no request in flight, so dropping it loses nothing.
            _ = conn.evict.notified() => break,
            _ = tokio::time::sleep_until(idle_deadline) => {
                let idle_since = *conn.idle_since.lock().expect("idle clock");
                if conn.busy.load(Ordering::Acquire) == 0 && idle_since + limits.idle_timeout <= Instant::now() {
                    registry.timed_out.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_err() || conn.busy.load(Ordering::Acquire) == 0 {
                    break;
                }
                served.as_mut().graceful_shutdown();
            }
        }
    }
    registry.release(&conn);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Arc<Conn> {
        Arc::new(Conn {
            busy: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            released: AtomicBool::new(false),
            evict: Notify::new(),
            idle_since: Mutex::new(Instant::now()),
        })
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_makes_room_and_busy_ones_never_do() {
        let r = Registry::new(2);
        let (a, b) = (conn(), conn());
        for c in [&a, &b] {
            r.admit().await;
            r.queue_idle(c);
        }
        assert_eq!(r.open(), 2);
        // a turns busy: only b may be closed for a third.
        let busy = InFlight::begin(&a, &r);
        r.admit().await;
        assert!(b.released.load(Ordering::Acquire) && !a.released.load(Ordering::Acquire));
        assert_eq!((r.open(), r.evicted()), (2, 1));
        // Everyone busy (a, and the new one not yet idle): a fourth waits until a slot frees.
        let waiting = tokio::spawn({
            let r = r.clone();
            async move { r.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "must wait while every connection is busy");
        drop(busy); // a is idle again, and queued: it can be closed now
        tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("admitted").unwrap();
        assert!(r.open() <= 2);
    }
}
