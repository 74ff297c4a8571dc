//! The training step's loss as one autodiff node.
//!
//! Burn's `CrossEntropyLoss` builds the loss from log-softmax (six tensor ops, burn-backend's
//! `ActivationOps::log_softmax`) and a gather, a reshape, a mean and a negation; on an
//! autodiff device each is a graph node that is registered, kept and visited backwards, and
//! every op passes through the dispatch and autodiff layers. For a 32×784 by 784×10 product
//! that bookkeeping is most of a step. Here the linear layer, the activation, log-softmax and
//! cross-entropy are one node with its backward written out.
//!
//! The numbers do not move: the forward runs the same backend ops as Burn's graph, one for one,
//! and the backward performs the same floating-point operations as burn-autodiff's steps for
//! those ops, on the same operands, each rounded once. Where it takes fewer ops, the ones left
//! out are exact (adding a zero, multiplying by one, summing a row whose other entries are
//! zeros), so the loss and both gradients equal the unfused graph's bit for bit (the tests
//! compare them) and a run's metrics are those of any earlier run.
//!
//! On flex ([`flex`]) the element-wise arithmetic between the matmuls runs as loops over the
//! tensors' buffers, the same operations in the same order, the two reductions (whose order is
//! flex's own) stay flex ops, and the matmuls run as [`products`] gives them: gemm's additions,
//! in AVX-512 registers where the CPU has them.

// NdArray and LibTorch are deprecated in Burn 0.22 but still compiled in as backends.
#![allow(deprecated)]

mod flex;
mod products;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, ExtensionType, TensorMetadata, backend_extension,
};
use burn::tensor::{IndexingUpdateOp, Int, Shape, Tensor};

/// `images · weight + bias`, the sigmoid where `sigmoid` is set, and the mean cross-entropy
/// of its softmax against `targets`; returns the class scores (for the metrics, not tracked)
/// and the loss, and where the backend counted them on the way (flex), the loss and the correct
/// predictions on the host. The same numbers as [`crate::LogisticRegression::forward_loss`].
pub(crate) fn linear_cross_entropy(
    images: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    targets: Tensor<1, Int>,
    sigmoid: bool,
) -> (Tensor<2>, Tensor<1>, Option<StepTally>) {
    let output = <Dispatch as LinearCrossEntropy>::linear_cross_entropy(
        images.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        targets.into_dispatch(),
        sigmoid,
    );
    (
        Tensor::from_dispatch(output.scores),
        Tensor::from_dispatch(output.loss),
        output.tally,
    )
}

/// A training step's mean loss and its count of correct predictions (rows whose first
/// largest score, as `argmax` picks it, is at the target), where the backend computes them on
/// the host on its way to the loss: the metrics then take them as they are instead of
/// computing and reading them with tensor ops. The same numbers as those ops give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepTally {
    pub loss: f32,
    pub correct: usize,
}

/// How many rows of `scores` have their first largest score at their target, as a
/// one-element float tensor left on the device: what the accuracy metrics count, and what a
/// [`StepTally`] counts on the host.
pub fn correct_predictions(scores: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = scores.dims();
    scores
        .argmax(1)
        .reshape([batch])
        .equal(targets)
        .int()
        .sum()
        .float()
}

/// What the op returns: the class scores, the mean loss (`[1]`) and, on flex, its tally.
#[derive(ExtensionType)]
pub(crate) struct ScoresAndLoss<B: Backend> {
    scores: FloatTensor<B>,
    loss: FloatTensor<B>,
    tally: Option<StepTally>,
}

/// The op, on every backend this build trains on; autodiff gets its own backward.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    LibTorch: cfg(feature = "tch"),
    Autodiff
)]
pub(crate) trait LinearCrossEntropy: Backend {
    fn linear_cross_entropy(
        images: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        targets: IntTensor<Self>,
        sigmoid: bool,
    ) -> ScoresAndLoss<Self> {
        let forward = Forward::<Self>::run(images, weight, bias, targets, sigmoid);
        ScoresAndLoss {
            scores: forward.scores,
            loss: forward.loss,
            tally: forward.tally,
        }
    }
}

