//! `mnist-burn sweep`: many trials of a config from one sweep file, in parallel, resumable,
//! ranked at the end; or the commands to run them on a cluster.

use std::path::{Path, PathBuf};

use mnist_train::sweep::SweepPlan;
use mnist_train::sweep::{RunnerOptions, run_pending, train_arguments};
use mnist_train::{BackendKind, Interrupted, Usage, choose_run_dir, sweep};

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
    #[arg(long, short)]
    backend: Option<BackendKind>,
    /// The sweep folder (default: runs/<sweep name>-<timestamp>).
    #[arg(long, conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Write the trials' commands for a cluster instead of running them; `--resume` then
    /// collects what they wrote.
    #[arg(long, value_enum, conflicts_with = "resume")]
    emit: Option<Emit>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let (plan, sweep_dir) = match (&args.resume, &args.sweep) {
        (Some(dir), _) => (sweep::read_plan(dir)?, dir.clone()),
        (None, Some(file)) => {
            let plan = SweepPlan::read(file).map_err(|mut mistakes| {
                if mistakes.len() == 1 {
                    return Usage(mistakes.remove(0));
                }
                for mistake in &mistakes {
                    eprintln!("error: {mistake}");
                }
                Usage(format!(
                    "{} mistake(s) in {}; nothing was started or written",
                    mistakes.len(),
                    file.display()
                ))
            })?;
            let dir = choose_run_dir(args.out.as_deref(), &plan.name, false)?;
            sweep::write_plan(&plan, &dir)?;
            (plan, dir)
        }
        (None, None) => unreachable!("clap requires a sweep file or --resume"),
    };
    if let Some(emit) = args.emit {
        return write_commands(&plan, &sweep_dir, emit, args.backend);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let on_device = args.backend.is_some_and(BackendKind::is_device);
    let jobs = args
        .jobs
        .map_or(if on_device { 1 } else { cores }, |jobs| jobs as usize);
    let options = RunnerOptions {
        jobs,
        threads_per_trial: (cores / jobs).max(1),
        backend: args.backend,
    };
    let interrupted = run_pending(&plan, &sweep_dir, &options)?;
    let ranked = sweep::collect_results(&plan, &sweep_dir);
    say!("\n{}", sweep::terminal_table(&plan, &ranked));
    say!("{}", sweep::Ranking::of(&ranked).note());
    let best = sweep::write_results(&plan, &sweep_dir, &ranked)?;
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
        eprintln!(
            "Sweep interrupted; finish it with: mnist-burn sweep --resume {}",
            sweep_dir.display()
        );
        return Err(Interrupted.into());
    }
    Ok(())
}

/// `commands.sh` (and `sweep.sbatch` for Slurm), run from the sweep folder.
fn write_commands(
    plan: &SweepPlan,
    sweep_dir: &Path,
    emit: Emit,
    backend: Option<BackendKind>,
) -> anyhow::Result<()> {
    let mut commands = format!(
        "# The trials of sweep {}, one per line; run them from this folder, on any machines \
         that share it.\n# Then `mnist-burn sweep --resume {}` collects the results (and runs \
         what is left).\n",
        plan.name,
        sweep_dir.display()
    );
    for trial in &plan.trials {
        let arguments = train_arguments(plan, trial, sweep_dir, backend);
        let quoted: Vec<String> = arguments
            .iter()
            .map(|argument| shell_quote(argument))
            .collect();
        commands.push_str(&format!(
            "\"${{MNIST_BURN:-mnist-burn}}\" {}\n",
            quoted.join(" ")
        ));
    }
    let mut written = vec![write_script(sweep_dir, "commands.sh", &commands)?];
    if emit == Emit::Slurm {
        let script = format!(
            "#!/bin/bash\n\
             # Slurm array job: one task per trial of sweep {name}. Submit from this folder:\n\
             #   sbatch sweep.sbatch\n\
             #SBATCH --job-name={name}\n\
             #SBATCH --array=1-{count}\n\
             #SBATCH --cpus-per-task=2\n\
             #SBATCH --output=slurm-%A_%a.log\n\
             set -euo pipefail\n\
             cd \"${{SLURM_SUBMIT_DIR:-.}}\"\n\
             line=$(grep -v '^#' commands.sh | sed -n \"${{SLURM_ARRAY_TASK_ID}}p\")\n\
             eval \"$line\"\n",
            name = plan.name,
            count = plan.trials.len()
        );
        written.push(write_script(sweep_dir, "sweep.sbatch", &script)?);
    }
    for path in &written {
        say!("Wrote {}", path.display());
    }
    say!(
        "{} trials; afterwards: mnist-burn sweep --resume {}",
        plan.trials.len(),
        sweep_dir.display()
    );
    Ok(())
}

fn write_script(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    mnist_train::write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// `argument` as one shell word.
fn shell_quote(argument: &str) -> String {
    let plain = argument
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c));
    match plain && !argument.is_empty() {
        true => argument.to_string(),
        false => format!("'{}'", argument.replace('\'', r"'\''")),
    }
}
