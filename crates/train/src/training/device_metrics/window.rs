//! A split's values waiting on the device, read back a window at a time ([`SyncPolicy`]),
//! and the reads counted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::prelude::Tensor;
use burn::tensor::TensorReadError;

use super::steps::StepWatch;

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
        if is_device {
            Self {
                min_steps: 16,
                interval: Some(Duration::from_millis(100)),
            }
        } else {
            Self::every(1)
        }
    }
}

/// Reads from the device, counted per split, for `--debug-syncs` and the tests (a window
/// whose values are all on the host reads nothing).
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

/// A step's value waiting in a window: still on the device, or already on the host.
pub(super) enum Pending {
    Device(Box<Tensor<1>>),
    Host(f64),
}

/// The values of one split waiting on the device, and those read but not yet taken by
/// their metric.
pub(super) struct Window {
    pub(super) policy: SyncPolicy,
    pub(super) reads: Arc<SyncCounter>,
    pub(super) is_train: bool,
    pub(super) watch: Option<StepWatch>,
    pub(super) last_read: Instant,
    /// Per step: the loss, its batch dimension, the step number and learning rate.
    pub(super) losses: Vec<(Pending, usize, usize, Option<f64>)>,
    /// Per step: the count of correct predictions and the batch size.
    pub(super) correct: Vec<(Pending, usize)>,
    pub(super) read_losses: Vec<(f64, usize)>,
    pub(super) read_accuracies: Vec<(f64, usize)>,
}

impl Window {
    /// Whether both metrics have given this step's values and the policy says read.
    pub(super) fn due(&self, last_step: bool) -> bool {
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

    /// Reads every pending value, those on the device in one transfer.
    pub(super) fn read(&mut self) -> Result<(), TensorReadError> {
        if self.losses.is_empty() && self.correct.is_empty() {
            return Ok(());
        }
        let losses = std::mem::take(&mut self.losses);
        let correct = std::mem::take(&mut self.correct);
        let pending = || {
            (losses.iter().map(|(value, ..)| value)).chain(correct.iter().map(|(value, _)| value))
        };
        let on_device: Vec<Tensor<1>> = pending()
            .filter_map(|value| match value {
                Pending::Device(tensor) => Some(tensor.as_ref().clone()),
                Pending::Host(_) => None,
            })
            .collect();
        let mut transferred = Vec::new().into_iter();
        if !on_device.is_empty() {
            transferred = Tensor::cat(on_device, 0)
                .try_into_vec_as::<f64>()?
                .into_iter();
            let counter = if self.is_train {
                &self.reads.train
            } else {
                &self.reads.test
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
        self.last_read = Instant::now();
        let values: Vec<f64> = pending()
            .map(|value| match value {
                Pending::Host(value) => *value,
                Pending::Device(_) => transferred.next().expect("one value a device tensor"),
            })
            .collect();
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

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.0.lock().expect("metric window lock")
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::Device;
    use burn::tensor::TensorData;

    use super::*;

    fn on_device(value: f32) -> Pending {
        let tensor = Tensor::from_data(TensorData::from([value]), &Device::flex());
        Pending::Device(Box::new(tensor))
    }

    #[test]
    fn host_and_device_values_are_read_in_step_order_and_only_device_ones_count() {
        let reads = Arc::new(SyncCounter::default());
        let window = SharedWindow::new(SyncPolicy::every(1), reads.clone(), None);
        let mut window = window.lock();
        window.losses = vec![
            (Pending::Host(0.25), 1, 1, None),
            (on_device(0.5), 1, 2, None),
            (Pending::Host(0.75), 1, 3, None),
        ];
        window.correct = vec![
            (on_device(3.0), 4),
            (Pending::Host(1.0), 4),
            (on_device(2.0), 4),
        ];
        window.read().unwrap();
        let losses: Vec<f64> = window.read_losses.iter().map(|(loss, _)| *loss).collect();
        let accuracies: Vec<f64> = window.read_accuracies.iter().map(|(acc, _)| *acc).collect();
        assert_eq!(losses, [0.25, 0.5, 0.75]);
        assert_eq!(accuracies, [75.0, 25.0, 50.0]);
        assert_eq!(reads.take(), (0, 1), "one transfer for the device's values");

        window.losses = vec![(Pending::Host(0.125), 1, 4, None)];
        window.correct = vec![(Pending::Host(2.0), 4)];
        window.read().unwrap();
        assert_eq!(window.read_losses.last().unwrap().0, 0.125);
        assert_eq!(reads.take(), (0, 0), "values on the host read nothing");
    }
}
