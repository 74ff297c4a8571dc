//! The Slurm files of a sweep: `sweep.sbatch`, an array job with one task per trial left to
//! run, and `collect.sbatch`, which its first task submits to run once every task has ended
//! and which writes the results.
//!
//! A task lives through a cluster's time limits and preemptions as Lightning's and submitit's
//! jobs do: Slurm warns the batch shell with SIGUSR1 a grace period before it would stop the
//! task; the shell passes SIGTERM to the trial, which stops at the end of its step as Ctrl-C
//! stops it (checkpoint, `interrupted`), and puts its task back in the queue. Started again,
//! the task resumes the trial from its folder, on the backend it ran on, to the same numbers
//! as a trial never stopped; a trial that has ended is not run again.

use std::path::Path;

use super::cluster::{ClusterJob, shell_quote};
use super::spec::SweepPlan;
use super::{PLAN_FILE, SBATCH_FILE};
use crate::backend::BackendKind;

pub const COLLECT_FILE: &str = "collect.sbatch";

/// How the array job behaves on the cluster.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Seconds between Slurm's warning and the time limit (`--signal=B:USR1@SECONDS`); `None`:
    /// no warning and no requeue, a task stopped at its limit stays `interrupted`.
    pub requeue_grace: Option<u32>,
    /// Tasks running at once (`--array=1-N%K`); `None`: as many as the cluster gives.
    pub max_running: Option<usize>,
}

/// The two scripts of one sweep folder.
pub struct SlurmJob<'a> {
    pub cluster: &'a ClusterJob,
    pub options: &'a SlurmOptions,
    pub plan: &'a SweepPlan,
    pub sweep_dir: &'a Path,
    /// The binary, shell-quoted.
    pub binary: &'a str,
}

impl SlurmJob<'_> {
    /// The array job for `tasks` (each trial's folder and its quoted `mnist-burn` arguments).
    /// The arguments live in the script itself, which Slurm keeps when it is submitted, so
    /// writing the files again never changes a job already queued.
    pub fn array(&self, tasks: &[(&str, &str)]) -> String {
        let limit = self
            .options
            .max_running
            .map_or(String::new(), |k| format!("%{k}"));
        let mut options = vec![
            format!("--job-name={}", self.plan.name),
            format!("--array=1-{}{limit}", tasks.len()),
            format!("--cpus-per-task={}", self.cluster.threads),
        ];
        // A GPU backend asks for its GPU; on the CPU, a trial needs none.
        if self.cluster.backend.is_some_and(BackendKind::is_device) {
            options.push("--gres=gpu:1".into());
        }
        options.push(format!("--chdir={}", self.sweep_dir.display()));
        // A requeued task writes on in its log.
        options.push("--output=slurm-%A_%a.log".into());
        options.push("--open-mode=append".into());
        if let Some(grace) = self.options.requeue_grace {
            options.push("--requeue".into());
            options.push(format!("--signal=B:USR1@{grace}"));
        }
        options.extend(self.cluster.slurm_args.iter().cloned());
        let quoted = |values: Vec<&str>| -> String {
            values
                .into_iter()
                .map(|value| format!("  {}\n", shell_quote(value)))
                .collect()
        };
        let requeue = match self.options.requeue_grace {
            Some(_) => REQUEUE,
            None => "",
        };
        format!(
            "#!/bin/bash\n\
             # Slurm array job: one task per trial of sweep {name} left to run (the lines of\n\
             # commands.sh). Submit from anywhere:\n\
             #   sbatch {dir}/{SBATCH_FILE}\n\
             # Its first task submits {COLLECT_FILE}, which writes the results once every task\n\
             # has ended (by hand: mnist-burn sweep --resume {dir} --collect-only).\n\
             {directives}\
             set -euo pipefail\n\
             export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{threads}}}\"\n\
             binary=\"${{MNIST_BURN:-{binary}}}\"\n\
             folders=(\n{folders})\n\
             trials=(\n{arguments})\n\
             task=$((SLURM_ARRAY_TASK_ID - 1))\n\
             folder=\"${{folders[task]}}\"\n\
             if [ \"$SLURM_ARRAY_TASK_ID\" = 1 ] && [ \"${{SLURM_RESTART_COUNT:-0}}\" = 0 ]; then\n\
             \x20 sbatch --parsable --dependency=\"afterany:$SLURM_ARRAY_JOB_ID\" {collect}\n\
             fi\n\
             # Started again (requeued): a trial that has ended is not run again, one stopped\n\
             # after an epoch resumes from its folder.\n\
             if grep -Eqs '^status = \"(finished|diverged|failed|pruned)\"' \"$folder/run.toml\"; then\n\
             \x20 echo \"$folder has ended\"\n\
             \x20 exit 0\n\
             fi\n\
             arguments=\"${{trials[task]}}\"\n\
             if [ -n \"$(sed -n 2p \"$folder/metrics.csv\" 2>/dev/null)\" ]; then\n\
             \x20 arguments=\"train{prune} --resume $folder --plain\"\n\
             fi\n\
             {requeue}\
             eval \"exec \\\"\\$binary\\\" $arguments\" &\n\
             trial=$!\n\
             status=0\n\
             wait \"$trial\" || status=$?\n\
             # A signal handled above ends the wait early: wait on for the trial.\n\
             while kill -0 \"$trial\" 2>/dev/null; do status=0; wait \"$trial\" || status=$?; done\n\
             if [ -n \"${{requeue:-}}\" ]; then\n\
             \x20 scontrol requeue \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"\n\
             \x20 exit 0\n\
             fi\n\
             exit \"$status\"\n",
            name = self.plan.name,
            dir = self.sweep_dir.display(),
            directives = directives(&options),
            threads = self.cluster.threads,
            binary = self.binary,
            folders = quoted(tasks.iter().map(|(folder, _)| *folder).collect()),
            arguments = quoted(tasks.iter().map(|(_, arguments)| *arguments).collect()),
            collect = shell_quote(&self.sweep_dir.join(COLLECT_FILE).to_string_lossy()),
            prune = if self.plan.prune.is_some() {
                format!(" --prune-with {PLAN_FILE}")
            } else {
                String::new()
            },
        )
    }

    /// The job that collects the results after the array: `sweep --resume --collect-only`.
    pub fn collector(&self) -> String {
        let mut options = vec![
            format!("--job-name={}-collect", self.plan.name),
            "--cpus-per-task=1".into(),
            format!("--chdir={}", self.sweep_dir.display()),
            "--output=collect-%j.log".into(),
        ];
        options.extend(self.cluster.slurm_args.iter().cloned());
        format!(
            "#!/bin/bash\n\
             # Writes the results of sweep {name} (results.csv, results.md, accuracy.png,\n\
             # best.toml) once its array job has ended; {SBATCH_FILE} submits it.\n\
             {directives}\
             exec \"${{MNIST_BURN:-{binary}}}\" sweep --resume {dir} --collect-only\n",
            name = self.plan.name,
            directives = directives(&options),
            binary = self.binary,
            dir = shell_quote(&self.sweep_dir.to_string_lossy()),
        )
    }
}

/// Slurm's warning before the time limit (or at preemption) stops the trial at the end of its
/// step, as Ctrl-C does; the task then puts itself back in the queue.
const REQUEUE: &str = "trap 'requeue=1; kill -TERM \"$trial\" 2>/dev/null || true' USR1\n";

/// One `#SBATCH` line an option, the site's last (Slurm takes the last of a repeated option).
fn directives(options: &[String]) -> String {
    options
        .iter()
        .map(|option| format!("#SBATCH {option}\n"))
        .collect()
}
