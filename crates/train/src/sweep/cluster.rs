//! A sweep for a cluster: `commands.sh`, one command per trial left to run, and for Slurm
//! `sweep.sbatch`, an array job with one task per line, and `collect.sbatch`, which collects
//! the results once the array has ended (`slurm.rs`). Trials that are finished, or that
//! another process is training right now (its run folder is locked), are left out, so
//! writing the files again after `sweep --resume DIR --emit slurm` submits only what is left.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::runner::{is_done, train_arguments};
use super::slurm::{COLLECT_FILE, SlurmJob, SlurmOptions};
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
    /// Also write `sweep.sbatch` and `collect.sbatch`, with these settings.
    pub slurm: Option<SlurmOptions>,
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

impl Emitted {
    /// What was written, what was left out, and what to run afterwards.
    pub fn report(&self, sweep_dir: &Path) -> String {
        let busy = self.busy.iter().map(|(trial, pid)| {
            let holder = pid.map_or(String::new(), |pid| format!(" (pid {pid})"));
            format!("{trial} is being trained by another process{holder}: left out")
        });
        let wrote = self
            .files
            .iter()
            .map(|path| format!("Wrote {}", path.display()));
        busy.chain(wrote)
            .chain([format!(
                "{} trials to run; afterwards: mnist-burn sweep --resume {}",
                self.trials,
                sweep_dir.display()
            )])
            .collect::<Vec<_>>()
            .join("\n")
    }
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
        let arguments: Vec<String> = left
            .iter()
            .map(|trial| {
                train_arguments(plan, trial, &sweep_dir, self.backend)
                    .iter()
                    .map(|argument| shell_quote(argument))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let lines: Vec<String> = arguments
            .iter()
            .map(|arguments| {
                format!(
                    "cd {} && \"${{MNIST_BURN:-{binary}}}\" {arguments}",
                    shell_quote(&sweep_dir.to_string_lossy()),
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
        if let Some(options) = &self.slurm {
            let job = SlurmJob {
                cluster: self,
                options,
                plan,
                sweep_dir: &sweep_dir,
                binary: &binary,
            };
            let tasks: Vec<(&str, &str)> = left
                .iter()
                .zip(&arguments)
                .map(|(trial, arguments)| (trial.id.as_str(), arguments.as_str()))
                .collect();
            for (name, text) in [
                (SBATCH_FILE, job.array(&tasks)),
                (COLLECT_FILE, job.collector()),
            ] {
                emitted.files.push(script(&sweep_dir, name, &text)?);
            }
        }
        Ok(emitted)
    }
}

fn script(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// `argument` as one shell word.
pub(super) fn shell_quote(argument: &str) -> String {
    let plain = argument
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c));
    if plain && !argument.is_empty() {
        return argument.to_string();
    }
    format!("'{}'", argument.replace('\'', r"'\''"))
}
