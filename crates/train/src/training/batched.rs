//! Burn's single-device training loop, handing its metrics several steps at a time.
//!
//! Mirrors burn-train 0.22.1's `learner/supervised/strategies/single/strategy.rs` and
//! `single/epoch.rs` (crate-private there): each batch is one `train_step`, `lr_step` and
//! `optimizer_step`, and the interrupter is checked after every step, exactly as Burn does. What
//! differs is the hand-off: `SupervisedTraining::launch` wraps the event processor in
//! `AsyncProcessorTraining`, whose `bounded(1)` channel wakes (or waits for) its metric thread
//! once per item, so Burn's loop pays a thread hand-off every step. Here the steps' outputs
//! are gathered and handed over as one item ([`TrainingSteps`]) at most every
//! [`HAND_OFF_INTERVAL`] (so the dashboard still moves ten times a second or more), at
//! [`MAX_STEPS_PER_ITEM`], and at the end of the epoch or of the run. Each step keeps its
//! own iteration and learning rate, and the device-side metrics take the steps one by one, so
//! every metric is the one Burn's loop gives, bit for bit. Evaluation is Burn's, an item a
//! batch (a few per epoch).

use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::data::dataloader::Progress;
use burn::module::Module;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::prelude::Device;
use burn::train::{
    EventProcessorTraining, InferenceStep, Interrupter, Learner, LearnerEvent,
    SupervisedLearningStrategy, SupervisedTrainingEventProcessor, TrainLoader, TrainingComponents,
    TrainingItem, TrainingStrategy, ValidLoader,
};
use mnist_model::{LogisticRegression, TrainingStep, TrainingSteps};

/// The longest the metrics (and so the dashboard) wait for the steps taken.
pub const HAND_OFF_INTERVAL: Duration = Duration::from_millis(50);
/// The most steps one item carries: bounds the outputs held between hand-offs.
pub const MAX_STEPS_PER_ITEM: usize = 512;

/// Single-device training that hands its metrics several steps at a time.
pub struct BatchedSingleDevice {
    device: Device,
}

impl BatchedSingleDevice {
    /// The strategy for `device`, as Burn's `SupervisedTraining` takes it. A custom strategy
    /// gets the device as given (Burn's own puts it in autodiff mode itself).
    pub fn strategy(device: &Device) -> TrainingStrategy<LogisticRegression> {
        let device = if device.is_autodiff() {
            device.clone()
        } else {
            device.clone().autodiff()
        };
        TrainingStrategy::Custom(Arc::new(Self { device }))
    }

    /// One epoch of training: Burn's `SingleDeviceTrainEpoch::run` without gradient
    /// accumulation (no config here asks for it), its items gathered into [`Pending`].
    fn train_epoch(
        &self,
        learner: &mut Learner<LogisticRegression>,
        loader: &TrainLoader<LogisticRegression>,
        processor: &mut SupervisedTrainingEventProcessor<LogisticRegression>,
        interrupter: &Interrupter,
    ) {
        let mut iterator = loader.iter();
        let mut iteration = 0;
        let mut pending = Pending::default();
        while let Some(item) = iterator.next() {
            let item = match item {
                Ok(item) => item,
                Err(error) => {
                    interrupter.fail(error);
                    break;
                }
            };
            iteration += 1;
            let progress = iterator.progress();
            let output = learner.train_step(item);
            learner.lr_step();
            learner.optimizer_step(output.grads);
            let lr = learner.lr_current();
            pending.push(output.item, progress, iteration, lr);
            if pending.due() {
                pending.hand_off(processor, interrupter);
            }
            if interrupter.should_stop() {
                break;
            }
        }
        // Every step taken reaches the metrics, as in Burn's loop, also when stopped.
        pending.hand_off(processor, interrupter);
    }
}

/// Steps taken but not yet handed to the metrics.
struct Pending {
    steps: Vec<TrainingStep>,
    /// The last step's progress, iteration and learning rate: what the item carries.
    last: Option<(Progress, usize, ModuleLearningRate)>,
    since: Instant,
}

impl Default for Pending {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            last: None,
            since: Instant::now(),
        }
    }
}

impl Pending {
    fn push(
        &mut self,
        steps: TrainingSteps,
        progress: Progress,
        iteration: usize,
        lr: ModuleLearningRate,
    ) {
        let base = lr.base();
        for step in steps.steps {
            self.steps.push(TrainingStep {
                iteration: Some(iteration),
                lr: Some(base),
                ..step
            });
        }
        self.last = Some((progress, iteration, lr));
    }

    fn due(&self) -> bool {
        hand_off_due(self.steps.len(), self.since.elapsed())
    }

