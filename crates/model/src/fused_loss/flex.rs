//! The op's element-wise arithmetic on flex as loops over its buffers.
//!
//! Each value is the one Burn's ops give on flex, bit for bit: every line names the op whose
//! arithmetic it repeats (burn-flex 0.22.1: `sigmoid_f32` and `sigmoid_backward` in
//! `ops/activation.rs`, `exp` and `log` in `ops/unary.rs` as `f32::exp` and `f32::ln`, the
//! broadcast `sub` and `mul` in `ops/binary.rs`, the scatter's `+=` in `ops/gather_scatter.rs`).
//! The two sums are flex's own ops, since their order of additions is flex's SIMD kernel's; the
//! two matrix products are gemm's additions, run by [`products`] where the CPU has AVX-512.
//! Anything other than contiguous `f32` data with in-range targets takes Burn's ops instead.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::{FloatTensorOps, IntTensorOps, ModuleOps};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::{DType, Shape, TensorData};

use super::{Forward, LossArithmetic, Saved, StepTally, products};

impl LossArithmetic for Flex {
    fn forward(
        images: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        targets: IntTensor<Self>,
        sigmoid: bool,
    ) -> Forward<Self> {
        let logits = linear(&images, &weight, &bias)
            .unwrap_or_else(|| Flex::linear(images.clone(), weight.clone(), Some(bias)));
        let [batch, classes] = dims(&logits);
        let targets = Flex::int_reshape(targets, Shape::new([batch, 1]));
        let (Some(values), Some(classes_of)) = (floats(&logits), indices(&targets, classes)) else {
            return Forward::from_logits(images, weight, logits, targets, sigmoid);
        };
        let scores = if sigmoid {
            tensor(
                values.iter().map(|&x| sigmoid_f32(x)).collect(),
                batch,
                classes,
            )
        } else {
            logits
        };
        let scores_of = floats(&scores).expect("written above as f32");
        let mut maxes = Vec::with_capacity(batch);
        let mut exp = Vec::with_capacity(batch * classes);
        let mut correct = 0;
        for (row, &class) in scores_of.chunks(classes).zip(&classes_of) {
            // max_dim, then the broadcast sub and exp; argmax against the target (the metrics).
            let (max, at) = row_max(row);
            maxes.push(max);
            correct += usize::from(at == class);
            exp.extend(row.iter().map(|&score| (score - max).exp()));
        }
        let exp = tensor(exp, batch, classes);
        let exp_sum = Flex::float_sum_dim(exp.clone(), 1);
        let sums = floats(&exp_sum).expect("flex sums f32 as f32");
        // The gather of each row's target from the shifted scores minus the log of the sum
        // (only the gathered entry of the broadcast sub is ever read).
        let picked = classes_of
            .iter()
            .zip(sums.iter().zip(&maxes))
            .enumerate()
            .map(|(row, (&class, (&sum, &max)))| {
                (scores_of[row * classes + class] - max) - sum.ln()
            })
            .collect();
        let mean = Flex::float_mean(tensor(picked, batch, 1));
        let loss = floats(&mean).expect("flex means f32 as f32")[0];
        Forward {
            images,
            weight,
            scores,
            exp,
            exp_sum,
            targets,
            loss: FlexTensor::from_data(TensorData::new(vec![-loss], [1])),
            tally: Some(StepTally {
                loss: -loss,
                correct,
            }),
        }
    }

    fn output_gradient(saved: &Saved<Self>, loss_grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let [batch, classes] = dims(&saved.exp);
        let scores = match &saved.sigmoid {
            Some(scores) => floats(scores).map(Some),
            None => Some(None),
        };
        let (Some(exp), Some(sums), Some(grad), Some(classes_of), Some(scores)) = (
            floats(&saved.exp),
            floats(&saved.exp_sum),
            floats(&loss_grad),
            indices(&saved.targets, classes),
            scores,
        ) else {
            return saved.output_gradient(loss_grad);
        };
        // float_ones times the scalar 1/batch (cast to f32), times the negated loss gradient.
        let share = (1.0 / batch as f64) as f32 * -grad[0];
        let mut output = Vec::with_capacity(batch * classes);
        for (row, (&class, &sum)) in classes_of.iter().zip(sums).enumerate() {
            // neg times recip, then exp times that, the share added at the target (scatter).
            let log_sum_exp_grad = -share * (1.0 / sum);
            for column in 0..classes {
                let at = row * classes + column;
                let mut value = exp[at] * log_sum_exp_grad;
                if column == class {
                    value += share;
                }
                if let Some(scores) = scores {
                    // sigmoid_backward: grad * output * (1 - output).
                    let output = scores[at];
                    value = value * output * (1.0 - output);
                }
                output.push(value);
            }
        }
        tensor(output, batch, classes)
    }

