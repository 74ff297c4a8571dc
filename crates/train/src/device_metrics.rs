//! Loss and accuracy that stay on the device between reads.
//!
//! Burn's `LossMetric` and `AccuracyMetric` read every step's values back to the host; on a
//! GPU each read waits for the whole queue, so the training loop stalls every step. These
//! metrics keep each step's loss and count of correct predictions as tensors on the device
//! and read a whole window of them in one transfer ([`SyncPolicy`]), then replay the values
//! through Burn's own `NumericMetricState` in step order: the epoch values are the same f64
//! numbers Burn's metrics give, bit for bit, whatever the window and however many steps an
//! item carries (`batched`). The loss and the accuracy of a split share one buffer, so a
//! window costs one read for both. Every training step's loss is read, so a non-finite one is
//! found at its exact step, and TensorBoard gets it with the step's learning rate
//! ([`StepWatch`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::prelude::{Int, Tensor};
use burn::tensor::TensorReadError;
use burn::train::ClassificationOutput;
use burn::train::Interrupter;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use crate::history::{Divergence, History};
use crate::tensorboard::RunLog;
use mnist_model::TrainingSteps;

/// The names of the test split's metrics when the evaluation pass also validates.
pub const TEST_LOSS: &str = "Test Loss";
pub const TEST_ACCURACY: &str = "Test Accuracy";

/// Steps a window holds at most, whatever the policy: bounds the memory of pending values.
const MAX_WINDOW: usize = 4096;

/// When to read the pending values back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Read once this many steps are pending (and `interval` has passed, if set).
    pub min_steps: usize,
    /// Also wait this long since the last read, so reads come about ten times a second
    /// whatever the speed of the device.
    pub interval: Option<Duration>,
}

impl SyncPolicy {
    /// Every `n` steps.
    pub fn every(n: usize) -> Self {
        Self {
            min_steps: n.max(1),
            interval: None,
        }
    }

    /// What a backend gets unless told otherwise: every step on the CPU (a read costs
    /// nothing there), about ten times a second on a GPU.
    pub fn for_device(is_device: bool) -> Self {
        match is_device {
            false => Self::every(1),
            true => Self {
                min_steps: 16,
                interval: Some(Duration::from_millis(100)),
            },
        }
    }
}

/// Reads from the device, counted per split, for `--debug-syncs` and the tests.
#[derive(Debug, Default)]
pub struct SyncCounter {
    pub train: AtomicUsize,
    pub test: AtomicUsize,
}

impl SyncCounter {
    /// The reads since the last call, `(train, test)`, and starts counting again.
    pub fn take(&self) -> (usize, usize) {
        (
            self.train.swap(0, Ordering::SeqCst),
            self.test.swap(0, Ordering::SeqCst),
        )
    }
}

/// What happens to each training step's loss once it is read: the run stops at the first
/// non-finite one, naming its epoch and step; TensorBoard logs it with the step's learning
/// rate.
#[derive(Clone)]
pub struct StepWatch {
    pub history: Arc<Mutex<History>>,
    pub interrupter: Interrupter,
    pub log: Arc<Mutex<RunLog>>,
}

impl StepWatch {
    fn read(&self, step: usize, loss: f64, lr: Option<f64>) {
        let mut history = self.history.lock().expect("history lock");
        let epoch = history.epoch_in_progress;
        if let Some(lr) = lr {
            self.log
                .lock()
                .expect("log lock")
                .step(epoch, step, loss, lr);
        }
        if !loss.is_finite() && history.divergence.is_none() {
            history.divergence = Some(Divergence { epoch, step, loss });
            self.interrupter
                .stop(Some("the training loss is not a finite number"));
        }
    }
}

/// The values of the steps an item carries, as both metrics take them.
pub struct StepValues(Vec<StepValue>);

struct StepValue {
    loss: Tensor<1>,
    outputs: Tensor<2>,
    targets: Tensor<1, Int>,
    /// The step's iteration in the epoch and learning rate, where the item says them step by
    /// step (else the item's metadata does).
    iteration: Option<usize>,
    lr: Option<f64>,
}

impl Adaptor<StepValues> for ClassificationOutput {
    fn adapt(&self) -> StepValues {
        StepValues(vec![StepValue {
            loss: self.loss.clone(),
            outputs: self.output.clone(),
            targets: self.targets.clone(),
            iteration: None,
            lr: None,
        }])
    }
}

