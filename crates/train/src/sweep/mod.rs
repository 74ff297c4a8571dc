//! Sweeps: one sweep file, many trials, each an ordinary run folder under the sweep's folder,
//! run in parallel, resumable, and summarised at the end.
//!
//! The sweep folder holds `plan.toml` (the expanded trials, so `--resume` needs nothing
//! else), `base.toml` (the base config as it was), `trial-NNN/` run folders (each with the
//! trial's `train.log`), and at the end `results.csv`, `results.md`, `best.toml` and
//! `accuracy.png`.

mod cluster;
mod figure;
#[cfg(test)]
mod generated_files;
mod prune;
mod results;
mod runner;
mod slurm;
mod spec;

use std::path::Path;

use anyhow::Context;

pub use cluster::{COMMANDS_FILE, ClusterJob, Emitted, SBATCH_FILE};
pub use figure::accuracy_against_keys;
use mnist_runs::write_file;
pub use prune::{PruneRule, PruneSpec, TrialPruner};
pub use results::{
    FIGURE, RESULTS_CSV, RESULTS_MD, Ranking, collect as collect_results, pruning_note,
    terminal_table, verdict, write as write_results,
};
pub use runner::{RunnerOptions, run_pending};
pub use slurm::{COLLECT_FILE, SlurmOptions};
pub use spec::SweepPlan;

pub(crate) const PLAN_FILE: &str = "plan.toml";
pub(crate) const BASE_FILE: &str = "base.toml";
/// A trial's output, in its run folder.
pub(crate) const TRIAL_LOG: &str = "train.log";

/// Writes the plan and the base config into a new sweep folder.
pub fn write_plan(plan: &SweepPlan, sweep_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(sweep_dir)
        .with_context(|| format!("{}: cannot create", sweep_dir.display()))?;
    let text = toml::to_string_pretty(plan).context("the sweep plan does not serialise")?;
    for (file, text) in [
        (PLAN_FILE, text.as_str()),
        (BASE_FILE, plan.base_config.as_str()),
    ] {
        let path = sweep_dir.join(file);
        write_file(&path, text.as_bytes())?;
    }
    Ok(())
}

/// Reads the plan of an existing sweep folder.
pub fn read_plan(sweep_dir: &Path) -> anyhow::Result<SweepPlan> {
    let path = sweep_dir.join(PLAN_FILE);
    let text = mnist_config::read_text(&path).with_context(|| {
        format!(
            "{}: not a sweep folder (no {PLAN_FILE})",
            sweep_dir.display()
        )
    })?;
    parse_plan(&path, &text)
}

/// Reads a sweep's `plan.toml` named by a trial.
fn read_plan_file(path: &Path) -> anyhow::Result<SweepPlan> {
    let text = mnist_config::read_text(path)?;
    parse_plan(path, &text)
}

fn parse_plan(path: &Path, text: &str) -> anyhow::Result<SweepPlan> {
    toml::from_str(text).map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.message()))
}

/// Ranks the trials of `sweep_dir` as they stand, prints the table, the ranking's note and
/// the best trial, and writes `results.csv`, `results.md`, `best.toml` and the figure.
pub fn report(plan: &SweepPlan, sweep_dir: &Path) -> anyhow::Result<()> {
    let ranked = collect_results(plan, sweep_dir);
    say!("\n{}", terminal_table(plan, &ranked));
    say!("{}", Ranking::of(&ranked).note());
    if let Some(note) = pruning_note(plan, &ranked) {
        say!("{note}");
    }
    let best = write_results(plan, sweep_dir, &ranked)?;
    accuracy_against_keys(&sweep_dir.join(FIGURE), plan, &ranked)?;
    say!(
        "\nWrote {RESULTS_CSV}, {RESULTS_MD}, {FIGURE} in {}",
        sweep_dir.display()
    );
    if let (Some(best), Some(top)) = (best, ranked.first()) {
        say!(
            "Best: {} ({}) with {}; its config: {}\n  just train config={}",
            top.trial.id,
            top.trial.overrides().join(" "),
            verdict(&top.summary),
            best.display(),
            best.display()
        );
    }
    Ok(())
}
