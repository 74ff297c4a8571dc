//! How a command fails, as the exit status says it: 2 for a mistake in what was asked (the
//! config, the arguments, a backend not compiled in or without its device), 130 for a run
//! stopped on request, 1 for anything that went wrong while doing it. Commands return these
//! errors; only `cli` turns them into a status, so no command depends on the command line.

use crate::backend::{NotCompiled, Unavailable};
use mnist_config::ConfigError;

/// Training was stopped on request (exit code 130, as for a shell's Ctrl-C).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// A mistake in the command's arguments that clap cannot see (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit status for `error`.
pub fn exit_status(error: &anyhow::Error) -> u8 {
    if error.is::<Interrupted>() {
        return 130;
    }
    let usage = error.is::<ConfigError>()
        || error.is::<NotCompiled>()
        || error.is::<Unavailable>()
        || error.is::<Usage>();
    if usage { 2 } else { 1 }
}
