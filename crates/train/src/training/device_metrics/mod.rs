//! Loss and accuracy that stay on the device between reads.
//!
//! Burn's `LossMetric` and `AccuracyMetric` read every step's values back to the host; on a
//! GPU each read waits for the whole queue, so the training loop stalls every step. These
//! metrics keep each step's loss and count of correct predictions as tensors on the device
//! and read a whole window of them in one transfer ([`SyncPolicy`]), then replay the values
//! through Burn's own `NumericMetricState` in step order: the epoch values are the same f64
//! numbers Burn's metrics give, bit for bit, whatever the window and however many steps an
//! item carries (`batched`). The loss and the accuracy of a split share one buffer, so a
//! window costs one read for both; a step that counted both on the host (the fused loss on
//! flex) costs none. Every training step's loss is read, so a non-finite one is
//! found at its exact step, and TensorBoard gets it with the step's learning rate
//! ([`StepWatch`]).

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use mnist_model::correct_predictions;

use window::{Pending, Window};

/// The names of the test split's metrics when the evaluation pass also validates.
pub const TEST_LOSS: &str = "Test Loss";
pub const TEST_ACCURACY: &str = "Test Accuracy";

mod steps;
mod window;

pub use steps::{StepValues, StepWatch};
pub use window::{SharedWindow, SyncCounter, SyncPolicy};

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
                    let loss = match step.tally {
                        Some(tally) => Pending::Host(tally.loss.into()),
                        None => Pending::Device(Box::new(step.loss.clone().mean())),
                    };
                    window.losses.push((loss, dims, number, lr));
                }
                Kind::Accuracy => {
                    let [batch, _] = step.outputs.dims();
                    let matches = match step.tally {
                        Some(tally) => Pending::Host(tally.correct as f64),
                        None => Pending::Device(Box::new(correct_predictions(
                            step.outputs.clone(),
                            step.targets.clone(),
                        ))),
                    };
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
