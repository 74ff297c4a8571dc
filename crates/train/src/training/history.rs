//! What a run has done so far, shared by the recorder that fills it in (inside Burn's
//! `Learner`), the device metrics that watch the loss, and the caller that reads it at the end.

use mnist_runs::EpochMetrics;

/// The epochs finished so far, shared between the recorder (inside the `Learner`) and the
/// caller, and what (if anything) made the recorder stop the run.
#[derive(Debug, Default)]
pub struct History {
    pub epochs: Vec<EpochMetrics>,
    pub write_error: Option<String>,
    pub divergence: Option<Divergence>,
    /// Training was stopped before its last epoch (a signal, or `q` in the dashboard).
    pub stopped_early: bool,
    /// Why the request's epoch gate (a sweep's pruning) ended the run.
    pub pruned: Option<String>,
    /// The epoch being trained, for naming where the loss diverged.
    pub epoch_in_progress: usize,
}

/// Where the training loss first stopped being a finite number.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    pub epoch: usize,
    /// 1-based optimiser step within the epoch.
    pub step: usize,
    pub loss: f64,
}
