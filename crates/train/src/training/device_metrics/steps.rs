//! The values a training or evaluation item carries, one per step, and what happens to each
//! training step's loss once it is read ([`StepWatch`]).

use std::sync::{Arc, Mutex};

use burn::prelude::{Int, Tensor};
use burn::train::metric::Adaptor;
use burn::train::{ClassificationOutput, Interrupter};
use mnist_model::{StepTally, TrainingSteps};

use crate::training::history::{Divergence, History};
use crate::training::tensorboard::RunLog;

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
    pub(super) fn read(&self, step: usize, loss: f64, lr: Option<f64>) {
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
pub struct StepValues(pub(super) Vec<StepValue>);

pub(super) struct StepValue {
    pub(super) loss: Tensor<1>,
    pub(super) outputs: Tensor<2>,
    pub(super) targets: Tensor<1, Int>,
    /// The loss and the correct predictions, where the step counted them on the host.
    pub(super) tally: Option<StepTally>,
    /// The step's iteration in the epoch and learning rate, where the item says them step by
    /// step (else the item's metadata does).
    pub(super) iteration: Option<usize>,
    pub(super) lr: Option<f64>,
}

impl Adaptor<StepValues> for ClassificationOutput {
    fn adapt(&self) -> StepValues {
        StepValues(vec![StepValue {
            loss: self.loss.clone(),
            outputs: self.output.clone(),
            targets: self.targets.clone(),
            tally: None,
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
                    tally: step.tally,
                    iteration: step.iteration,
                    lr: step.lr,
                })
                .collect(),
        )
    }
}
