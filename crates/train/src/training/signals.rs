//! Ctrl-C and SIGTERM stop a run at the end of the current step; a second one quits at once.
//!
//! Burn's dashboard puts the terminal into raw mode, where Ctrl-C is a key press that Burn
//! ignores instead of SIGINT. [`signal_keys_under_dashboard`] turns the terminal's signal keys
//! back on under the dashboard, so that Ctrl-C stops a run there exactly as it does anywhere
//! else, and the quit-at-once path puts the terminal back before it exits.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use burn::train::Interrupter;

/// Whether Burn's dashboard has taken the terminal (raw mode, alternate screen).
static DASHBOARD_SHOWN: AtomicBool = AtomicBool::new(false);

/// An interrupter that the first SIGINT or SIGTERM stops (at the end of the current step);
/// a second signal exits at once with status 130.
pub fn stop_on_signals() -> anyhow::Result<Interrupter> {
    let interrupter = Interrupter::new();
    let stopper = interrupter.clone();
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            restore_terminal();
            std::process::exit(130);
        }
        if !DASHBOARD_SHOWN.load(Ordering::SeqCst) {
            tell!("Stopping after the current step (signal again to quit at once)...");
        }
        stopper.stop(Some("interrupted by a signal"));
    })
    .context("cannot install the signal handler")?;
    Ok(interrupter)
}

/// Called right after Burn's dashboard is created: waits (briefly) for its thread to put the
/// terminal into raw mode, then turns the signal keys (ISIG) back on, so Ctrl-C raises SIGINT.
#[cfg(unix)]
pub fn signal_keys_under_dashboard() {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::time::{Duration, Instant};

    DASHBOARD_SHOWN.store(true, Ordering::SeqCst);
    let Ok(tty) = std::fs::File::open("/dev/tty") else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Ok(mut modes) = tcgetattr(&tty) else {
            return;
        };
        // Raw mode clears ICANON along with ISIG; until then the dashboard is not up yet.
        if !modes.local_modes.contains(LocalModes::ICANON) {
            modes.local_modes.insert(LocalModes::ISIG);
            let _ = tcsetattr(&tty, OptionalActions::Now, &modes);
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// On Windows the console delivers Ctrl-C in raw mode as a key event only; `q` in the
/// dashboard stops the run there.
#[cfg(not(unix))]
pub fn signal_keys_under_dashboard() {
    DASHBOARD_SHOWN.store(true, Ordering::SeqCst);
}

/// Leaves the dashboard's raw mode and alternate screen, for an exit that skips Burn's own
/// clean-up.
fn restore_terminal() {
    if DASHBOARD_SHOWN.load(Ordering::SeqCst) {
        let _ = crossterm::terminal::disable_raw_mode();
        let _ = crossterm::execute!(
            std::io::stdout(),
            crossterm::event::DisableMouseCapture,
            crossterm::terminal::LeaveAlternateScreen,
            crossterm::cursor::Show
        );
    }
}
