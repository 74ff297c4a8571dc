//! Standard output for a command-line tool: when the reader goes away (`mnist-burn inspect |
//! head`), the program exits quietly as any filter does, instead of panicking in `println!`.
//! A training run instead registers [`on_closed`]: the run stops as an interrupted one (its
//! folder says so and it can be resumed) rather than vanishing with `status = "running"`.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to do instead of exiting when standard output is closed.
static ON_CLOSED: Mutex<Option<Box<dyn Fn() + Send>>> = Mutex::new(None);
/// Standard output was found closed: later writes are dropped.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Inside [`quietly`]: writes are dropped.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Runs `work` with every [`say!`] of every thread dropped: a command that trains internally
/// (`profile`, `throughput`) keeps the runs' own progress lines out of its report.
pub(crate) fn quietly<T>(work: impl FnOnce() -> T) -> T {
    let was_quiet = QUIET.swap(true, Ordering::SeqCst);
    let result = work();
    QUIET.store(was_quiet, Ordering::SeqCst);
    result
}

/// From now on a closed standard output calls `stop` (once) instead of ending the process.
pub fn on_closed(stop: impl Fn() + Send + 'static) {
    *ON_CLOSED.lock().expect("output hook lock") = Some(Box::new(stop));
}

/// Writes `text` to standard output; on a closed pipe, exits with status 0, or calls the
/// [`on_closed`] hook and drops this and every later write.
pub fn write(text: fmt::Arguments) {
    if CLOSED.load(Ordering::SeqCst) || QUIET.load(Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if error.kind() != io::ErrorKind::BrokenPipe {
            panic!("cannot write to standard output: {error}");
        }
        match ON_CLOSED.lock().expect("output hook lock").as_ref() {
            Some(stop) => {
                if !CLOSED.swap(true, Ordering::SeqCst) {
                    stop();
                }
            }
            None => std::process::exit(0),
        }
    }
}

/// `println!` that ends the program quietly when standard output is a closed pipe.
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
