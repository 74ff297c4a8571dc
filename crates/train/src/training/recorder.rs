//! What the `Learner` reports, turned into what a person wants: one line per epoch (or Burn's
//! dashboard in a terminal) and a `metrics.csv` that grows as the run goes.
//!
//! Burn 0.22's fallback renderer prints a debug line for every step, and its default metric
//! logger writes every step's value to files. [`EpochRecorder`] is a `MetricsRenderer` that
//! keeps only epoch-level values (forwarding everything to the TUI or the plain lines), and
//! [`EpochMetricLogger`] answers the checkpointer's "which epoch was best" from memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::logger::{EvaluationProgressLogger, MetricLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn::train::{Interrupter, LearnerSummary};

use crate::training::device_metrics::{SyncCounter, TEST_ACCURACY, TEST_LOSS};
use crate::training::history::History;
use crate::training::progress::Progress;
use crate::training::tensorboard::RunLog;
use mnist_runs::EpochMetrics;

/// Burn's names for the two metrics every run tracks.
const LOSS: &str = "Loss";
const ACCURACY: &str = "Accuracy";

/// The metrics that go into `metrics.csv`, looked up by id on every step (no name compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracked {
    Loss,
    Accuracy,
    /// Of the test split, when the evaluation pass also validates ("Loss" and "Accuracy"
    /// are then the validation split's).
    TestLoss,
    TestAccuracy,
}

/// A `MetricsRenderer` that collects epoch-level metrics and split timings, rewrites
/// `metrics.csv` and logs TensorBoard after every epoch, and forwards every event to the
/// run's [`Progress`] (the dashboard or plain lines).
pub struct EpochRecorder {
    progress: Box<dyn Progress>,
    csv_path: PathBuf,
    history: Arc<Mutex<History>>,
    interrupter: Interrupter,
    /// Device reads, printed after each epoch when set (`--debug-syncs`).
    syncs: Option<Arc<SyncCounter>>,
    tracked: HashMap<MetricId, Tracked>,
    /// Every epoch's metrics go here (the training steps' go from the metrics, as they are
    /// read: `device_metrics::StepWatch`).
    tensorboard: Arc<Mutex<RunLog>>,
    current: EpochMetrics,
    epoch: usize,
    split_started: Instant,
    in_valid_split: bool,
    total_epochs: usize,
    steps: StepCounter,
}

/// The training steps behind each event, from the items Burn reports: an event of the batched
/// strategy carries several steps, and the dashboard counts one "Iteration" an event.
#[derive(Debug)]
struct StepCounter {
    batch_size: usize,
    /// The split's items so far, and at the last event.
    items_processed: usize,
    items_counted: usize,
}

impl StepCounter {
    fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            items_processed: 0,
            items_counted: 0,
        }
    }

    fn start_split(&mut self) {
        (self.items_processed, self.items_counted) = (0, 0);
    }

    fn update(&mut self, items_processed: usize) {
        self.items_processed = items_processed;
    }

    /// The steps since the last event (at least one: an event is one step or more).
    fn event(&mut self) -> usize {
        let items = self.items_processed.saturating_sub(self.items_counted);
        self.items_counted = self.items_processed;
        items.div_ceil(self.batch_size).max(1)
    }
}

impl EpochRecorder {
    /// Shows the run through `progress`; writes `csv_path`, starting from the epochs already
    /// in `history` (a resumed run).
    pub fn new(
        progress: Box<dyn Progress>,
        csv_path: PathBuf,
        history: Arc<Mutex<History>>,
        interrupter: Interrupter,
        syncs: Option<Arc<SyncCounter>>,
        tensorboard: Arc<Mutex<RunLog>>,
        batch_size: usize,
    ) -> Self {
        Self {
            progress,
            csv_path,
            history,
            interrupter,
            syncs,
            tracked: HashMap::new(),
            tensorboard,
            current: EpochMetrics::default(),
            epoch: 1,
            split_started: Instant::now(),
            in_valid_split: false,
            total_epochs: 0,
            steps: StepCounter::new(batch_size),
        }
    }