impl LinearCrossEntropy for burn::backend::Flex {}
#[cfg(feature = "ndarray")]
impl LinearCrossEntropy for burn::backend::NdArray {}
#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl LinearCrossEntropy for burn::backend::Cube {}
#[cfg(feature = "tch")]
impl LinearCrossEntropy for burn::backend::LibTorch {}

/// How a backend computes the op's forward pass, the gradient at the linear layer's output and
/// the weight's: with Burn's ops by default; flex overrides them with loops over its buffers.
pub(crate) trait LossArithmetic: Backend {
    fn forward(
        images: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        targets: IntTensor<Self>,
        sigmoid: bool,
    ) -> Forward<Self> {
        Forward::run(images, weight, bias, targets, sigmoid)
    }

    fn output_gradient(saved: &Saved<Self>, loss_grad: FloatTensor<Self>) -> FloatTensor<Self> {
        saved.output_gradient(loss_grad)
    }

    /// The weight's gradient, `imagesᵀ · output_grad`.
    fn weight_gradient(
        images: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::linear_weight_backward(images, output_grad)
    }
}

#[cfg(feature = "ndarray")]
impl LossArithmetic for burn::backend::NdArray {}
#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl LossArithmetic for burn::backend::Cube {}
#[cfg(feature = "tch")]
impl LossArithmetic for burn::backend::LibTorch {}

impl<B: LossArithmetic, C: CheckpointStrategy> LinearCrossEntropy for Autodiff<B, C> {
    fn linear_cross_entropy(
        images: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        targets: IntTensor<Self>,
        sigmoid: bool,
    ) -> ScoresAndLoss<Self> {
        let images_tracked = images.is_tracked();
        let weight_tracked = weight.is_tracked();
        let prepared = LinearCrossEntropyBackward
            .prepare::<C>([images.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let forward = B::forward(
            Self::inner(images),
            Self::inner(weight),
            Self::inner(bias),
            targets,
            sigmoid,
        );
        let scores = Self::from_inner(forward.scores.clone());
        let loss = match prepared {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    // The images for the weight's gradient, the weight for the images'.
                    images: weight_tracked.then(|| forward.images.clone()),
                    weight: images_tracked.then(|| forward.weight.clone()),
                    sigmoid: sigmoid.then(|| forward.scores.clone()),
                    exp: forward.exp,
                    exp_sum: forward.exp_sum,
                    targets: forward.targets,
                };
                prep.finish(saved, forward.loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward.loss),
        };
        ScoresAndLoss {
            scores,
            loss,
            tally: forward.tally,
        }
    }
}

/// The forward pass on one backend, with what its backward needs.
pub(crate) struct Forward<B: Backend> {
    images: FloatTensor<B>,
    weight: FloatTensor<B>,
    /// After the activation: what the metrics see, and the sigmoid's output.
    scores: FloatTensor<B>,
    /// `exp(scores - max)` and its row sums, `[batch, 1]`.
    exp: FloatTensor<B>,
    exp_sum: FloatTensor<B>,
    /// `[batch, 1]`, as the gather takes them.
    targets: IntTensor<B>,
    loss: FloatTensor<B>,
    /// Where the backend counted them on the host.
    tally: Option<StepTally>,
}

impl<B: Backend> Forward<B> {
    /// Burn's ops in Burn's order: `Linear::forward`, `sigmoid`, then `CrossEntropyLoss` with
    /// log-softmax as burn-backend composes it (a detached max shift, then log-sum-exp).
    fn run(
        images: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
        targets: IntTensor<B>,
        sigmoid: bool,
    ) -> Self {
        let logits = B::linear(images.clone(), weight.clone(), Some(bias));
        Self::from_logits(images, weight, logits, targets, sigmoid)
    }

