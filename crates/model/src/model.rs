use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::activation::sigmoid;
#[cfg(feature = "learner")]
use burn::train::ClassificationOutput;
use mnist_data::{IMAGE_PIXELS, InvalidValue, NUM_CLASSES};
use serde::{Deserialize, Serialize};

use crate::fused_loss::{StepTally, linear_cross_entropy};

/// What is applied to the linear layer's output before the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputActivation {
    /// Raw logits: cross-entropy applies the softmax (softmax regression).
    None,
    /// Sigmoid, as in the PyTorch tutorial; bounds the logits to 0..1, which slows learning.
    Sigmoid,
}

/// The model's shape and output activation.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// Input features: 784 flattened pixels for MNIST.
    #[config(default = "IMAGE_PIXELS")]
    pub n_inputs: usize,
    /// Classes: 10 digits.
    #[config(default = "NUM_CLASSES")]
    pub n_outputs: usize,
    /// `none` (softmax regression) or `sigmoid` (the tutorial).
    #[config(default = "OutputActivation::None")]
    pub activation: OutputActivation,
}

impl ModelConfig {
    /// Checks every value; the first bad one is returned.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.n_inputs == 0 {
            return Err(InvalidValue::new("n_inputs", "must be at least 1"));
        }
        if self.n_outputs < 2 {
            return Err(InvalidValue::new("n_outputs", "must be at least 2 classes"));
        }
        Ok(())
    }

    /// The initial weights of a run seeded with `seed`, whatever device it trains on: drawn
    /// on the CPU (flex, seeded) and loaded onto the run's device, so every backend, and the
    /// browser build, starts from the same values.
    pub fn initial_weights(&self, seed: u64) -> ModuleRecord {
        let cpu = Device::flex();
        cpu.seed(seed);
        self.init(&cpu).into_record()
    }

    /// A freshly initialised model (PyTorch's `nn.Linear` initialisation: weights and bias
    /// uniform in ±1/√n_inputs).
    pub fn init(&self, device: &Device) -> LogisticRegression {
        LogisticRegression {
            linear: LinearConfig::new(self.n_inputs, self.n_outputs).init(device),
            activation: self.activation,
            gradient_scale: 1.0,
        }
    }
}

/// `activation(x · Wᵀ + b)`, for `x` of shape `[batch, n_inputs]`.
#[derive(Module, Debug)]
pub struct LogisticRegression {
    linear: Linear,
    #[module(skip)]
    activation: OutputActivation,
    /// Multiplies the loss before backpropagation (not the loss reported): 1 / devices when
    /// several devices train together, because Burn sums their gradients.
    #[module(skip)]
    gradient_scale: f32,
}

impl LogisticRegression {
    /// The model for training on `devices` devices at once: Burn's multi-device strategy adds
    /// the gradients of the devices' batches, so each loss is scaled by `1 / devices` before
    /// backpropagation and the step is the one of the devices' average gradient (a summed
    /// gradient would silently multiply the learning rate by the number of devices).
    pub fn averaging_gradients_over(mut self, devices: usize) -> Self {
        self.gradient_scale = 1.0 / devices.max(1) as f32;
        self
    }

    /// What [`TrainStep`](burn::train::TrainStep) backpropagates: the loss, scaled for
    /// multi-device training.
    pub fn loss_to_backpropagate(&self, loss: Tensor<1>) -> Tensor<1> {
        if self.gradient_scale == 1.0 {
            return loss;
        }
        loss.mul_scalar(self.gradient_scale)
    }