    fn weight_gradient(images: FlexTensor, output_grad: FlexTensor) -> FlexTensor {
        let [batch, inputs] = dims(&images);
        let [_, classes] = dims(&output_grad);
        let gradient = (floats(&images).zip(floats(&output_grad)))
            .and_then(|(x, grad)| products::weight_gradient(x, grad, [batch, inputs, classes]));
        match gradient {
            Some(gradient) => tensor(gradient, inputs, classes),
            None => Flex::linear_weight_backward(images, output_grad),
        }
    }
}

/// `Flex::linear` through [`products::linear`], or `None` where that leaves it to flex.
fn linear(images: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> Option<FlexTensor> {
    let [batch, inputs] = dims(images);
    let [rows, classes] = dims(weight);
    let bias = floats(bias).filter(|bias| rows == inputs && bias.len() == classes)?;
    let mut logits = products::linear(floats(images)?, floats(weight)?, [batch, inputs, classes])?;
    // float_add's broadcast of the bias over the rows.
    for row in logits.chunks_exact_mut(classes) {
        for (logit, &bias) in row.iter_mut().zip(bias) {
            *logit += bias;
        }
    }
    Some(tensor(logits, batch, classes))
}

/// The two sizes of a `[rows, columns]` tensor.
fn dims(tensor: &FlexTensor) -> [usize; 2] {
    let shape = tensor.shape();
    [shape[0], shape[1]]
}

/// A tensor's values, where it holds contiguous `f32`s.
fn floats(tensor: &FlexTensor) -> Option<&[f32]> {
    (tensor.dtype() == DType::F32)
        .then(|| tensor.as_slice::<f32>())
        .flatten()
}

/// The class of each row, where every target is an integer in `0..classes`.
fn indices(targets: &FlexTensor, classes: usize) -> Option<Vec<usize>> {
    let class = |value: i64| usize::try_from(value).ok().filter(|&class| class < classes);
    match targets.dtype() {
        DType::I32 => targets
            .as_slice::<i32>()?
            .iter()
            .map(|&value| class(value.into()))
            .collect(),
        DType::I64 => targets
            .as_slice::<i64>()?
            .iter()
            .map(|&value| class(value))
            .collect(),
        _ => None,
    }
}

/// A `[rows, columns]` tensor of `values`.
fn tensor(values: Vec<f32>, rows: usize, columns: usize) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, [rows, columns]))
}

/// flex's `sigmoid` of one value.
fn sigmoid_f32(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The row's largest value and its index as flex's `max_dim` and `argmax` find them: the
/// first NaN, else a left-to-right scan that keeps the earlier of equal values.
fn row_max(row: &[f32]) -> (f32, usize) {
    let (mut best, mut at) = (row[0], 0);
    for (index, &value) in row.iter().enumerate() {
        if value.is_nan() {
            return (f32::NAN, index);
        }
        if value > best {
            (best, at) = (value, index);
        }
    }
    (best, at)
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::backend::ops::FloatTensorOps;
    use burn::tensor::{IntDType, TensorData};

    use super::*;

    #[test]
    fn a_rows_maximum_and_its_index_are_flexs_max_dim_and_argmax() {
        let nan = f32::NAN;
        let rows: [[f32; 4]; 6] = [
            [0.1, 0.7, 0.2, 0.0],
            [1.0, 1.0, 0.5, 1.0],
            [0.3, 0.9, 0.9, 0.1],
            [0.2, nan, 0.9, nan],
            [nan, 0.1, 0.2, 0.3],
            [-1.0, -3.0, -0.5, -0.5],
        ];
        let values: Vec<f32> = rows.iter().flatten().copied().collect();
        let tensor = FlexTensor::from_data(TensorData::new(values, [rows.len(), 4]));
        let maxes = Flex::float_max_dim(tensor.clone(), 1);
        let indices = Flex::float_argmax(tensor, 1, IntDType::I64);
        let maxes = floats(&maxes).unwrap();
        let indices = indices.as_slice::<i64>().unwrap();
        for (row, values) in rows.iter().enumerate() {
            let (max, at) = row_max(values);
            assert_eq!(max.to_bits(), maxes[row].to_bits(), "row {row}");
            assert_eq!(at as i64, indices[row], "row {row}");
        }
    }
}