    fn record(&mut self, state: &MetricState, valid: bool) {
        let MetricState::Numeric(entry, Some(numeric)) = state else {
            return;
        };
        let Some(&metric) = self.tracked.get(&entry.metric_id) else {
            return;
        };
        let NumericEntry::Final(value) = numeric else {
            return;
        };
        let value = *value;
        let validating = self.tracked.values().any(|&m| m == Tracked::TestLoss);
        let current = &mut self.current;
        match (metric, valid) {
            (Tracked::Loss, false) => current.train_loss = value,
            (Tracked::Accuracy, false) => current.train_acc = value,
            (Tracked::Loss, true) if validating => current.valid_loss = Some(value),
            (Tracked::Accuracy, true) if validating => current.valid_acc = Some(value),
            (Tracked::Loss, true) | (Tracked::TestLoss, _) => current.test_loss = value,
            (Tracked::Accuracy, true) | (Tracked::TestAccuracy, _) => current.test_acc = value,
        }
    }

    fn finish_epoch(&mut self, epoch: usize) {
        let row = EpochMetrics {
            epoch,
            ..self.current.clone()
        };
        self.progress.epoch_done(&row, self.total_epochs);
        self.tensorboard.lock().expect("log lock").epoch(&row);
        if let Some(syncs) = &self.syncs {
            let (train, test) = syncs.take();
            say!(
                "epoch {epoch}: {} reads from the device (train {train}, test {test})",
                train + test
            );
        }
        let mut history = self.history.lock().expect("history lock");
        history.epochs.push(row);
        history.epoch_in_progress = epoch + 1;
        if let Err(error) = mnist_runs::write_metrics_csv(&self.csv_path, &history.epochs)
            && history.write_error.is_none()
        {
            history.write_error = Some(format!("{}: {error}", self.csv_path.display()));
            self.interrupter
                .stop(Some("metrics.csv could not be written"));
        }
        self.current = EpochMetrics::default();
        self.epoch = epoch + 1;
    }
}

impl MetricsRendererTraining for EpochRecorder {
    fn update_train(&mut self, state: MetricState) {
        self.record(&state, false);
        self.progress.update_train(state);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(&state, true);
        self.progress.update_valid(state);
    }

    fn on_train_end(
        &mut self,
        summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        // Recorded here because Burn's dashboard clears the interrupter when training ends,
        // after which the Learner's result no longer says it was interrupted.
        if self.interrupter.should_stop() {
            self.history.lock().expect("history lock").stopped_early = true;
        }
        self.progress.on_train_end(summary)
    }
}

impl MetricsRendererEvaluation for EpochRecorder {
    fn update_test(&mut self, name: EvaluationName, state: MetricState) {
        self.progress.update_test(name, state);
    }
}

impl TrainingProgressLogger for EpochRecorder {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        total_items: Option<usize>,
        label: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        self.epoch = starting_epoch;
        self.history.lock().expect("history lock").epoch_in_progress = starting_epoch;
        self.progress
            .start(total_epochs, starting_epoch, total_items, label);
    }

    fn update_epoch(&mut self, epoch: usize) {
        // A stop during the test split cuts it short: that epoch is not complete, and Burn
        // does not checkpoint it either.
        if !self.interrupter.should_stop() {
            self.finish_epoch(epoch);
        }
        self.progress.update_epoch(epoch);
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.in_valid_split = split == "valid";
        self.split_started = Instant::now();
        self.steps.start_split();
        self.progress.start_split(split, total_items);
    }

    fn update_split(&mut self, items_processed: usize) {
        self.steps.update(items_processed);
        self.progress.update_split(items_processed);
    }

    fn end_split(&mut self) {
        let seconds = self.split_started.elapsed().as_secs_f64();
        if self.in_valid_split {
            self.current.test_seconds = seconds
        } else {
            self.current.train_seconds = seconds
        }
        self.progress.end_split();
    }

    fn end(&mut self) {
        self.progress.end();
    }

    /// One "Iteration" a step, as Burn's own loop counts them.
    fn log_event_training(&mut self, event: String) {
        for _ in 1..self.steps.event() {
            self.progress.log_event_training(event.clone());
        }
        self.progress.log_event_training(event);
    }
}