    /// Class scores `[batch, n_outputs]` for flattened inputs `[batch, n_inputs]`.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let scores = self.linear.forward(images);
        match self.activation {
            OutputActivation::None => scores,
            OutputActivation::Sigmoid => sigmoid(scores),
        }
    }

    /// Class scores for `images` and their mean cross-entropy against `targets`: what every
    /// training loop steps on, Burn's `Learner` or the browser's.
    pub fn forward_loss(
        &self,
        images: Tensor<2>,
        targets: Tensor<1, Int>,
    ) -> (Tensor<2>, Tensor<1>) {
        let output = self.forward(images);
        let loss = CrossEntropyLossConfig::new()
            .init(&output.device())
            .forward(output.clone(), targets);
        (output, loss)
    }

    /// [`Self::forward_loss`] for a training step: the same scores and loss, bit for bit, with
    /// the loss one autodiff node whose backward is written out (`fused_loss`) instead of the
    /// dozen Burn's cross-entropy builds. The scores are not tracked: they are for the metrics,
    /// as is the tally where the backend counted on the host (flex).
    pub fn training_loss(
        &self,
        images: Tensor<2>,
        targets: Tensor<1, Int>,
    ) -> (Tensor<2>, Tensor<1>, Option<StepTally>) {
        match &self.linear.bias {
            Some(bias) => linear_cross_entropy(
                images,
                self.weights(),
                bias.val(),
                targets,
                self.activation == OutputActivation::Sigmoid,
            ),
            None => {
                let (scores, loss) = self.forward_loss(images, targets);
                (scores, loss, None)
            }
        }
    }

    /// [`Self::forward_loss`], packaged for Burn's metrics.
    #[cfg(feature = "learner")]
    pub fn forward_classification(
        &self,
        images: Tensor<2>,
        targets: Tensor<1, Int>,
    ) -> ClassificationOutput {
        let (output, loss) = self.forward_loss(images, targets.clone());
        ClassificationOutput::new(loss, output, targets)
    }

    /// [`Self::training_loss`], packaged for Burn's metrics.
    #[cfg(feature = "learner")]
    pub fn training_classification(
        &self,
        images: Tensor<2>,
        targets: Tensor<1, Int>,
    ) -> (ClassificationOutput, Option<StepTally>) {
        let (output, loss, tally) = self.training_loss(images, targets.clone());
        (ClassificationOutput::new(loss, output, targets), tally)
    }

    /// The learned weight matrix, `[n_inputs, n_outputs]` (Burn stores it input-major).
    pub fn weights(&self) -> Tensor<2> {
        self.linear.weight.val()
    }

    /// The learned bias, `[n_outputs]` (zeros if the layer has none).
    pub fn bias(&self) -> Tensor<1> {
        match &self.linear.bias {
            Some(bias) => bias.val(),
            None => Tensor::zeros([self.linear.weight.dims()[1]], &self.linear.weight.device()),
        }
    }

    /// The learned weights, `[n_inputs, n_outputs]` row-major, read back to the host.
    pub fn weight_values(&self) -> Vec<f32> {
        crate::prediction::floats(self.weights())
    }

    /// The learned bias, read back to the host.
    pub fn bias_values(&self) -> Vec<f32> {
        crate::prediction::floats(self.bias())
    }

    /// This model with `weights` (`[n_inputs, n_outputs]`) and `bias` as its parameters, on
    /// `device`: how a model trained where reads cannot block (WebGPU in a browser) comes to
    /// the CPU once its parameters have been read back asynchronously.
    pub fn with_parameters(&self, weights: TensorData, bias: TensorData, device: &Device) -> Self {
        Self {
            linear: Linear {
                weight: Param::from_data(weights, device),
                bias: Some(Param::from_data(bias, device)),
            },
            activation: self.activation,
            gradient_scale: self.gradient_scale,
        }
    }

    /// `sigmoid` or `none`: what follows the linear layer.
    pub fn activation(&self) -> OutputActivation {
        self.activation
    }
}

#[cfg(all(test, feature = "learner"))]
mod tests {
    use burn::optim::{GradientsParams, SgdConfig};

    use super::*;
    use crate::test_batches::real_batch;

