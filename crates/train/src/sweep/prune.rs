//! Pruning: a sweep's `[prune]` section stops trials that are clearly worse after a few
//! epochs, as Optuna's `MedianPruner` and `SuccessiveHalvingPruner` do, so that their cores go
//! to the rest. Each trial judges itself at the end of an epoch, against the trials before it
//! in the plan, from their `metrics.csv` in the sweep folder: the same for a local sweep and a
//! Slurm array, with nothing else to coordinate.
//!
//! A trial waits for every earlier trial that has not ended to reach the same epoch, so its
//! verdict depends on the plan's order only, not on which trial happened to run faster; a
//! local sweep starts trials in that order, so the earliest running trial never waits. On a
//! cluster an earlier task may still be queued: after `wait_seconds` the trial decides on the
//! trials that have reached the epoch and says which it went without.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::runner::is_done;
use super::spec::{SweepPlan, Trial};
use mnist_config::{ExperimentConfig, StopMetric};
use mnist_runs::{EpochMetrics, METRICS_FILE, read_metrics_csv, summarise};

/// `[prune]` of a sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneSpec {
    pub rule: PruneRule,
    /// What trials are compared by: `valid_acc` or `valid_loss`, on the validation split.
    #[serde(default = "default_metric")]
    pub metric: StopMetric,
    /// The first epoch at which a trial may be pruned.
    #[serde(default = "default_after")]
    pub after: usize,
    /// `median`: the earlier trials that must have reached an epoch before it prunes there.
    pub min_trials: Option<usize>,
    /// `halving`: the reduction factor η; a trial goes on past epochs `after`, `after`·η,
    /// `after`·η², ... only among the best 1/η of the trials that reached them.
    pub reduction: Option<usize>,
    /// How long a trial waits for an earlier one to reach the same epoch.
    #[serde(default = "default_wait")]
    pub wait_seconds: u64,
}

/// How a trial is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneRule {
    /// Pruned when its best so far is worse than the median of the earlier trials' best by
    /// the same epoch.
    Median,
    /// Successive halving.
    Halving,
}

fn default_metric() -> StopMetric {
    StopMetric::ValidAcc
}
fn default_after() -> usize {
    1
}
fn default_wait() -> u64 {
    600
}
const DEFAULT_MIN_TRIALS: usize = 3;
const DEFAULT_REDUCTION: usize = 3;

