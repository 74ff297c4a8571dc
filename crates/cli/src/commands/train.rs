//! `mnist-burn train`: one run from a config, or the rest of an interrupted one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mnist_runs::EpochMetrics;
use mnist_train::sweep::TrialPruner;
use mnist_train::{
    BackendKind, EpochGate, ExperimentConfig, Interrupted, Interrupter, ProgressView, Resume,
    RunDir, RunEnd, RunOutcome, RunRequest, TrainingLoop, Usage,
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
    /// Stop at the end of an epoch where the pruning rule of this sweep plan (`plan.toml`)
    /// says so, judged against the trials before this one; the run folder must be one of its
    /// trials. Sweeps pass it to their trials.
    #[arg(long, value_name = "PLAN")]
    prune_with: Option<PathBuf>,
}

pub fn exec(mut args: Args) -> anyhow::Result<()> {
    if let Some(devices) = args.devices {
        args.overrides.push(format!("devices={devices}"));
    }
    let interrupter = mnist_train::stop_on_signals()?;
    let stopper = interrupter.clone();
    mnist_output::on_closed(move || stopper.stop(Some("standard output failed")));
    let stopping = interrupter.clone();
    let how = How {
        progress: view(args.plain),
        interrupter,
        sync_every: args.sync_every.map(|n| n as usize),
        debug_syncs: args.debug_syncs,
        training_loop: training_loop(args.burn_loop),
        epoch_gate: pruning(&args, Box::new(move || stopping.should_stop()))?,
    };
    let outcome = match &args.resume {
        Some(run_dir) => resume(run_dir, &args, how)?,
        None => start(&args, how)?,
    };
    say!("{}", outcome.report());
    match outcome.end {
        RunEnd::Interrupted => Err(Interrupted.into()),
        RunEnd::Finished | RunEnd::Pruned => Ok(()),
    }
}

/// A new run of `--config` (default `configs/default.toml`).
fn start(args: &Args, how: How) -> anyhow::Result<RunOutcome> {
    let config_path = (args.config.clone()).unwrap_or_else(|| "configs/default.toml".into());
    let config = ExperimentConfig::load(&config_path, &args.overrides)?;
    let backend = BackendKind::or_preferred(args.backend)?;
    let name = config_name(&config_path);
    let folder = RunDir::New {
        out: args.out.as_deref(),
        force: args.force,
    };
    let request = how.request(&config, &config_path, &name, backend, folder, Vec::new());
    mnist_train::train(&request)
}

/// The rest of the interrupted run in `run_dir`, which stays locked while it trains.
fn resume(run_dir: &Path, args: &Args, how: How) -> anyhow::Result<RunOutcome> {
    let resume = Resume::read(run_dir, &args.overrides, args.backend)?;
    say!("{}", resume.describe(run_dir));
    let config_path = run_dir.join(mnist_runs::CONFIG_FILE);
    let request = how.request(
        &resume.config,
        &config_path,
        &resume.record.name,
        resume.backend,
        RunDir::Locked(&resume.lock),
        resume.completed.clone(),
    );
    mnist_train::train(&request)
}

/// How this command trains, whichever run it trains.
struct How {
    progress: ProgressView,
    interrupter: Interrupter,
    sync_every: Option<usize>,
    debug_syncs: bool,
    training_loop: TrainingLoop,
    epoch_gate: Option<EpochGate>,
}

impl How {
    /// The request for the run of `config` in `run_dir`.
    fn request<'a>(
        self,
        config: &'a ExperimentConfig,
        config_path: &'a Path,
        name: &'a str,
        backend: BackendKind,
        run_dir: RunDir<'a>,
        completed: Vec<EpochMetrics>,
    ) -> RunRequest<'a> {
        RunRequest {
            config,
            config_path,
            name,
            backend,
            run_dir,
            completed,
            progress: self.progress,
            interrupter: self.interrupter,
            sync_every: self.sync_every,
            debug_syncs: self.debug_syncs,
            training_loop: self.training_loop,
            epoch_gate: self.epoch_gate,
        }
    }
}

/// One line per epoch (`--plain`), or Burn's dashboard in a terminal.
fn view(plain: bool) -> ProgressView {
    if plain {
        ProgressView::Plain
    } else {
        ProgressView::Auto
    }
}

/// Burn's own single-device loop (`--burn-loop`), or this program's.
fn training_loop(burn_loop: bool) -> TrainingLoop {
    if burn_loop {
        TrainingLoop::Burn
    } else {
        TrainingLoop::Batched
    }
}

/// The epoch gate of a sweep's trial (`--prune-with`): its folder is `--out`, or `--resume`'s.
fn pruning(
    args: &Args,
    stopping: Box<dyn Fn() -> bool + Send + Sync>,
) -> anyhow::Result<Option<EpochGate>> {
    let Some(plan) = &args.prune_with else {
        return Ok(None);
    };
    let Some(folder) = args.resume.as_deref().or(args.out.as_deref()) else {
        return Err(
            Usage("--prune-with needs the trial's folder: --out or --resume".into()).into(),
        );
    };
    let pruner = TrialPruner::of_trial(plan, folder, stopping)?;
    Ok(pruner.map(|pruner| Arc::new(move |epoch| pruner.after_epoch(epoch)) as EpochGate))
}

/// The config file's stem: `configs/seed.toml` names runs `seed-…`.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}
