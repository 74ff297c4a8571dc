//! The accept loop's bookkeeping: which connections are open, which of them are idle (no
//! request in flight: still sending headers, or kept alive between requests), and, when the
//! cap is reached, the oldest idle one closed to make room, so clients that hold connections
//! open without asking anything cannot crowd out those that do.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Connections held open at once when the file-descriptor limit says nothing (not Unix).
const FALLBACK_CAP: usize = 8192;
/// File descriptors kept for everything but connections (run folders, models, the listener).
const RESERVED_DESCRIPTORS: u64 = 64;

/// The most connections to hold open: what this process's file-descriptor limit allows
/// (raised to its hard limit first, as servers do), less a reserve.
pub fn default_cap() -> usize {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        // An unlimited hard limit still has the kernel's own bound (nr_open, 1M by default).
        let target = limit.maximum.unwrap_or(1 << 20);
        if limit.current.is_some_and(|current| current < target) {
            limit.current = Some(target);
            // Where it cannot be raised, the current limit stands.
            let _ = setrlimit(Resource::Nofile, limit);
        }
        if let Some(current) = getrlimit(Resource::Nofile).current {
            let usable = current.saturating_sub(RESERVED_DESCRIPTORS).max(16);
            return usize::try_from(usable).unwrap_or(usize::MAX);
        }
    }
    FALLBACK_CAP
}

/// The open connections, oldest first.
pub struct Connections {
    cap: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    next: u64,
    by_age: BTreeMap<u64, Handle>,
}

struct Handle {
    in_flight: Arc<AtomicUsize>,
    close: oneshot::Sender<()>,
}

/// One admitted connection: count its requests while they run; it leaves the books when
/// dropped.
pub struct Admitted {
    id: u64,
    connections: Arc<Connections>,
    pub in_flight: Arc<AtomicUsize>,
    /// Fires when the connection must close to make room for a newer one.
    pub evicted: oneshot::Receiver<()>,
}

impl Connections {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            open: Mutex::new(Open::default()),
        })
    }

    /// Admits a new connection, closing the oldest idle one first when at the cap; `None`
    /// when every open connection has a request in flight (the new one is then refused).
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut open = self.open.lock().expect("connections lock");
        if open.by_age.len() >= self.cap {
            let oldest_idle = open
                .by_age
                .iter()
                .find(|(_, handle)| handle.in_flight.load(Ordering::SeqCst) == 0)
                .map(|(&id, _)| id)?;
            let handle = open.by_age.remove(&oldest_idle).expect("just found");
            // A connection that ended meanwhile has no receiver left: nothing to close.
            let _ = handle.close.send(());
        }
        let id = open.next;
        open.next += 1;
        let (close, evicted) = oneshot::channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        open.by_age.insert(
            id,
            Handle {
                in_flight: in_flight.clone(),
                close,
            },
        );
        Some(Admitted {
            id,
            connections: self.clone(),
            in_flight,
            evicted,
        })
    }

    fn forget(&self, id: u64) {
        self.open
            .lock()
            .expect("connections lock")
            .by_age
            .remove(&id);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.forget(self.id);
    }
}

/// Counts one request in flight on a connection while it lives.
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub fn start(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room_and_busy_ones_stay() {
        let connections = Connections::new(2);
        let mut first = connections.admit().unwrap();
        let request = InFlight::start(&first.in_flight);
        let mut second = connections.admit().unwrap();
        let _third = connections.admit().expect("the idle second makes room");
        assert!(
            second.evicted.try_recv().is_ok(),
            "the oldest idle is closed"
        );
        assert!(
            first.evicted.try_recv().is_err(),
            "a busy one is never closed"
        );
        let _fourth = connections.admit().expect("the idle third makes room");
        drop(request);
        drop(first);
        assert_eq!(connections.open.lock().unwrap().by_age.len(), 1);
    }

    #[test]
    fn when_every_connection_is_busy_a_new_one_is_refused() {
        let connections = Connections::new(1);
        let first = connections.admit().unwrap();
        let _request = InFlight::start(&first.in_flight);
        assert!(connections.admit().is_none());
    }
}