    /// [`Self::run`] from the linear layer's output on.
    fn from_logits(
        images: FloatTensor<B>,
        weight: FloatTensor<B>,
        logits: FloatTensor<B>,
        targets: IntTensor<B>,
        sigmoid: bool,
    ) -> Self {
        let scores = if sigmoid { B::sigmoid(logits) } else { logits };
        let batch = scores.shape()[0];
        let max = B::float_max_dim(scores.clone(), 1);
        let shifted = B::float_sub(scores.clone(), max);
        let exp = B::float_exp(shifted.clone());
        let exp_sum = B::float_sum_dim(exp.clone(), 1);
        let log_probabilities = B::float_sub(shifted, B::float_log(exp_sum.clone()));
        let targets = B::int_reshape(targets, Shape::new([batch, 1]));
        let picked = B::float_gather(1, log_probabilities, targets.clone());
        let picked = B::float_reshape(picked, Shape::new([batch]));
        let loss = B::float_neg(B::float_mean(picked));
        Self {
            images,
            weight,
            scores,
            exp,
            exp_sum,
            targets,
            loss,
            tally: None,
        }
    }
}

/// What the backward step keeps from the forward pass.
#[derive(Clone, Debug)]
pub(crate) struct Saved<B: Backend> {
    images: Option<FloatTensor<B>>,
    weight: Option<FloatTensor<B>>,
    sigmoid: Option<FloatTensor<B>>,
    exp: FloatTensor<B>,
    exp_sum: FloatTensor<B>,
    targets: IntTensor<B>,
}

impl<B: Backend> Saved<B> {
    /// The gradient at the linear layer's output, from the loss's gradient `loss_grad` (`[1]`).
    /// Each line names the burn-autodiff steps whose arithmetic it repeats.
    fn output_gradient(&self, loss_grad: FloatTensor<B>) -> FloatTensor<B> {
        let batch = self.exp.shape()[0];
        let device = self.exp.device();
        // Neg, then Mean: every row's share, 1/batch (as burn-autodiff rounds it) of -grad.
        let share = B::float_mul_scalar(
            B::float_ones(Shape::new([batch]), &device, self.exp.dtype().into()),
            (1.0 / batch as f64).into(),
        );
        let share = B::float_mul(share, B::float_neg(loss_grad));
        // Reshape back to the gather's `[batch, 1]`.
        let share = B::float_reshape(share, Shape::new([batch, 1]));
        // Sub's right-hand side (the row sum of the negated, scattered share is the negated
        // share), then Log: grad · 1/Σexp.
        let log_sum_exp_grad = B::float_mul(
            B::float_neg(share.clone()),
            B::float_recip(self.exp_sum.clone()),
        );
        // SumDim (broadcast by a product with ones), then Exp: grad · exp.
        let shifted_grad = B::float_mul(self.exp.clone(), log_sum_exp_grad);
        // Gather's scatter into zeros, added by Sub's left-hand side at each target.
        let shifted_grad = B::float_scatter(
            1,
            shifted_grad,
            self.targets.clone(),
            share,
            IndexingUpdateOp::Add,
        );
        // The max shift is detached: Sub passes the gradient on unchanged. Then Sigmoid.
        match &self.sigmoid {
            Some(output) => B::sigmoid_backward(output.clone(), shifted_grad),
            None => shifted_grad,
        }
    }
}

#[derive(Debug)]
struct LinearCrossEntropyBackward;

impl<B: LossArithmetic> Backward<B, 3> for LinearCrossEntropyBackward {
    type State = Saved<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [images_node, weight_node, bias_node] = ops.parents;
        let output_grad = B::output_gradient(&ops.state, grads.consume::<B>(&ops.node));
        // burn-autodiff's Linear step, in its order.
        if let (Some(node), Some(weight)) = (images_node, ops.state.weight) {
            grads.register::<B>(node.id, B::linear_x_backward(weight, output_grad.clone()));
        }
        if let (Some(node), Some(images)) = (weight_node, ops.state.images) {
            grads.register::<B>(node.id, B::weight_gradient(images, output_grad.clone()));
        }
        if let Some(node) = bias_node {
            grads.register::<B>(node.id, B::linear_bias_backward(output_grad));
        }
    }
}

