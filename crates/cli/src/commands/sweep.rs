//! `mnist-burn sweep`: many trials of a config from one sweep file, in parallel, resumable,
//! ranked at the end; or the commands to run them on a cluster.

use std::path::PathBuf;

use mnist_runs::{FolderLock, claim_run_dir};
use mnist_train::sweep::{ClusterJob, RunnerOptions, SweepPlan, run_pending};
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
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    // The sweep folder is locked while this process runs its trials: a sweep resumed twice
    // is refused (each trial also locks its own run folder).
    let (plan, lock) = match (&args.resume, &args.sweep) {
        (Some(dir), _) => {
            let plan = sweep::read_plan(dir)?;
            (plan, FolderLock::acquire(dir)?)
        }
        (None, Some(file)) => {
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
            (plan, lock)
        }
        (None, None) => unreachable!("clap requires a sweep file or --resume"),
    };
    let sweep_dir = lock.path();
    if let Some(emit) = args.emit {
        let job = ClusterJob {
            binary: std::env::current_exe()?,
            backend: args.backend,
            threads: args.threads.map_or(2, |threads| threads as usize),
            slurm_args: args.slurm_args,
            slurm: emit == Emit::Slurm,
        };
        job.check().map_err(Usage)?;
        let emitted = job.write(&plan, sweep_dir)?;
        for (trial, pid) in &emitted.busy {
            let holder = pid.map_or(String::new(), |pid| format!(" (pid {pid})"));
            say!("{trial} is being trained by another process{holder}: left out");
        }
        for path in &emitted.files {
            say!("Wrote {}", path.display());
        }
        say!(
            "{} trials to run; afterwards: mnist-burn sweep --resume {}",
            emitted.trials,
            sweep_dir.display()
        );
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let on_device = args.backend.is_some_and(BackendKind::is_device);
    let jobs = args
        .jobs
        .map_or(if on_device { 1 } else { cores }, |jobs| jobs as usize);
    let options = RunnerOptions {
        jobs,
        threads_per_trial: args
            .threads
            .map_or((cores / jobs).max(1), |threads| threads as usize),
        backend: args.backend,
    };
    let interrupted = run_pending(&plan, sweep_dir, &options)?;
    let ranked = sweep::collect_results(&plan, sweep_dir);
    say!("\n{}", sweep::terminal_table(&plan, &ranked));
    say!("{}", sweep::Ranking::of(&ranked).note());
    let best = sweep::write_results(&plan, sweep_dir, &ranked)?;
    sweep::accuracy_against_keys(&sweep_dir.join(sweep::FIGURE), &plan, &ranked)?;
    say!(
        "\nWrote {}, {}, {} in {}",
        sweep::RESULTS_CSV,
        sweep::RESULTS_MD,
        sweep::FIGURE,
        sweep_dir.display()
    );
    if let (Some(best), Some(top)) = (best, ranked.first()) {
        say!(
            "Best: {} ({}) with {}; its config: {}\n  just train config={}",
            top.trial.id,
            top.trial.overrides().join(" "),
            sweep::verdict(&top.summary),
            best.display(),
            best.display()
        );
    }
    if interrupted {
        tell!(
            "Sweep interrupted; finish it with: mnist-burn sweep --resume {}",
            sweep_dir.display()
        );
        return Err(Interrupted.into());
    }
    Ok(())
}