    fn hand_off(
        &mut self,
        processor: &mut SupervisedTrainingEventProcessor<LogisticRegression>,
        interrupter: &Interrupter,
    ) {
        self.since = Instant::now();
        let Some((progress, iteration, lr)) = self.last.take() else {
            return;
        };
        let steps = TrainingSteps {
            steps: std::mem::take(&mut self.steps),
        };
        let item = TrainingItem::new(steps, progress, Some(iteration), Some(lr));
        interrupter.fail_on_error(processor.process_train(LearnerEvent::ProcessedItem(item)));
    }
}

/// Whether `steps` gathered over `waited` since the last hand-off are handed over now.
fn hand_off_due(steps: usize, waited: Duration) -> bool {
    steps >= MAX_STEPS_PER_ITEM || waited >= HAND_OFF_INTERVAL
}

/// One evaluation pass: Burn's `SingleDeviceValidEpoch::run`.
fn valid_epoch(
    learner: &Learner<LogisticRegression>,
    loader: &ValidLoader<LogisticRegression>,
    processor: &mut SupervisedTrainingEventProcessor<LogisticRegression>,
    interrupter: &Interrupter,
) {
    let model = learner.model().valid();
    let mut iterator = loader.iter();
    let mut iteration = 0;
    while let Some(item) = iterator.next() {
        let item = match item {
            Ok(item) => item,
            Err(error) => {
                interrupter.fail(error);
                break;
            }
        };
        let progress = iterator.progress();
        iteration += 1;
        let item = InferenceStep::step(&model, item);
        let item = TrainingItem::new(item, progress, Some(iteration), None);
        interrupter.fail_on_error(processor.process_valid(LearnerEvent::ProcessedItem(item)));
        if interrupter.should_stop() {
            break;
        }
    }
}

impl SupervisedLearningStrategy<LogisticRegression> for BatchedSingleDevice {
    /// Burn's `SingleDeviceTrainingStrategy::fit`, epoch for epoch.
    fn fit(
        &self,
        components: TrainingComponents<LogisticRegression>,
        mut learner: Learner<LogisticRegression>,
        dataloader_train: TrainLoader<LogisticRegression>,
        dataloader_valid: ValidLoader<LogisticRegression>,
        starting_epoch: usize,
    ) -> (
        LogisticRegression,
        SupervisedTrainingEventProcessor<LogisticRegression>,
    ) {
        let TrainingComponents {
            num_epochs,
            mut checkpointer,
            interrupter,
            mut early_stopping,
            event_processor: mut processor,
            event_store,
            ..
        } = components;
        let dataloader_train = dataloader_train.to_device(&self.device);
        let train_items = dataloader_train.num_items();
        let dataloader_valid = dataloader_valid.to_device(&self.device.clone().inner());
        let valid_items = dataloader_valid.num_items();
        learner.fork(&self.device);

        for epoch in starting_epoch..=num_epochs {
            interrupter.fail_on_error(processor.process_train(LearnerEvent::StartSplit {
                epoch_number: epoch,
                total_items: train_items,
            }));
            self.train_epoch(
                &mut learner,
                &dataloader_train,
                &mut processor,
                &interrupter,
            );
            interrupter.fail_on_error(processor.process_train(LearnerEvent::EndSplit(epoch)));
            if interrupter.should_stop() {
                break;
            }
            interrupter.fail_on_error(processor.process_valid(LearnerEvent::StartSplit {
                epoch_number: epoch,
                total_items: valid_items,
            }));
            valid_epoch(&learner, &dataloader_valid, &mut processor, &interrupter);
            interrupter.fail_on_error(processor.process_valid(LearnerEvent::EndSplit(epoch)));
            interrupter.fail_on_error(processor.process_train(LearnerEvent::EndEpoch(epoch)));
            if checkpointer.is_some() || early_stopping.is_some() {
                interrupter.fail_on_error(processor.flush());
            }
            if interrupter.should_stop() {
                break;
            }
            if let Some(checkpointer) = &mut checkpointer {
                checkpointer.checkpoint(&learner, epoch, &event_store);
            }
            if let Some(early_stopping) = &mut early_stopping
                && early_stopping.should_stop(epoch, &event_store)
            {
                break;
            }
        }
        (learner.model(), processor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_handed_over_when_an_item_is_full_or_the_interval_has_passed() {
        let (full, interval) = (MAX_STEPS_PER_ITEM, HAND_OFF_INTERVAL);
        let moment = Duration::from_millis(1);
        assert!(!hand_off_due(1, moment));
        assert!(!hand_off_due(full - 1, interval - moment));
        assert!(hand_off_due(full, moment), "a full item goes at once");
        assert!(hand_off_due(1, interval), "the dashboard moves");
    }
}
