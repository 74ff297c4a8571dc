//! Hooks the model into Burn's `Learner`: one training step and one evaluation step per batch.

use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use mnist_data::MnistBatch;

use crate::LogisticRegression;

impl TrainStep for LogisticRegression {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.training_classification(batch.images, batch.targets);
        let gradients = self.loss_to_backpropagate(item.loss.clone()).backward();
        TrainOutput::new(self, gradients, item)
    }
}

impl InferenceStep for LogisticRegression {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch.images, batch.targets)
    }
}