    #[test]
    fn outputs_are_the_linear_map_then_the_activation() {
        // x W + b written out by hand from the model's own parameters, then the sigmoid
        // where configured: each of the 7 x 10 outputs.
        let device = Device::flex();
        let batch = real_batch(7, &device);
        let pixels: Vec<f32> = batch.images.clone().into_data().try_to_vec().unwrap();
        for activation in [OutputActivation::None, OutputActivation::Sigmoid] {
            let model = ModelConfig::new().with_activation(activation).init(&device);
            let weights: Vec<f32> = model.weights().into_data().try_to_vec().unwrap();
            let bias: Vec<f32> = model.bias().into_data().try_to_vec().unwrap();
            let output = model.forward(batch.images.clone());
            assert_eq!(output.dims(), [7, NUM_CLASSES]);
            let values: Vec<f32> = output.into_data().try_to_vec().unwrap();
            for image in 0..7 {
                for class in 0..NUM_CLASSES {
                    let z = f64::from(bias[class])
                        + (0..IMAGE_PIXELS)
                            .map(|i| {
                                f64::from(pixels[image * IMAGE_PIXELS + i])
                                    * f64::from(weights[i * NUM_CLASSES + class])
                            })
                            .sum::<f64>();
                    let expected = match activation {
                        OutputActivation::None => z,
                        OutputActivation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                    };
                    let got = f64::from(values[image * NUM_CLASSES + class]);
                    assert!(
                        (got - expected).abs() < 1e-4,
                        "{activation:?}, image {image}, class {class}: {got} vs {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn initial_weights_follow_pytorch_linear_init() {
        let model = ModelConfig::new().init(&Device::flex());
        assert_eq!(model.weights().dims(), [IMAGE_PIXELS, NUM_CLASSES]);
        let bound = 1.0 / (IMAGE_PIXELS as f32).sqrt();
        let weights: Vec<f32> = model.weights().into_data().try_to_vec().unwrap();
        assert!(weights.iter().all(|w| w.abs() <= bound));
        assert!(
            weights.iter().any(|w| w.abs() > bound / 2.0),
            "not all near zero"
        );
    }

    #[test]
    fn a_few_sgd_steps_lower_the_loss() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let batch = real_batch(256, &device);
        let mut model = ModelConfig::new().init(&device);
        let mut optimizer = SgdConfig::new().init();
        let loss_of = |model: &LogisticRegression| -> f32 {
            model
                .valid()
                .forward_classification(batch.images.clone().inner(), batch.targets.clone().inner())
                .loss
                .into_scalar()
        };
        let initial = loss_of(&model);
        for _ in 0..10 {
            let output = model.forward_classification(batch.images.clone(), batch.targets.clone());
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optimizer.step(0.1, model, grads);
        }
        let trained = loss_of(&model);
        assert!(
            trained < initial * 0.7,
            "loss went from {initial} to {trained}"
        );
    }

    #[test]
    fn a_model_for_two_devices_backpropagates_half_of_each_gradient() {
        use burn::train::TrainStep;

        let device = Device::flex().autodiff();
        device.seed(7);
        let single = ModelConfig::new().init(&device);
        let double = single.clone().averaging_gradients_over(2);
        let gradient = |model: &LogisticRegression| {
            let output = model.step(real_batch(32, &device));
            let grads = output.grads;
            let weight = grads
                .get::<2>(model.linear.weight.id)
                .expect("the weight has a gradient");
            weight
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (full, halved) = (gradient(&single), gradient(&double));
        assert!(full.iter().any(|g| g.abs() > 1e-4), "a real gradient");
        for (full, halved) in full.iter().zip(&halved) {
            assert!(
                (full / 2.0 - halved).abs() <= 1e-7,
                "{full} / 2 != {halved}"
            );
        }
        // The reported loss is the real one, whatever the scaling.
        let batch = real_batch(32, &device);
        let reported = |model: &LogisticRegression| {
            let loss = model.step(batch.clone()).item.into_first().loss;
            loss.into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(reported(&single), reported(&double));
    }

    #[test]
    fn config_validation_names_the_bad_key() {
        assert_eq!(ModelConfig::new().validate(), Ok(()));
        assert_eq!(
            ModelConfig::new()
                .with_n_inputs(0)
                .validate()
                .unwrap_err()
                .key,
            "n_inputs"
        );
        assert_eq!(
            ModelConfig::new()
                .with_n_outputs(1)
                .validate()
                .unwrap_err()
                .key,
            "n_outputs"
        );
    }
}