#[cfg(all(test, feature = "learner"))]
mod tests {
    use burn::prelude::Device;

    use super::correct_predictions;
    use crate::test_batches::real_batch;
    use crate::{LogisticRegression, ModelConfig, OutputActivation};

    /// Everything a step produces, as bits: scores, loss, and the two gradients.
    #[derive(Debug, PartialEq)]
    struct Step {
        scores: Vec<u32>,
        loss: Vec<u32>,
        weight_grad: Vec<u32>,
        bias_grad: Vec<u32>,
    }

    fn bits(tensor: burn::tensor::Tensor<1>) -> Vec<u32> {
        let values: Vec<f32> = tensor.into_data().convert::<f32>().try_to_vec().unwrap();
        values.iter().map(|value| value.to_bits()).collect()
    }

    fn step(model: &LogisticRegression, images: usize, fused: bool, device: &Device) -> Step {
        let batch = real_batch(images, device);
        let (scores, loss) = if fused {
            let (scores, loss, _) = model.training_loss(batch.images, batch.targets);
            (scores, loss)
        } else {
            model.forward_loss(batch.images, batch.targets)
        };
        let grads = model.loss_to_backpropagate(loss.clone()).backward();
        Step {
            scores: bits(scores.flatten(0, 1)),
            loss: bits(loss),
            weight_grad: bits(model.weights().grad(&grads).unwrap().flatten(0, 1)),
            bias_grad: bits(model.bias().grad(&grads).unwrap()),
        }
    }

    fn fused_step_matches_burns_graph(device: Device) {
        device.seed(11);
        // Both activations; a full batch and a ragged last one (1/24 is not a power of two);
        // one device's loss and the loss scaled for three (multi-device training).
        for activation in [OutputActivation::Sigmoid, OutputActivation::None] {
            for images in [32, 24] {
                for devices in [1, 3] {
                    let model = ModelConfig::new()
                        .with_activation(activation)
                        .init(&device)
                        .averaging_gradients_over(devices);
                    let fused = step(&model, images, true, &device);
                    let unfused = step(&model, images, false, &device);
                    assert!(
                        fused
                            .weight_grad
                            .iter()
                            .any(|&g| f32::from_bits(g).abs() > 1e-4)
                    );
                    assert_eq!(
                        fused, unfused,
                        "{activation:?}, {images} images, {devices} devices"
                    );
                }
            }
        }
    }

    #[test]
    fn the_fused_loss_has_the_bits_of_burns_graph_on_flex() {
        fused_step_matches_burns_graph(Device::flex().autodiff());
    }

    #[test]
    fn flexs_tally_is_what_the_metrics_ops_count() {
        let device = Device::flex().autodiff();
        device.seed(5);
        for activation in [OutputActivation::Sigmoid, OutputActivation::None] {
            let model = ModelConfig::new().with_activation(activation).init(&device);
            // 256 images from an untrained model: about a tenth right, never none or all.
            let batch = real_batch(256, &device);
            let (scores, loss, tally) = model.training_loss(batch.images, batch.targets.clone());
            let tally = tally.expect("flex counts on the host");
            let correct = correct_predictions(scores, batch.targets).into_scalar::<f32>();
            assert!(
                correct > 0.0 && correct < 256.0,
                "{activation:?}: {correct}"
            );
            assert_eq!(tally.correct as f32, correct, "{activation:?}");
            assert_eq!(bits(loss), vec![tally.loss.to_bits()], "{activation:?}");
        }
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn the_fused_loss_has_the_bits_of_burns_graph_on_ndarray() {
        fused_step_matches_burns_graph(Device::ndarray().autodiff());
    }
}
