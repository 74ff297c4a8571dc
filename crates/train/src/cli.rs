//! The top-level parser and dispatch, and the one place that turns a failure into one line on
//! stderr and an exit code (2 for a mistake in the config or the arguments, 130 for an
//! interrupted run, 1 otherwise). Each command lives in its own file under `commands/`.

use std::process::ExitCode;

use clap::Parser;

use crate::backend::{BackendKind, NotCompiled, Unavailable};
use crate::commands::{self, Command};
use crate::config::ConfigError;

/// Multinomial logistic regression on MNIST, trained with Burn.
#[derive(Debug, Parser)]
#[command(name = "mnist-burn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::exec(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<Interrupted>() => ExitCode::from(130),
        Err(error) => {
            eprintln!("error: {error:#}");
            if is_usage_error(&error) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Mistakes in what the user asked for (exit code 2, like clap's own usage errors), as
/// opposed to failures while doing it (exit code 1).
fn is_usage_error(error: &anyhow::Error) -> bool {
    error.is::<ConfigError>()
        || error.is::<NotCompiled>()
        || error.is::<Unavailable>()
        || error.is::<Usage>()
}

/// Training was stopped on request (exit code 130, as for a shell's Ctrl-C).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// A mistake in the command's arguments that clap cannot see (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The backend a command runs on: the one named, else the first compiled in.
pub fn backend_or_preferred(named: Option<BackendKind>) -> anyhow::Result<BackendKind> {
    match named {
        Some(backend) => Ok(backend),
        None => BackendKind::preferred()
            .ok_or_else(|| anyhow::anyhow!("this binary was built without any backend")),
    }
}
