//! Hooks the model into Burn's `Learner`: one training step and one evaluation step per batch.

use burn::tensor::ExecutionError;
use burn::train::{ClassificationOutput, InferenceStep, ItemLazy, TrainOutput, TrainStep};
use mnist_data::MnistBatch;

use crate::{LogisticRegression, StepTally};

/// The outputs of consecutive training steps, handed to Burn's metrics as one item: the
/// project's training strategy (mnist-train) hands over many at a time, Burn's own strategies
/// one.
pub struct TrainingSteps {
    pub steps: Vec<TrainingStep>,
}

/// One training step's output, with where it was taken: its iteration in the epoch and the
/// learning rate the schedule gave it (set by the strategy that gathers steps; without them
/// the item's own metadata says). Where the backend counted the loss and the correct
/// predictions on the host (`tally`), the metrics read nothing from the output's tensors.
pub struct TrainingStep {
    pub output: ClassificationOutput,
    pub tally: Option<StepTally>,
    pub iteration: Option<usize>,
    pub lr: Option<f64>,
}

impl TrainingSteps {
    /// The output of the first step: the only one of what `TrainStep::step` gives.
    pub fn into_first(self) -> ClassificationOutput {
        self.steps
            .into_iter()
            .next()
            .expect("an item holds at least one step")
            .output
    }
}

impl ItemLazy for TrainingSteps {
    /// `ClassificationOutput::sync` for every step: the device's queue flushed once, the
    /// tensors taken off the autodiff graph. A tallied step's tensors are never read: they
    /// stay as they are.
    fn sync(self) -> Result<Self, ExecutionError> {
        if let Some(first) = self.steps.iter().find(|step| step.tally.is_none()) {
            first.output.loss.device().flush()?;
        }
        let steps = self
            .steps
            .into_iter()
            .map(|step| match step.tally {
                Some(_) => step,
                None => TrainingStep {
                    output: ClassificationOutput::new(
                        step.output.loss.without_autodiff(),
                        step.output.output.without_autodiff(),
                        step.output.targets.without_autodiff(),
                    ),
                    ..step
                },
            })
            .collect();
        Ok(Self { steps })
    }
}

impl TrainStep for LogisticRegression {
    type Input = MnistBatch;
    type Output = TrainingSteps;

    fn step(&self, batch: MnistBatch) -> TrainOutput<TrainingSteps> {
        let (output, tally) = self.training_classification(batch.images, batch.targets);
        let gradients = self.loss_to_backpropagate(output.loss.clone()).backward();
        let steps = TrainingSteps {
            steps: vec![TrainingStep {
                output,
                tally,
                iteration: None,
                lr: None,
            }],
        };
        TrainOutput::new(self, gradients, steps)
    }
}

impl InferenceStep for LogisticRegression {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch.images, batch.targets)
    }
}
