//! What a caller asks of a training run, and what it gets back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::train::Interrupter;
use mnist_config::ExperimentConfig;
use mnist_runs::{EpochMetrics, FolderLock};

use crate::backend::BackendKind;
use crate::training::ending::RunEnd;

/// How progress is shown while training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressView {
    /// Burn's terminal dashboard when stdout is a terminal, plain lines otherwise.
    Auto,
    /// One line per epoch, even in a terminal.
    Plain,
}

/// What to train and where to put it.
pub struct RunRequest<'a> {
    pub config: &'a ExperimentConfig,
    /// The config file, named in errors about values that only the data can refute.
    pub config_path: &'a Path,
    /// Names the run folder: `runs/<name>-<timestamp>`.
    pub name: &'a str,
    pub backend: BackendKind,
    pub run_dir: RunDir<'a>,
    pub progress: ProgressView,
    /// The epochs an interrupted run already completed, when resuming it in `out`.
    pub completed: Vec<EpochMetrics>,
    /// Stops training at the end of the current step (signals call it).
    pub interrupter: Interrupter,
    /// Read the running metrics back from the device every this many steps (default: by
    /// backend, see [`SyncPolicy`]).
    pub sync_every: Option<usize>,
    /// Print the number of device reads of each epoch.
    pub debug_syncs: bool,
    /// Whose loop trains on one device.
    pub training_loop: TrainingLoop,
    /// Asked after each epoch whether the run stops there, and why (a sweep's pruning).
    pub epoch_gate: Option<EpochGate>,
}

/// Given the epoch just completed (its row already in `metrics.csv`), says why the run should
/// stop there, or nothing.
pub type EpochGate = Arc<dyn Fn(usize) -> Option<String> + Send + Sync>;

/// The loop that trains on one device (several devices train with Burn's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrainingLoop {
    /// Burn's loop, its metrics handed over several steps at a time (`batched`).
    #[default]
    Batched,
    /// Burn's single-device loop as it is: one hand-off to its metric thread a step.
    Burn,
}

/// Where a run writes.
pub enum RunDir<'a> {
    /// A new run folder: `out` (written into even when not empty with `force`), or
    /// `runs/<name>-<timestamp>`; claimed once the data has loaded.
    New { out: Option<&'a Path>, force: bool },
    /// A folder this process has locked already: the run it resumes.
    Locked(&'a FolderLock),
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_dir: PathBuf,
    pub epochs: Vec<EpochMetrics>,
    pub seconds: f64,
    pub end: RunEnd,
    /// The epoch whose weights `model.bpk` holds.
    pub selected: usize,
    /// Why it ended before its last epoch (early stopping).
    pub stop_reason: Option<String>,
}

impl RunOutcome {
    /// What a person is told when the run has ended: how, its numbers, and where it is (and,
    /// when interrupted, how to go on).
    pub fn report(&self) -> String {
        let folder = self.run_dir.display();
        let reason = self.stop_reason.as_deref();
        match self.end {
            RunEnd::Finished => {
                let mut lines: Vec<String> = reason
                    .map(|reason| format!("Stopped: {reason}"))
                    .into_iter()
                    .collect();
                lines.extend(self.finished_line());
                lines.push(format!("Run folder: {folder}"));
                lines.join("\n")
            }
            RunEnd::Pruned => format!("Pruned: {}\nRun folder: {folder}", reason.unwrap_or("")),
            RunEnd::Interrupted => format!(
                "Interrupted after {} complete epochs; metrics, checkpoints and the model so far \
                 are in {folder}\nResume with: mnist-burn train --resume {folder}",
                self.epochs.len()
            ),
        }
    }

    /// `Finished 20 epochs in 2.6 s: validation accuracy …, test accuracy …, test loss …`,
    /// naming the epoch `model.bpk` holds when it is not the last.
    fn finished_line(&self) -> Option<String> {
        let last = self.epochs.last()?;
        let kept = self.epochs.iter().find(|row| row.epoch == self.selected)?;
        let which = if kept.epoch == last.epoch {
            String::new()
        } else {
            format!(" (model.bpk: epoch {}, the best on validation)", kept.epoch)
        };
        let valid = kept.valid_acc.map_or(String::new(), |acc| {
            format!("validation accuracy {acc:.2}%, ")
        });
        Some(format!(
            "Finished {} epochs in {:.1} s: {valid}test accuracy {:.2}%, test loss {}{which}",
            last.epoch,
            self.seconds,
            kept.test_acc,
            mnist_runs::readable(kept.test_loss)
        ))
    }
}
