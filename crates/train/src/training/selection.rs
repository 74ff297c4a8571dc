//! Early stopping and the choice of the epoch a run keeps: Burn's `Learner` stops through
//! its `MetricEarlyStoppingStrategy` and hands back the last epoch's model, so the best
//! epoch (by the validation metric, from the run's own history) is restored from its
//! checkpoint, which a checkpointing strategy on the same metric keeps on disk.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use burn::store::ModuleRecord;
use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::store::EventStoreClient;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{AccuracyMetric, LossMetric, Metric};
use burn::train::{EarlyStoppingStrategy, MetricEarlyStoppingStrategy, StoppingCondition};

use burn::module::Module;
use mnist_model::LogisticRegression;

use mnist_config::{EarlyStoppingConfig, Keep, StopMetric};
use mnist_runs::EpochMetrics;
use mnist_runs::RunRecord;

use crate::training::history::History;
use crate::training::request::EpochGate;

/// Burn's strategies for `config`: when to stop, and which checkpoints to keep (the last two,
/// for resuming, and the best by the watched metric).
pub fn strategies(
    config: &EarlyStoppingConfig,
) -> (MetricEarlyStoppingStrategy, ComposedCheckpointingStrategy) {
    let direction = if config.metric.higher_is_better() {
        Direction::Highest
    } else {
        Direction::Lowest
    };
    let condition = StoppingCondition::NoImprovementSince {
        n_epochs: config.patience,
    };
    // Only the metric's name matters to Burn here: "Loss" or "Accuracy" of the evaluation
    // pass, which is the validation split's (device_metrics::Part).
    let (stopping, kept) = if config.metric.higher_is_better() {
        watching(&AccuracyMetric::new(), direction, condition)
    } else {
        watching(&LossMetric::new(), direction, condition)
    };
    let checkpoints = ComposedCheckpointingStrategy::builder()
        .add(KeepLastNCheckpoints::new(2))
        .add(kept)
        .build();
    (stopping, checkpoints)
}

/// Stopping on `metric` of the evaluation pass, and keeping its best epoch's checkpoint.
fn watching<M: Metric>(
    metric: &M,
    direction: Direction,
    condition: StoppingCondition,
) -> (MetricEarlyStoppingStrategy, MetricCheckpointingStrategy) {
    (
        MetricEarlyStoppingStrategy::new(
            metric,
            Aggregate::Mean,
            direction,
            Split::Valid,
            condition,
        ),
        MetricCheckpointingStrategy::new(metric, Aggregate::Mean, direction, Split::Valid),
    )
}

/// Burn's one early-stopping hook, shared by `[early_stopping]` and a sweep's pruning (the
/// request's epoch gate): the first that says stop ends the run after that epoch.
#[derive(Clone)]
pub struct Stopping {
    pub early: Option<MetricEarlyStoppingStrategy>,
    /// The gate, and the history that keeps its reason.
    pub gate: Option<(EpochGate, Arc<Mutex<History>>)>,
}

impl EarlyStoppingStrategy for Stopping {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        if let Some(early) = &mut self.early
            && early.should_stop(epoch, store)
        {
            return true;
        }
        let Some((gate, history)) = &self.gate else {
            return false;
        };
        let Some(reason) = gate(epoch) else {
            return false;
        };
        history.lock().expect("history lock").pruned = Some(reason);
        true
    }
}

/// The epoch with the best `metric` (the first of equals, as Burn's strict comparison picks).
pub fn best_epoch(epochs: &[EpochMetrics], metric: StopMetric) -> Option<usize> {
    // Larger is better for both kinds: a loss counts negated.
    let value = |row: &EpochMetrics| {
        row.value(metric)
            .map(|v| if metric.higher_is_better() { v } else { -v })
    };
    epochs
        .iter()
        .filter_map(|row| Some((row.epoch, value(row)?)))
        .fold(
            None,
            |best: Option<(usize, f64)>, (epoch, value)| match best {
                Some((_, top)) if top >= value => best,
                _ => Some((epoch, value)),
            },
        )
        .map(|(epoch, _)| epoch)
}

/// The model a run keeps and its epoch: the best by `stopping`'s metric when it says
/// `keep = "best"`, else `last_model`. Fills `record`'s selection, stop reason and final
/// numbers (those of the kept epoch).
pub fn keep(
    last_model: LogisticRegression,
    stopping: Option<&EarlyStoppingConfig>,
    planned_epochs: usize,
    epochs: &[EpochMetrics],
    run_dir: &Path,
    record: &mut RunRecord,
) -> anyhow::Result<(LogisticRegression, usize)> {
    let last = epochs.last().map_or(0, |row| row.epoch);
    let mut kept = (last_model, last);
    if let Some(stopping) = stopping
        && let Some(best) = best_epoch(epochs, stopping.metric)
    {
        if last < planned_epochs {
            record.stop_reason = Some(stop_reason(stopping, best, last));
        }
        if stopping.keep == Keep::Best && best != last {
            kept = (kept.0.load_record(checkpoint_record(run_dir, best)?), best);
        }
    }
    if let Some(row) = epochs.iter().find(|row| row.epoch == kept.1) {
        record.selected_epoch = Some(kept.1);
        record.final_test_accuracy = Some(row.test_acc);
        record.final_test_loss = Some(row.test_loss);
        record.final_valid_accuracy = row.valid_acc;
    }
    Ok(kept)
}

/// The model record of `epoch`'s checkpoint in `run_dir`.
pub fn checkpoint_record(run_dir: &Path, epoch: usize) -> anyhow::Result<ModuleRecord> {
    let path = run_dir
        .join("checkpoint")
        .join(format!("model-{epoch}.bpk"));
    ModuleRecord::load(&path).map_err(|error| anyhow!("{}: {error}", path.display()))
}

/// Why the run ended, for `run.toml`.
pub fn stop_reason(config: &EarlyStoppingConfig, best: usize, last: usize) -> String {
    format!(
        "early stopping: {} did not improve for {} epochs after epoch {best} (stopped after epoch {last})",
        config.metric.name(),
        last - best
    )
}
