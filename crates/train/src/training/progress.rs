//! Where a run's progress shows: Burn's terminal dashboard, or one plain line per epoch. The
//! recorder hands every event of the `Learner` to one of these and tells it when an epoch is
//! done, so it never has to ask which one it has.

use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use mnist_runs::EpochMetrics;

/// A renderer of Burn's events that also hears of each finished epoch.
pub trait Progress: MetricsRenderer {
    /// `row` is the epoch just finished, of `total_epochs`.
    fn epoch_done(&mut self, row: &EpochMetrics, total_epochs: usize);
}

/// The dashboard shows epochs as they happen.
impl Progress for TuiMetricsRendererWrapper {
    fn epoch_done(&mut self, _row: &EpochMetrics, _total_epochs: usize) {}
}

/// One line per epoch on standard output, nothing per step: what a log file or a pipe wants
/// (Burn's own fallback prints a debug line for every step).
pub struct PlainLines;

impl Progress for PlainLines {
    fn epoch_done(&mut self, row: &EpochMetrics, total_epochs: usize) {
        say!("{}", row.summary_line(total_epochs));
    }
}

impl MetricsRendererTraining for PlainLines {
    fn update_train(&mut self, _state: MetricState) {}

    fn update_valid(&mut self, _state: MetricState) {}

    /// Burn's default prints the summary; the run's own lines have said it all.
    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for PlainLines {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for PlainLines {
    fn start(&mut self, _: usize, _: usize, _: Option<usize>, _: Option<&str>) {}
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for PlainLines {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for PlainLines {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
