//! A sweep for a cluster: `commands.sh`, one command per trial left to run, and for Slurm
//! `sweep.sbatch`, an array job with one task per line. Trials that are finished, or that
//! another process is training right now (its run folder is locked), are left out, so
//! writing the files again after `sweep --resume DIR --emit slurm` submits only what is left.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::runner::{is_done, train_arguments};
use super::spec::{SweepPlan, Trial};
use crate::backend::BackendKind;
use mnist_runs::summarise;
use mnist_runs::write_file;
use mnist_runs::writer_of;

pub const COMMANDS_FILE: &str = "commands.sh";
pub const SBATCH_FILE: &str = "sweep.sbatch";

/// How the trials run on the cluster.
#[derive(Debug, Clone)]
pub struct ClusterJob {
    /// The binary the commands run: the one writing them, unless `MNIST_BURN` names another
    /// where they run.
    pub binary: PathBuf,
    pub backend: Option<BackendKind>,
    /// CPU threads a trial uses: Slurm's `--cpus-per-task`, and the backend's thread pool.
    pub threads: usize,
    /// Options of the site (`--partition=short`, `--time=00:30:00`, ...), each one `#SBATCH`
    /// line.
    pub slurm_args: Vec<String>,
    /// Also write `sweep.sbatch`.
    pub slurm: bool,
}

/// What was written.
#[derive(Debug)]
pub struct Emitted {
    pub files: Vec<PathBuf>,
    /// Trials in the files.
    pub trials: usize,
    /// Trials another process trains now (their process id, when known): left out.
    pub busy: Vec<(String, Option<u32>)>,
}

impl ClusterJob {
    /// Checks the site options: each a long option of `sbatch`, on one line.
    pub fn check(&self) -> Result<(), String> {
        match self
            .slurm_args
            .iter()
            .find(|arg| !arg.starts_with("--") || arg.contains(['\n', '\r']))
        {
            Some(arg) => Err(format!(
                "--slurm-arg {arg:?}: give one sbatch option a time, as --name=value"
            )),
            None => Ok(()),
        }
    }

    /// Writes the files for the trials of `plan` left to run in `sweep_dir`.
    pub fn write(&self, plan: &SweepPlan, sweep_dir: &Path) -> anyhow::Result<Emitted> {
        let sweep_dir = std::path::absolute(sweep_dir)
            .with_context(|| format!("{}: no absolute path", sweep_dir.display()))?;
        let mut busy = Vec::new();
        let left: Vec<&Trial> = plan
            .trials
            .iter()
            .filter(|trial| {
                let dir = sweep_dir.join(&trial.id);
                if let Some(pid) = writer_of(&dir) {
                    busy.push((trial.id.clone(), pid));
                    return false;
                }
                !is_done(&summarise(&dir, trial.id.clone()))
            })
            .collect();
        let mut emitted = Emitted {
            files: Vec::new(),
            trials: left.len(),
            busy,
        };
        if left.is_empty() {
            return Ok(emitted);
        }
        let binary = shell_quote(&self.binary.to_string_lossy());
        let lines: Vec<String> = left
            .iter()
            .map(|trial| {
                let arguments: Vec<String> = train_arguments(plan, trial, &sweep_dir, self.backend)
                    .iter()
                    .map(|argument| shell_quote(argument))
                    .collect();
                format!(
                    "cd {} && \"${{MNIST_BURN:-{binary}}}\" {}",
                    shell_quote(&sweep_dir.to_string_lossy()),
                    arguments.join(" ")
                )
            })
            .collect();
        let commands = format!(
            "# The trials of sweep {} left to run, one per line, from any folder; the binary is\n\
             # the one that wrote them unless MNIST_BURN names another. Afterwards\n\
             # `mnist-burn sweep --resume {}` collects the results (and runs what is left).\n\
             {}\n",
            plan.name,
            sweep_dir.display(),
            lines.join("\n")
        );
        emitted
            .files
            .push(script(&sweep_dir, COMMANDS_FILE, &commands)?);
        if self.slurm {
            let sbatch = self.sbatch(plan, &sweep_dir, &lines);
            emitted
                .files
                .push(script(&sweep_dir, SBATCH_FILE, &sbatch)?);
        }
        Ok(emitted)
    }

    /// The array job; its commands are in the script itself, which Slurm keeps when it is
    /// submitted, so writing the files again never changes a job already queued.
    fn sbatch(&self, plan: &SweepPlan, sweep_dir: &Path, lines: &[String]) -> String {
        let mut options = vec![
            format!("--job-name={}", plan.name),
            format!("--array=1-{}", lines.len()),
            format!("--cpus-per-task={}", self.threads),
        ];
        // A GPU backend asks for its GPU; on the CPU, a trial needs none.
        if self.backend.is_some_and(BackendKind::is_device) {
            options.push("--gres=gpu:1".into());
        }
        options.push(format!("--chdir={}", sweep_dir.display()));
        options.push("--output=slurm-%A_%a.log".into());
        options.extend(self.slurm_args.iter().cloned());
        let directives: String = options
            .iter()
            .map(|option| format!("#SBATCH {option}\n"))
            .collect();
        let commands: String = lines
            .iter()
            .map(|line| format!("  {}\n", shell_quote(line)))
            .collect();
        format!(
            "#!/bin/bash\n\
             # Slurm array job: one task per trial of sweep {name} left to run (the lines of\n\
             # commands.sh). Submit from anywhere:\n\
             #   sbatch {dir}/{SBATCH_FILE}\n\
             # then collect: mnist-burn sweep --resume {dir}\n\
             {directives}\
             set -euo pipefail\n\
             export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{threads}}}\"\n\
             trials=(\n{commands})\n\
             eval \"${{trials[SLURM_ARRAY_TASK_ID - 1]}}\"\n",
            name = plan.name,
            dir = sweep_dir.display(),
            threads = self.threads,
        )
    }
}

fn script(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// `argument` as one shell word.
fn shell_quote(argument: &str) -> String {
    let plain = argument
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c));
    if plain && !argument.is_empty() {
        return argument.to_string();
    }
    format!("'{}'", argument.replace('\'', r"'\''"))
}
