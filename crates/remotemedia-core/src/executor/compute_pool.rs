//! The threads that run [`NodeInstance::blocking`](crate::NodeInstance::blocking) nodes: as many as
//! the engine's workers ([`crate::threads::engine_threads`]), started on first use, shared by every
//! pipeline of the process. Long node calls (model inference) run here instead of on the async
//! workers, so light tasks (other sessions, the server) never wait behind them; the pool being
//! bounded keeps the process within its thread cap (a Ray actor's CPU reservation) however many
//! sessions call at once: calls beyond the pool's size queue. Jobs never wait on anything else,
//! so the queue always drains.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// The name of the pool's threads.
pub const COMPUTE_THREAD_NAME: &str = "rm-compute";

struct Pool {
    jobs: Mutex<Sender<Job>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = crate::threads::engine_threads().unwrap_or(1).max(1);
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            // A thread that cannot start leaves the others (at least one is needed: see `run`).
            let _ = std::thread::Builder::new()
                .name(COMPUTE_THREAD_NAME.into())
                .spawn(move || work(&queue));
        }
        Pool {
            jobs: Mutex::new(jobs),
        }
    })
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            // Jobs catch their own panics (see `run`).
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Runs `f` on the pool and waits for its result without blocking the caller's worker. A panic
/// in `f` is resumed in the caller.
pub(crate) async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    let sent = match pool().jobs.lock() {
        Ok(jobs) => jobs.send(job),
        Err(poisoned) => poisoned.into_inner().send(job),
    };
    if let Err(unsent) = sent {
        // No pool thread could start: run it here rather than never.
        (unsent.0)();
    }
    match result.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // Every job sent is run, and runs its `done.send`.
        Err(_) => std::panic::resume_unwind(Box::new("the compute pool dropped a job")),
    }
}