impl Adaptor<StepValues> for TrainingSteps {
    fn adapt(&self) -> StepValues {
        StepValues(
            self.steps
                .iter()
                .map(|step| StepValue {
                    loss: step.output.loss.clone(),
                    outputs: step.output.output.clone(),
                    targets: step.output.targets.clone(),
                    iteration: step.iteration,
                    lr: step.lr,
                })
                .collect(),
        )
    }
}

/// The values of one split waiting on the device, and those read but not yet taken by
/// their metric.
struct Window {
    policy: SyncPolicy,
    reads: Arc<SyncCounter>,
    is_train: bool,
    watch: Option<StepWatch>,
    last_read: Instant,
    /// Per step: the loss tensor, its batch dimension, the step number and learning rate.
    losses: Vec<(Tensor<1>, usize, usize, Option<f64>)>,
    /// Per step: the count of correct predictions (as a float tensor) and the batch size.
    correct: Vec<(Tensor<1>, usize)>,
    read_losses: Vec<(f64, usize)>,
    read_accuracies: Vec<(f64, usize)>,
}

impl Window {
    /// Whether both metrics have given this step's values and the policy says read.
    fn due(&self, last_step: bool) -> bool {
        let pending = self.losses.len();
        if pending == 0 || pending != self.correct.len() {
            return false;
        }
        let waited = self
            .policy
            .interval
            .is_none_or(|interval| self.last_read.elapsed() >= interval);
        last_step || pending >= MAX_WINDOW || (pending >= self.policy.min_steps && waited)
    }

