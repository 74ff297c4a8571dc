//! How a run ended, decided from what Burn's `Learner` returns and what the recorder saw:
//! finished, interrupted, diverged (with the step and a smaller rate to try) or failed.

use std::path::Path;

use burn::train::LearningResult;
use mnist_model::LogisticRegression;

use crate::training::history::{Divergence, History};
use mnist_config::ExperimentConfig;

/// How a run ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Finished,
    /// Stopped early on request; `train --resume` continues it.
    Interrupted,
    /// Stopped by the request's epoch gate (a sweep's pruning); not to be resumed.
    Pruned,
}

/// The loss stopped being a finite number; the run was stopped there.
#[derive(Debug, thiserror::Error)]
#[error(
    "the training loss became {loss} at epoch {epoch}, step {step} (learning rate {lr}): \
     try a smaller one, e.g. --set optimizer.lr={smaller}; {kept}",
    loss = divergence.loss,
    epoch = divergence.epoch,
    step = divergence.step,
    lr = mnist_runs::readable(*lr),
    smaller = mnist_runs::readable(lr / 10.0),
)]
pub struct Diverged {
    divergence: Divergence,
    lr: f64,
    /// Which checkpoint stayed on disk, for a person.
    kept: String,
}

/// Decides how training ended from what the `Learner` and the recorder report.
pub fn judge(
    result: &LearningResult<LogisticRegression>,
    history: &History,
    config: &ExperimentConfig,
    run_dir: &Path,
) -> anyhow::Result<RunEnd> {
    if let Some(divergence) = &history.divergence {
        let kept = match history.epochs.last() {
            Some(last) => format!(
                "the checkpoint of epoch {} is kept in {}",
                last.epoch,
                run_dir.join("checkpoint").display()
            ),
            None => "no epoch completed, so there is no checkpoint".to_string(),
        };
        return Err(Diverged {
            divergence: divergence.clone(),
            lr: config.optimizer.lr,
            kept,
        }
        .into());
    }
    if let Some(error) = &history.write_error {
        anyhow::bail!("cannot write the metrics: {error}");
    }
    if let Some(error) = &result.error {
        anyhow::bail!("training failed: {error}");
    }
    Ok(if result.interrupted.is_some() || history.stopped_early {
        RunEnd::Interrupted
    } else if history.pruned.is_some() {
        RunEnd::Pruned
    } else {
        RunEnd::Finished
    })
}
