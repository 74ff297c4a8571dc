//! Multinomial logistic regression: one `Linear` layer from pixels to class scores.
//!
//! With [`OutputActivation::None`] the layer's outputs are logits and cross-entropy makes this
//! a proper softmax regression. [`OutputActivation::Sigmoid`] squashes them first, as the
//! PyTorch tutorial does (`torch.sigmoid(self.linear(x))` fed to `nn.CrossEntropyLoss`), which
//! is kept to reproduce its results.

mod fused_loss;
mod model;
mod prediction;
#[cfg(feature = "store")]
mod pytorch;
#[cfg(feature = "learner")]
mod step;
#[cfg(all(test, feature = "learner"))]
mod test_batches;

pub use fused_loss::{StepTally, correct_predictions};
pub use model::{LogisticRegression, ModelConfig, OutputActivation};
pub use prediction::Prediction;
#[cfg(feature = "learner")]
pub use step::{TrainingStep, TrainingSteps};