impl EvaluationProgressLogger for EpochRecorder {
    fn start_global_progress(&mut self, total_tests: usize) {
        self.progress.start_global_progress(total_tests);
    }

    fn start_test(&mut self, name: &str, total_items: usize) {
        self.progress.start_test(name, total_items);
    }

    fn update_test_progress(&mut self, items_processed: usize) {
        self.progress.update_test_progress(items_processed);
    }

    fn end_test(&mut self) {
        self.progress.end_test();
    }

    fn end_global_progress(&mut self) {
        self.progress.end_global_progress();
    }

    fn log_event_evaluation(&mut self, event: String) {
        self.progress.log_event_evaluation(event);
    }
}

impl MetricsRenderer for EpochRecorder {
    fn manual_close(&mut self) {
        self.progress.manual_close();
    }

    fn register_metric(&mut self, definition: MetricDefinition) {
        let metric = match definition.name.as_str() {
            LOSS => Some(Tracked::Loss),
            ACCURACY => Some(Tracked::Accuracy),
            TEST_LOSS => Some(Tracked::TestLoss),
            TEST_ACCURACY => Some(Tracked::TestAccuracy),
            _ => None,
        };
        if let Some(metric) = metric {
            self.tracked.insert(definition.metric_id.clone(), metric);
        }
        self.progress.register_metric(definition);
    }
}

/// Keeps each metric's epoch value in memory so Burn's checkpointer can find the best epoch,
/// instead of Burn's default logger that appends every step's value to files.
pub struct EpochMetricLogger {
    metric_names: HashMap<MetricId, String>,
    finals: HashMap<(String, Split, usize), f64>,
}

impl EpochMetricLogger {
    /// A logger that already knows `epochs` (those before a resumed run's first one).
    pub fn with_epochs(epochs: &[EpochMetrics]) -> Self {
        let mut finals = HashMap::new();
        for row in epochs {
            // With a validation split, the evaluation pass's "Loss" is the validation split's.
            let evaluated = [
                (LOSS, Split::Valid, row.valid_loss.unwrap_or(row.test_loss)),
                (
                    ACCURACY,
                    Split::Valid,
                    row.valid_acc.unwrap_or(row.test_acc),
                ),
                (TEST_LOSS, Split::Valid, row.test_loss),
                (TEST_ACCURACY, Split::Valid, row.test_acc),
            ];
            let tested = usize::from(row.valid_loss.is_some()) * 2;
            for (name, split, value) in [
                (LOSS, Split::Train, row.train_loss),
                (ACCURACY, Split::Train, row.train_acc),
            ]
            .into_iter()
            .chain(evaluated.into_iter().take(2 + tested))
            {
                finals.insert((name.to_string(), split, row.epoch), value);
            }
        }
        Self {
            metric_names: HashMap::new(),
            finals,
        }
    }
}

impl MetricLogger for EpochMetricLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        for numeric in update.entries_numeric {
            if let (Some(NumericEntry::Final(value)), Some(name)) = (
                numeric.numeric_entry,
                self.metric_names.get(&numeric.entry.metric_id),
            ) {
                self.finals
                    .insert((name.clone(), split.clone(), epoch), value);
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        Ok(self
            .finals
            .get(&(name.to_string(), split.clone(), epoch))
            .map(|value| vec![NumericEntry::Final(*value)])
            .unwrap_or_default())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.metric_names
            .insert(definition.metric_id, definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {}
}

#[cfg(test)]
mod tests {
    use super::StepCounter;

    /// 2,000 images in batches of 32 (63 steps, the last of 16) handed over as the batched
    /// strategy does, a few steps an event: the dashboard counts each step once.
    #[test]
    fn each_step_counts_once_however_many_an_event_carries() {
        let mut counter = StepCounter::new(32);
        counter.start_split();
        let mut counted = 0;
        for items in [32, 96, 1024, 1600, 2000] {
            counter.update(items);
            counted += counter.event();
        }
        assert_eq!(counted, 63);
        // A new split counts from its start; an event with no new items is still one step.
        counter.start_split();
        counter.update(64);
        assert_eq!((counter.event(), counter.event()), (2, 1));
    }
}
