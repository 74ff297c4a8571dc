//! `mnist-burn sweep`: many trials of a config from one sweep file, in parallel, resumable,
//! ranked at the end; or the commands to run them on a cluster.

use std::path::PathBuf;

use mnist_runs::{FolderLock, claim_run_dir};
use mnist_train::sweep::{ClusterJob, RunnerOptions, SlurmOptions, SweepPlan, run_pending};
use mnist_train::{BackendKind, Interrupted, Usage, sweep};

/// What `--emit` writes instead of running the trials here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// `commands.sh`: one shell command per trial.
    Commands,
    /// `commands.sh` and `sweep.sbatch`, a Slurm array job with one task per trial.
    Slurm,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sweep file (TOML): a base config, and the keys to vary (see configs/sweeps/).
    #[arg(required_unless_present = "resume", conflicts_with = "resume")]
    sweep: Option<PathBuf>,
    /// Finish an interrupted sweep: resume interrupted trials, start those never started,
    /// skip finished ones, and write the results.
    #[arg(long, value_name = "SWEEP_DIR")]
    resume: Option<PathBuf>,
    /// Trials at a time (default: one per CPU core; one on a GPU backend).
    #[arg(long, short, value_parser = clap::value_parser!(u64).range(1..=64))]
    jobs: Option<u64>,
    /// Backend every trial trains on (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// The sweep folder (default: runs/<sweep name>-<timestamp>).
    #[arg(long, conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// CPU threads each trial uses (default: the cores shared among --jobs; 2 a trial on a
    /// cluster, Slurm's --cpus-per-task).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Write the commands of the trials left to run for a cluster instead of running them
    /// (with --resume: of those still left); `--resume` then collects what they wrote.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// An sbatch option of your site for the Slurm job (repeatable), e.g.
    /// --slurm-arg=--partition=short --slurm-arg=--time=00:30:00.
    #[arg(long = "slurm-arg", value_name = "OPTION", allow_hyphen_values = true)]
    slurm_args: Vec<String>,
    /// Seconds before a task's time limit at which Slurm warns it: the trial stops at the end
    /// of its step and the task requeues itself, to resume where it stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(10..=3600))]
    requeue_grace: u32,
    /// A task stopped at its time limit stays interrupted instead of requeueing itself.
    #[arg(long)]
    no_requeue: bool,
    /// Tasks of the array running at once (Slurm's --array=1-N%K).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=10000))]
    max_running: Option<u64>,
    /// With --resume: run nothing, only write the results of the trials as they stand (what
    /// the Slurm array's collecting job runs).
    #[arg(long, requires = "resume", conflicts_with = "emit")]
    collect_only: bool,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    // The sweep folder is locked while this process runs its trials: a sweep resumed twice
    // is refused (each trial also locks its own run folder).
    let (plan, lock) = open(&args)?;
    let sweep_dir = lock.path();
    if let Some(emit) = args.emit {
        let job = cluster_job(&args, emit)?;
        say!("{}", job.write(&plan, sweep_dir)?.report(sweep_dir));
        return Ok(());
    }
    if args.collect_only {
        return sweep::report(&plan, sweep_dir);
    }
    let interrupted = run_pending(&plan, sweep_dir, &runner_options(&args))?;
    sweep::report(&plan, sweep_dir)?;
    if interrupted {
        tell!(
            "Sweep interrupted; finish it with: mnist-burn sweep --resume {}",
            sweep_dir.display()
        );
        return Err(Interrupted.into());
    }
    Ok(())
}

/// The job file `--emit` writes, checked.
fn cluster_job(args: &Args, emit: Emit) -> anyhow::Result<ClusterJob> {
    let job = ClusterJob {
        binary: std::env::current_exe()?,
        backend: args.backend,
        threads: args.threads.map_or(2, |threads| threads as usize),
        slurm_args: args.slurm_args.clone(),
        slurm: (emit == Emit::Slurm).then_some(SlurmOptions {
            requeue_grace: (!args.no_requeue).then_some(args.requeue_grace),
            max_running: args.max_running.map(|k| k as usize),
        }),
    };
    job.check().map_err(Usage)?;
    Ok(job)
}

/// Trials at once (`--jobs`; default one on a GPU, else one a core) and threads for each.
fn runner_options(args: &Args) -> RunnerOptions {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let on_device = args.backend.is_some_and(BackendKind::is_device);
    let jobs = args
        .jobs
        .map_or(if on_device { 1 } else { cores }, |jobs| jobs as usize);
    RunnerOptions {
        jobs,
        threads_per_trial: args
            .threads
            .map_or((cores / jobs).max(1), |threads| threads as usize),
        backend: args.backend,
    }
}

/// The plan and the locked sweep folder: the folder `--resume` names, or a new one with the
/// sweep file's plan written in it (every mistake in the file one line, nothing written).
fn open(args: &Args) -> anyhow::Result<(SweepPlan, FolderLock)> {
    if let Some(dir) = &args.resume {
        let plan = sweep::read_plan(dir)?;
        return Ok((plan, FolderLock::acquire(dir)?));
    }
    let file = args
        .sweep
        .as_ref()
        .expect("clap requires a sweep file or --resume");
    let plan = SweepPlan::read(file).map_err(|mut mistakes| {
        if mistakes.len() == 1 {
            return Usage(mistakes.remove(0));
        }
        for mistake in &mistakes {
            tell!("error: {mistake}");
        }
        Usage(format!(
            "{} mistake(s) in {}; nothing was started or written",
            mistakes.len(),
            file.display()
        ))
    })?;
    let lock = claim_run_dir(args.out.as_deref(), &plan.name, false)?;
    sweep::write_plan(&plan, lock.path())?;
    Ok((plan, lock))
}
