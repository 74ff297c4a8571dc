//! `[early_stopping]`: stop when the validation split stops improving, and keep the best
//! epoch's weights (Burn's `Learner` hands back the last epoch's).

use serde::{Deserialize, Serialize};

/// The metric watched, on the validation split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopMetric {
    ValidLoss,
    ValidAcc,
    /// Named so that it can be refused with the reason, not as an unknown value.
    TestLoss,
    TestAcc,
}

impl StopMetric {
    /// The name of its column in `metrics.csv`, as configs write it.
    pub fn name(self) -> &'static str {
        match self {
            StopMetric::ValidLoss => "valid_loss",
            StopMetric::ValidAcc => "valid_acc",
            StopMetric::TestLoss => "test_loss",
            StopMetric::TestAcc => "test_acc",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, StopMetric::ValidAcc | StopMetric::TestAcc)
    }
}

/// Which weights `model.bpk` holds when the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The best epoch's by the watched metric.
    Best,
    /// The last epoch's.
    Last,
}

/// Stop after `patience` epochs without a strictly better `metric` (Burn's
/// `StoppingCondition::NoImprovementSince`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EarlyStoppingConfig {
    /// `valid_loss` or `valid_acc`.
    pub metric: StopMetric,
    /// Epochs without improvement before the run stops.
    pub patience: usize,
    /// `best` or `last`.
    pub keep: Keep,
}

impl Default for EarlyStoppingConfig {
    fn default() -> Self {
        Self {
            metric: StopMetric::ValidLoss,
            patience: 3,
            keep: Keep::Best,
        }
    }
}

impl EarlyStoppingConfig {
    /// Checks the section against the data it selects on (`validation` images held out).
    pub fn validate(&self, validation: usize) -> Result<(), (String, String)> {
        let refuse =
            |key: &str, reason: &str| Err((format!("early_stopping.{key}"), reason.into()));
        match self.metric {
            StopMetric::TestLoss | StopMetric::TestAcc => refuse(
                "metric",
                "cannot watch the test split: choosing the epoch by it makes its accuracy an \
                 optimistic estimate; use valid_loss or valid_acc (with data.validation)",
            ),
            _ if validation == 0 => refuse(
                "metric",
                "needs a validation split to watch: set data.validation (5000 is usual)",
            ),
            _ if self.patience == 0 => refuse("patience", "must be at least 1"),
            _ => Ok(()),
        }
    }
}
