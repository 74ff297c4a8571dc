//! `mnist-burn train`: one run from a config, or the rest of an interrupted one.

use std::path::{Path, PathBuf};

use mnist_train::{
    BackendKind, ExperimentConfig, Interrupted, ProgressView, Resume, RunDir, RunEnd, RunRequest,
    TrainingLoop,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Experiment config (TOML; default configs/default.toml); keys it leaves out take their
    /// defaults.
    #[arg(long, short, conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Continue an interrupted run in its folder, from its last complete epoch, on the
    /// backend it ran on (unless --backend names another).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "force"])]
    resume: Option<PathBuf>,
    /// Backend to train on; must be compiled in (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
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
    /// Train on N devices at once (Burn's multi-device strategy): the same as --set devices=N.
    #[arg(long, value_name = "N")]
    devices: Option<usize>,
    /// Print one line per epoch even in a terminal, instead of Burn's dashboard.
    #[arg(long)]
    plain: bool,
    /// Read the running loss and accuracy back from the device every N steps (default:
    /// every step on CPU backends, about ten times a second on GPU backends).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    sync_every: Option<u64>,
    /// Print how many times each epoch read values back from the device.
    #[arg(long)]
    debug_syncs: bool,
    /// Train with Burn's own single-device loop, which hands every step to its metric
    /// thread, instead of this program's, which hands several at once (same numbers; for
    /// comparison).
    #[arg(long)]
    burn_loop: bool,
}

pub fn exec(mut args: Args) -> anyhow::Result<()> {
    if let Some(devices) = args.devices {
        args.overrides.push(format!("devices={devices}"));
    }
    let interrupter = mnist_train::stop_on_signals()?;
    let stopper = interrupter.clone();
    mnist_runs::output::on_closed(move || stopper.stop(Some("standard output failed")));
    let progress = if args.plain {
        ProgressView::Plain
    } else {
        ProgressView::Auto
    };
    let request = |config, config_path, name, backend, run_dir, completed| RunRequest {
        config,
        config_path,
        name,
        backend,
        run_dir,
        progress,
        completed,
        interrupter: interrupter.clone(),
        sync_every: args.sync_every.map(|n| n as usize),
        debug_syncs: args.debug_syncs,
        training_loop: if args.burn_loop {
            TrainingLoop::Burn
        } else {
            TrainingLoop::Batched
        },
    };
    let outcome = match &args.resume {
        Some(run_dir) => {
            let resume = Resume::read(run_dir, &args.overrides, args.backend)?;
            say!("{}", resume.describe(run_dir));
            mnist_train::train(&request(
                &resume.config,
                &run_dir.join(mnist_runs::CONFIG_FILE),
                &resume.record.name,
                resume.backend,
                RunDir::Locked(&resume.lock),
                resume.completed.clone(),
            ))?
        }
        None => {
            let config_path = args
                .config
                .clone()
                .unwrap_or_else(|| PathBuf::from("configs/default.toml"));
            let config = ExperimentConfig::load(&config_path, &args.overrides)?;
            mnist_train::train(&request(
                &config,
                &config_path,
                &config_name(&config_path),
                BackendKind::or_preferred(args.backend)?,
                RunDir::New {
                    out: args.out.as_deref(),
                    force: args.force,
                },
                Vec::new(),
            ))?
        }
    };
    match outcome.end {
        RunEnd::Finished => {
            if let Some(reason) = &outcome.stop_reason {
                say!("Stopped: {reason}");
            }
            let kept = outcome
                .epochs
                .iter()
                .find(|row| row.epoch == outcome.selected);
            if let (Some(last), Some(kept)) = (outcome.epochs.last(), kept) {
                let which = if kept.epoch == last.epoch {
                    String::new()
                } else {
                    format!(" (model.bpk: epoch {}, the best on validation)", kept.epoch)
                };
                let valid = kept.valid_acc.map_or(String::new(), |acc| {
                    format!("validation accuracy {acc:.2}%, ")
                });
                say!(
                    "Finished {} epochs in {:.1} s: {valid}test accuracy {:.2}%, test loss {}{which}",
                    last.epoch,
                    outcome.seconds,
                    kept.test_acc,
                    mnist_runs::readable(kept.test_loss)
                );
            }
            say!("Run folder: {}", outcome.run_dir.display());
            Ok(())
        }
        RunEnd::Interrupted => {
            say!(
                "Interrupted after {} complete epochs; metrics, checkpoints and the model so far \
                 are in {}",
                outcome.epochs.len(),
                outcome.run_dir.display()
            );
            say!(
                "Resume with: mnist-burn train --resume {}",
                outcome.run_dir.display()
            );
            Err(Interrupted.into())
        }
    }
}

/// The config file's stem: `configs/seed.toml` names runs `seed-…`.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
