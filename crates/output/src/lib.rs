//! Standard output for a command-line tool: when the reader goes away (`mnist-burn inspect |
//! head`), the program exits quietly as any filter does, instead of panicking in `println!`.
//! Any other failure to write (a full disk) is one line on standard error and exit status 1.
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
pub fn quietly<T>(work: impl FnOnce() -> T) -> T {
    let was_quiet = QUIET.swap(true, Ordering::SeqCst);
    let result = work();
    QUIET.store(was_quiet, Ordering::SeqCst);
    result
}

/// From now on a closed standard output calls `stop` (once) instead of ending the process.
pub fn on_closed(stop: impl Fn() + Send + 'static) {
    *ON_CLOSED.lock().expect("output hook lock") = Some(Box::new(stop));
}

/// Writes `text` to standard output. When that fails: on a closed pipe, exits with status 0
/// (as any filter does), or calls the [`on_closed`] hook; on any other failure (a full disk,
/// an I/O error), says so in one line on standard error, then exits with status 1 or calls
/// the hook. After the hook, this and every later write are dropped.
pub fn write(text: fmt::Arguments) {
    if CLOSED.load(Ordering::SeqCst) || QUIET.load(Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout().lock();
    let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) else {
        return;
    };
    let closed = error.kind() == io::ErrorKind::BrokenPipe;
    if !closed {
        write_error(format_args!(
            "error: cannot write to standard output: {error}\n"
        ));
    }
    match ON_CLOSED.lock().expect("output hook lock").as_ref() {
        Some(stop) => {
            if !CLOSED.swap(true, Ordering::SeqCst) {
                stop();
            }
        }
        None => std::process::exit(if closed { 0 } else { 1 }),
    }
}

/// `println!` that ends the program quietly when standard output is a closed pipe.
#[macro_export]
macro_rules! say {
    () => {
        $crate::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes `text` to standard error; a failure there is ignored, as nothing is left to tell it.
pub fn write_error(text: fmt::Arguments) {
    let _ = io::stderr().write_fmt(text);
}

/// `eprintln!` that never panics (a closed or full standard error is ignored).
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::write_error(format_args!("{}\n", format_args!($($arg)*)))
    };
}