    /// Reads every pending value in one transfer.
    fn read(&mut self) -> Result<(), TensorReadError> {
        if self.losses.is_empty() && self.correct.is_empty() {
            return Ok(());
        }
        let losses = std::mem::take(&mut self.losses);
        let correct = std::mem::take(&mut self.correct);
        let tensors: Vec<Tensor<1>> = losses
            .iter()
            .map(|(loss, ..)| loss.clone())
            .chain(correct.iter().map(|(count, _)| count.clone()))
            .collect();
        let values = Tensor::cat(tensors, 0).try_into_vec_as::<f64>()?;
        let counter = match self.is_train {
            true => &self.reads.train,
            false => &self.reads.test,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.last_read = Instant::now();
        let (loss_values, correct_values) = values.split_at(losses.len());
        for ((_, dims, step, lr), &loss) in losses.iter().zip(loss_values) {
            if let Some(watch) = &self.watch {
                watch.read(*step, loss, *lr);
            }
            self.read_losses.push((loss, *dims));
        }
        for ((_, batch), &matches) in correct.iter().zip(correct_values) {
            // AccuracyMetric's formula, to the bit: 100 * (matches / batch), weighted by batch.
            self.read_accuracies
                .push((100.0 * (matches / *batch as f64), *batch));
        }
        Ok(())
    }
}

/// The window of one split, shared by its loss and accuracy metrics.
#[derive(Clone)]
pub struct SharedWindow(Arc<Mutex<Window>>);

impl SharedWindow {
    /// A window for the training split (`watch` set) or the test split.
    pub fn new(policy: SyncPolicy, reads: Arc<SyncCounter>, watch: Option<StepWatch>) -> Self {
        Self(Arc::new(Mutex::new(Window {
            policy,
            reads,
            is_train: watch.is_some(),
            watch,
            last_read: Instant::now(),
            losses: Vec::new(),
            correct: Vec::new(),
            read_losses: Vec::new(),
            read_accuracies: Vec::new(),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.0.lock().expect("metric window lock")
    }
}

/// Which of the two values a [`DeviceMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Loss,
    Accuracy,
}

/// Which items of an evaluation pass a metric counts. With a validation split, Burn's one
/// evaluation loader yields the validation batches and then the test batches (see
/// `holdout::Chained`), and each item's progress says which it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every item.
    All,
    /// The first `n` items of the pass: the validation split.
    First(usize),
    /// The items after the first `n`: the test split.
    After(usize),
}

impl Part {
    /// Whether the batch that brought the pass to `processed` items is this part's.
    fn holds(self, processed: usize) -> bool {
        match self {
            Part::All => true,
            Part::First(n) => processed <= n,
            Part::After(n) => processed > n,
        }
    }
}

/// Burn's "Loss" or "Accuracy", read through a [`SharedWindow`].
#[derive(Clone)]
pub struct DeviceMetric {
    kind: Kind,
    name: MetricName,
    part: Part,
    window: SharedWindow,
    state: NumericMetricState,
    /// Whether the last update brought new values (only then is there a point to draw).
    fresh: bool,
}

impl DeviceMetric {
    /// The mean cross-entropy loss, as Burn's `LossMetric` reports it.
    pub fn loss(window: SharedWindow) -> Self {
        Self::new(Kind::Loss, "Loss", window)
    }

    /// The percentage of correct predictions, as Burn's `AccuracyMetric` reports it.
    pub fn accuracy(window: SharedWindow) -> Self {
        Self::new(Kind::Accuracy, "Accuracy", window)
    }

    /// The test split's share of an evaluation pass that also validates (after the first
    /// `validation` items), as "Test Loss" or "Test Accuracy".
    pub fn test_part(self, validation: usize) -> Self {
        let name = match self.kind {
            Kind::Loss => TEST_LOSS,
            Kind::Accuracy => TEST_ACCURACY,
        };
        Self {
            name: Arc::new(name.to_string()),
            part: Part::After(validation),
            ..self
        }
    }

    /// Only the first `validation` items of an evaluation pass: the validation split.
    pub fn validation_part(self, validation: usize) -> Self {
        Self {
            part: Part::First(validation),
            ..self
        }
    }

    fn new(kind: Kind, name: &str, window: SharedWindow) -> Self {
        Self {
            kind,
            name: Arc::new(name.to_string()),
            part: Part::All,
            window,
            state: NumericMetricState::new(),
            fresh: false,
        }
    }

    fn format(&self) -> FormatOptions {
        let format = FormatOptions::new(self.name.clone()).precision(2);
        match self.kind {
            Kind::Loss => format,
            Kind::Accuracy => format.unit("%"),
        }
    }

    /// Moves this metric's values that have been read into its state, in step order.
    fn take_read(&mut self, window: &mut Window) {
        let read = match self.kind {
            Kind::Loss => std::mem::take(&mut window.read_losses),
            Kind::Accuracy => std::mem::take(&mut window.read_accuracies),
        };
        self.fresh = !read.is_empty();
        for (value, count) in read {
            self.state.update(value, count);
        }
    }
}

impl Metric for DeviceMetric {
    type Input = StepValues;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: (self.kind == Kind::Accuracy).then(|| "%".to_string()),
            higher_is_better: self.kind == Kind::Accuracy,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &StepValues,
        metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let window = self.window.clone();
        let mut window = window.lock();
        if !self.part.holds(metadata.progress.items_processed) {
            self.fresh = false;
            return Ok(self.state.compute_update(self.format()));
        }
        for step in &item.0 {
            match self.kind {
                Kind::Loss => {
                    let [dims] = step.loss.dims();
                    let number = step
                        .iteration
                        .or(metadata.iteration)
                        .unwrap_or(window.losses.len() + 1);
                    let lr = step.lr.or_else(|| metadata.lr.as_ref().map(|lr| lr.base()));
                    window
                        .losses
                        .push((step.loss.clone().mean(), dims, number, lr));
                }
                Kind::Accuracy => {
                    let [batch, _] = step.outputs.dims();
                    let matches = step
                        .outputs
                        .clone()
                        .argmax(1)
                        .reshape([batch])
                        .equal(step.targets.clone())
                        .int()
                        .sum()
                        .float();
                    window.correct.push((matches, batch));
                }
            }
        }
        if window.due(metadata.progress.is_completed()) {
            window.read()?;
        }
        self.take_read(&mut window);
        Ok(self.state.compute_update(self.format()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        let window = self.window.clone();
        let mut window = window.lock();
        window.read()?;
        self.take_read(&mut window);
        Ok(self.state.compute_final(self.format()))
    }

    fn clear(&mut self) {
        self.state.reset();
        self.fresh = false;
    }
}

impl Numeric for DeviceMetric {
    fn value(&self) -> Option<NumericEntry> {
        self.fresh.then(|| self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.fresh.then(|| self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}
