//! The top-level parser and dispatch, and the one place that turns a failure into one line on
//! stderr and an exit code ([`mnist_train::exit_status`]). Each command lives in its own file under
//! `commands/`.

use std::process::ExitCode;

use clap::Parser;

use crate::commands::{self, Command};

/// Train a handwritten-digit classifier (logistic regression on MNIST) with Burn, then look
/// at it, serve it, sweep it and export it.
#[derive(Debug, Parser)]
#[command(name = "mnist-burn", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::exec(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let status = mnist_train::exit_status(&error);
            if status != 130 {
                tell!("error: {error:#}");
            }
            ExitCode::from(status)
        }
    }
}