impl PruneSpec {
    /// Checks the section against one trial's config: one line naming the key, or nothing.
    pub fn check(&self, config: &ExperimentConfig) -> Result<(), String> {
        let refuse = |key: &str, why: String| Err(format!("prune.{key}: {why}"));
        match self.metric {
            StopMetric::TestAcc | StopMetric::TestLoss => {
                return refuse(
                    "metric",
                    "cannot compare trials on the test split (choosing by it makes its accuracy \
                     optimistic); use valid_acc or valid_loss"
                        .into(),
                );
            }
            _ if config.data.validation == 0 => {
                return refuse(
                    "metric",
                    "needs a validation split to compare trials on: set data.validation (5000 \
                     is usual)"
                        .into(),
                );
            }
            _ => {}
        }
        match (self.rule, self.min_trials, self.reduction) {
            _ if self.after == 0 => refuse("after", "must be at least 1".into()),
            _ if self.after > config.epochs => refuse(
                "after",
                format!(
                    "epoch {} is past the last epoch ({})",
                    self.after, config.epochs
                ),
            ),
            (PruneRule::Median, _, Some(_)) => {
                refuse("reduction", "belongs to rule = \"halving\"".into())
            }
            (PruneRule::Halving, Some(_), _) => {
                refuse("min_trials", "belongs to rule = \"median\"".into())
            }
            (PruneRule::Median, Some(0), _) => refuse("min_trials", "must be at least 1".into()),
            (PruneRule::Halving, _, Some(reduction)) if reduction < 2 => {
                refuse("reduction", "must be at least 2".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether a trial whose best value by `epoch` is `own` stops there, given the earlier
    /// trials' best values by that epoch; `Some` says why.
    pub fn judge(&self, epoch: usize, own: f64, earlier: &[f64]) -> Option<String> {
        if epoch < self.after {
            return None;
        }
        let higher = self.metric.higher_is_better();
        let worse = |a: f64, b: f64| if higher { a < b } else { a > b };
        let name = self.metric.name();
        match self.rule {
            PruneRule::Median => {
                let needed = self.min_trials.unwrap_or(DEFAULT_MIN_TRIALS);
                if earlier.len() < needed {
                    return None;
                }
                let median = median(earlier);
                worse(own, median).then(|| {
                    format!(
                        "pruned after epoch {epoch}: its best {name} {own:.4} is worse than the \
                         median {median:.4} of {} earlier trials' best by then",
                        earlier.len()
                    )
                })
            }
            PruneRule::Halving => {
                let reduction = self.reduction.unwrap_or(DEFAULT_REDUCTION);
                if !is_rung(epoch, self.after, reduction) {
                    return None;
                }
                let mut competing: Vec<f64> = earlier.iter().copied().chain([own]).collect();
                competing.sort_by(|a, b| {
                    if higher {
                        b.total_cmp(a)
                    } else {
                        a.total_cmp(b)
                    }
                });
                // The best 1/η go on; of fewer than η trials, the best one (as Optuna does).
                let kept = (competing.len() / reduction).max(1);
                let last_kept = competing[kept - 1];
                worse(own, last_kept).then(|| {
                    format!(
                        "pruned after epoch {epoch}: its best {name} {own:.4} is not among the \
                         best {kept} of the {} trials that reached it",
                        competing.len()
                    )
                })
            }
        }
    }
}

/// The best `metric` a run reached by `epoch`, once it has completed `epoch`: a trial is judged
/// by its best so far (as Optuna's pruners judge the trial at hand), so one noisy epoch of a
/// large learning rate does not end it.
fn best_by(rows: &[EpochMetrics], epoch: usize, metric: StopMetric) -> Option<f64> {
    rows.iter().find(|row| row.epoch == epoch)?;
    let values = rows
        .iter()
        .filter(|row| row.epoch <= epoch)
        .filter_map(|row| row.value(metric));
    if metric.higher_is_better() {
        values.reduce(f64::max)
    } else {
        values.reduce(f64::min)
    }
}

/// Successive halving's rungs: `after`, `after`·η, `after`·η², ...
fn is_rung(epoch: usize, after: usize, reduction: usize) -> bool {
    let mut rung = after;
    while rung < epoch {
        rung = rung.saturating_mul(reduction);
    }
    rung == epoch
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

/// One trial of a sweep with a `[prune]` section, judging itself after each epoch.
pub struct TrialPruner {
    spec: PruneSpec,
    folder: PathBuf,
    /// The run folders of the trials before it in the plan.
    earlier: Vec<(String, PathBuf)>,
    /// Whether the run is being stopped anyway (Ctrl-C): then nothing is waited for.
    stopping: Box<dyn Fn() -> bool + Send + Sync>,
}

impl TrialPruner {
    /// The pruner of the trial in `folder`, which must be a trial of the sweep whose plan is
    /// `plan_file`; `None` when the sweep prunes nothing.
    pub fn of_trial(
        plan_file: &Path,
        folder: &Path,
        stopping: Box<dyn Fn() -> bool + Send + Sync>,
    ) -> anyhow::Result<Option<Self>> {
        let sweep_dir = plan_file.parent().unwrap_or(Path::new("."));
        let plan = super::read_plan_file(plan_file)?;
        let Some(spec) = plan.prune.clone() else {
            return Ok(None);
        };
        let id = folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let position = plan
            .trials
            .iter()
            .position(|trial| trial.id == id)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: not a trial of {} (its trials are {})",
                    folder.display(),
                    plan_file.display(),
                    trial_range(&plan)
                )
            })?;
        let earlier = plan.trials[..position]
            .iter()
            .map(|trial: &Trial| (trial.id.clone(), sweep_dir.join(&trial.id)))
            .collect();
        Ok(Some(Self {
            spec,
            folder: folder.to_path_buf(),
            earlier,
            stopping,
        }))
    }

    /// Whether the trial stops after `epoch`, and why: its own value from its `metrics.csv`
    /// against the earlier trials'; waits (within `wait_seconds`) for those still short of
    /// `epoch`.
    pub fn after_epoch(&self, epoch: usize) -> Option<String> {
        if epoch < self.spec.after {
            return None;
        }
        let metric = self.spec.metric;
        let own = best_by(
            &read_metrics_csv(&self.folder.join(METRICS_FILE)).ok()?,
            epoch,
            metric,
        )?;
        let deadline = Instant::now() + Duration::from_secs(self.spec.wait_seconds);
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for (id, folder) in &self.earlier {
            match self.reached(folder, epoch, deadline) {
                Reached::Value(value) => values.push(value),
                Reached::Ended => {}
                Reached::NotInTime => missing.push(id.as_str()),
                // The run is stopping anyway: nothing to decide, nothing to say.
                Reached::Stopping => return None,
            }
        }
        if !missing.is_empty() {
            tell!(
                "prune: decided after epoch {epoch} without {} (not there within {} s)",
                missing.join(", "),
                self.spec.wait_seconds
            );
        }
        self.spec.judge(epoch, own, &values)
    }

    /// An earlier trial's value at `epoch`, once it has one; waits while it may still get
    /// one (it has not ended) until `deadline`.
    fn reached(&self, folder: &Path, epoch: usize, deadline: Instant) -> Reached {
        loop {
            let rows = read_metrics_csv(&folder.join(METRICS_FILE)).unwrap_or_default();
            if let Some(value) = best_by(&rows, epoch, self.spec.metric) {
                return Reached::Value(value);
            }
            if is_done(&summarise(folder, String::new())) {
                return Reached::Ended;
            }
            if (self.stopping)() {
                return Reached::Stopping;
            }
            if Instant::now() >= deadline {
                return Reached::NotInTime;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

enum Reached {
    Value(f64),
    /// Ended before `epoch` (finished early, pruned, failed): not compared.
    Ended,
    NotInTime,
    /// This trial was asked to stop while it waited.
    Stopping,
}

fn trial_range(plan: &SweepPlan) -> String {
    match (plan.trials.first(), plan.trials.last()) {
        (Some(first), Some(last)) => format!("{} to {}", first.id, last.id),
        _ => "none".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rule: PruneRule) -> PruneSpec {
        PruneSpec {
            rule,
            metric: StopMetric::ValidAcc,
            after: 2,
            min_trials: None,
            reduction: None,
            wait_seconds: 1,
        }
    }

    #[test]
    fn median_prunes_below_the_median_of_enough_earlier_trials_from_its_first_epoch() {
        let median = spec(PruneRule::Median);
        let earlier = [90.0, 92.0, 94.0];
        assert!(median.judge(2, 91.9, &earlier).is_some());
        assert!(median.judge(2, 92.0, &earlier).is_none(), "a tie goes on");
        assert!(median.judge(1, 50.0, &earlier).is_none(), "before `after`");
        assert!(median.judge(2, 50.0, &earlier[..2]).is_none(), "too few");
        assert!(median.judge(5, 92.5, &[90.0, 92.0, 94.0, 96.0]).is_some());
        let loss = PruneSpec {
            metric: StopMetric::ValidLoss,
            ..median
        };
        assert!(loss.judge(2, 0.31, &[0.2, 0.3, 0.4]).is_some());
        assert!(loss.judge(2, 0.29, &[0.2, 0.3, 0.4]).is_none());
    }

    #[test]
    fn a_trial_counts_its_best_epoch_so_far_once_it_has_reached_the_epoch() {
        let rows: Vec<EpochMetrics> = [(1, 90.0, 0.5), (2, 93.0, 0.3), (3, 92.0, 0.4)]
            .map(|(epoch, acc, loss)| EpochMetrics {
                epoch,
                valid_acc: Some(acc),
                valid_loss: Some(loss),
                ..EpochMetrics::default()
            })
            .to_vec();
        assert_eq!(best_by(&rows, 3, StopMetric::ValidAcc), Some(93.0));
        assert_eq!(best_by(&rows, 1, StopMetric::ValidAcc), Some(90.0));
        assert_eq!(best_by(&rows, 3, StopMetric::ValidLoss), Some(0.3));
        assert_eq!(best_by(&rows, 4, StopMetric::ValidAcc), None, "not reached");
    }

    #[test]
    fn a_trial_asked_to_stop_while_it_waits_stops_waiting_and_decides_nothing() {
        let sweep = tempfile::tempdir().unwrap();
        let (own, earlier) = (
            sweep.path().join("trial-002"),
            sweep.path().join("trial-001"),
        );
        // A trial's metrics.csv with these validation accuracies, epoch by epoch.
        let write_accuracies = |folder: &Path, accuracies: [f64; 2]| {
            std::fs::create_dir_all(folder).unwrap();
            let rows = [1, 2].map(|epoch| EpochMetrics {
                epoch,
                valid_acc: Some(accuracies[epoch - 1]),
                ..EpochMetrics::default()
            });
            mnist_runs::write_metrics_csv(&folder.join(METRICS_FILE), &rows).unwrap();
        };
        write_accuracies(&own, [80.0, 81.0]);
        // The earlier trial has not started: without a stop request it is waited for.
        let (folder, earlier_folder) = (own.clone(), earlier.clone());
        let pruner = move |stopping: bool| TrialPruner {
            spec: PruneSpec {
                min_trials: Some(1),
                wait_seconds: 600,
                ..spec(PruneRule::Median)
            },
            folder: folder.clone(),
            earlier: vec![("trial-001".into(), earlier_folder.clone())],
            stopping: Box::new(move || stopping),
        };
        let started = Instant::now();
        assert_eq!(pruner(true).after_epoch(2), None);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "it did not wait"
        );
        let waited = std::thread::spawn(move || pruner(false).after_epoch(2));
        std::thread::sleep(Duration::from_millis(500));
        assert!(!waited.is_finished(), "a trial not asked to stop waits");
        write_accuracies(&earlier, [90.0, 91.0]);
        assert!(waited.join().unwrap().is_some(), "then judged against it");
    }

    #[test]
    fn halving_keeps_the_best_third_at_its_rungs_only() {
        let halving = spec(PruneRule::Halving);
        assert!((1..=20).filter(|&e| is_rung(e, 2, 3)).eq([2, 6, 18]));
        // Of six trials at a rung the best two go on.
        let earlier = [91.0, 95.0, 93.0, 90.0, 92.0];
        assert!(halving.judge(6, 94.0, &earlier).is_none());
        assert!(halving.judge(6, 92.9, &earlier).is_some());
        assert!(halving.judge(5, 10.0, &earlier).is_none(), "not a rung");
        // Alone, a trial goes on; of two, only the better does.
        assert!(halving.judge(2, 10.0, &[]).is_none());
        assert!(halving.judge(2, 89.0, &[90.0]).is_some());
    }
}
