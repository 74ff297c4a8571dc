//! The linear layer's two matrix products on flex, with gemm's bits in fewer instructions where
//! the CPU has AVX-512.
//!
//! flex hands `images · weight` and the weight's gradient `imagesᵀ · output_grad` to gemm 0.19.
//! On x86 gemm runs its AVX2 kernel (its AVX-512 one is a compile-time feature that flex
//! leaves off), which lays the ten classes of a row-major output across two 8-lane vectors
//! with six lanes idle; the two products then take half of a training step. Each entry gemm
//! writes is one chain of fused multiply-adds from zero along the shared dimension, in blocks
//! of [`BLOCK`] added one after another (gemm-common 0.19, `gemm_basic_generic`). An FMA rounds
//! once whatever the register's width, so the same chains in 16-lane registers give gemm's
//! bits (the tests compare both products with flex's ops) in half the instructions or fewer.
//!
//! Where gemm would take another path (a dimension of one or two, or an output larger than 64
//! by 64, whose blocks follow the CPU's cache sizes) or the CPU lacks AVX-512, both return
//! `None` and flex's ops run.

use mnist_data::NUM_CLASSES;

/// gemm's block along the shared dimension for outputs of at most 64 by 64.
const BLOCK: usize = 512;
/// A register's `f32`s: the most classes a row of the forward product may have.
const LANES: usize = 16;

/// `images · weight` (`[batch, inputs]` by `[inputs, classes]`, row-major) as flex's matmul
/// computes it, or `None` where this shape or CPU leaves it to flex.
pub(super) fn linear(
    images: &[f32],
    weight: &[f32],
    [batch, inputs, classes]: [usize; 3],
) -> Option<Vec<f32>> {
    let gemm_blocks_of_512 = (2..=64).contains(&batch) && (2..=LANES).contains(&classes);
    if !(gemm_blocks_of_512 && inputs > 2 && kernels::available()) {
        return None;
    }
    assert_eq!(images.len(), batch * inputs, "images are [batch, inputs]");
    assert_eq!(
        weight.len(),
        inputs * classes,
        "the weight is [inputs, classes]"
    );
    Some(kernels::linear(images, weight, inputs, classes))
}

/// The weight's gradient `imagesᵀ · output_grad` (`[inputs, classes]`, row-major) as flex's
/// `linear_weight_backward` computes it, or `None` where this shape or CPU leaves it to flex.
pub(super) fn weight_gradient(
    images: &[f32],
    output_grad: &[f32],
    [batch, inputs, classes]: [usize; 3],
) -> Option<Vec<f32>> {
    // gemm's blocks are at least 512 long, so up to 512 images each entry is one chain.
    let one_chain = (3..=BLOCK).contains(&batch) && inputs >= 2;
    if !(one_chain && classes == NUM_CLASSES && kernels::available()) {
        return None;
    }
    assert_eq!(images.len(), batch * inputs, "images are [batch, inputs]");
    assert_eq!(
        output_grad.len(),
        batch * classes,
        "the gradient is [batch, classes]"
    );
    Some(kernels::weight_gradient::<NUM_CLASSES>(
        images,
        output_grad,
        inputs,
    ))
}

#[cfg(not(target_arch = "x86_64"))]
mod kernels {
    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn linear(_: &[f32], _: &[f32], _: usize, _: usize) -> Vec<f32> {
        unreachable!("no kernels without x86-64")
    }

    pub(super) fn weight_gradient<const C: usize>(_: &[f32], _: &[f32], _: usize) -> Vec<f32> {
        unreachable!("no kernels without x86-64")
    }
}

/// The AVX-512 kernels. Loads and stores take pointers, hence `unsafe`: every one is masked
/// to the lanes inside its slice, and the kernels run only where [`available`] said so.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod kernels {
    use std::arch::x86_64::{
        __m512, __mmask16, _mm512_add_ps, _mm512_fmadd_ps, _mm512_mask_storeu_ps,
        _mm512_maskz_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
    };

    use super::{BLOCK, LANES};

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
    }

    /// The mask of a register's first `lanes` lanes.
    fn first(lanes: usize) -> __mmask16 {
        debug_assert!((1..=LANES).contains(&lanes));
        (u32::MAX >> (32 - lanes)) as __mmask16
    }

    pub(super) fn linear(
        images: &[f32],
        weight: &[f32],
        inputs: usize,
        classes: usize,
    ) -> Vec<f32> {
        let batch = images.len() / inputs;
        let mut output = vec![0.0; batch * classes];
        // Sixteen rows share each load of a weight row; the rest go eight, then one, at a time.
        let mut row = 0;
        while row < batch {
            let rows = [16, 8, 1]
                .into_iter()
                .find(|&rows| row + rows <= batch)
                .unwrap_or(1);
            let images = &images[row * inputs..];
            let output = &mut output[row * classes..];
            // SAFETY: `available` said the CPU has AVX-512.
            match rows {
                16 => unsafe { linear_rows::<16>(images, weight, output, inputs, classes) },
                8 => unsafe { linear_rows::<8>(images, weight, output, inputs, classes) },
                _ => unsafe { linear_rows::<1>(images, weight, output, inputs, classes) },
            }
            row += rows;
        }
        output
    }

    /// `R` rows of `images · weight` into the first `R` rows of `output`: each entry a chain
    /// of FMAs from zero per block of [`BLOCK`] inputs, the blocks' sums added in order.
    #[target_feature(enable = "avx512f")]
    fn linear_rows<const R: usize>(
        images: &[f32],
        weight: &[f32],
        output: &mut [f32],
        inputs: usize,
        classes: usize,
    ) {
        let images = &images[..R * inputs];
        let output = &mut output[..R * classes];
        let weight = &weight[..inputs * classes];
        let mask = first(classes);
        let mut total = [_mm512_setzero_ps(); R];
        for start in (0..inputs).step_by(BLOCK) {
            let mut sum = [_mm512_setzero_ps(); R];
            for input in start..(start + BLOCK).min(inputs) {
                // SAFETY: the mask reads the `classes` floats of this weight row, and every
                // row's `input` is inside `images`, whose length was checked above. Unchecked
                // reads: bounds checks here took more time than the FMAs.
                unsafe {
                    let weights = _mm512_maskz_loadu_ps(mask, weight.as_ptr().add(input * classes));
                    for (row, sum) in sum.iter_mut().enumerate() {
                        let pixel = *images.as_ptr().add(row * inputs + input);
                        *sum = _mm512_fmadd_ps(_mm512_set1_ps(pixel), weights, *sum);
                    }
                }
            }
            // gemm writes its first block as it is: adding it to a zero would turn -0 into +0.
            if start == 0 {
                total = sum;
            } else {
                for (total, sum) in total.iter_mut().zip(sum) {
                    *total = _mm512_add_ps(*total, sum);
                }
            }
        }
        for (row, total) in output.chunks_exact_mut(classes).zip(total) {
            // SAFETY: the mask writes the `classes` floats of this output row.
            unsafe { _mm512_mask_storeu_ps(row.as_mut_ptr(), mask, total) };
        }
    }

    pub(super) fn weight_gradient<const C: usize>(
        images: &[f32],
        output_grad: &[f32],
        inputs: usize,
    ) -> Vec<f32> {
        let mut gradient = vec![0.0; inputs * C];
        for start in (0..inputs).step_by(LANES) {
            let lanes = LANES.min(inputs - start);
            // SAFETY: `available` said the CPU has AVX-512.
            let columns = unsafe { gradient_rows::<C>(images, output_grad, inputs, start, lanes) };
            // Rows `start..start + lanes` of the gradient lie one after another.
            let mut rows = [[0.0; C]; LANES];
            for (lane, row) in rows.iter_mut().enumerate() {
                for (value, column) in row.iter_mut().zip(&columns) {
                    *value = column[lane];
                }
            }
            gradient[start * C..][..lanes * C].copy_from_slice(&rows.as_flattened()[..lanes * C]);
        }
        gradient
    }

    /// Inputs `start..start + lanes` of the weight's gradient, a register per class: each entry
    /// one chain of FMAs from zero over the batch, in its order.
    #[target_feature(enable = "avx512f")]
    fn gradient_rows<const C: usize>(
        images: &[f32],
        output_grad: &[f32],
        inputs: usize,
        start: usize,
        lanes: usize,
    ) -> [[f32; LANES]; C] {
        let mask = first(lanes);
        let mut sum: [__m512; C] = [_mm512_setzero_ps(); C];
        for (image, grads) in images.chunks_exact(inputs).zip(output_grad.chunks_exact(C)) {
            let pixels = &image[start..start + lanes];
            // SAFETY: the mask reads the `lanes` floats of `pixels`.
            let pixels = unsafe { _mm512_maskz_loadu_ps(mask, pixels.as_ptr()) };
            for (sum, &grad) in sum.iter_mut().zip(grads) {
                *sum = _mm512_fmadd_ps(pixels, _mm512_set1_ps(grad), *sum);
            }
        }
        let mut columns = [[0.0; LANES]; C];
        for (column, sum) in columns.iter_mut().zip(sum) {
            // SAFETY: a column holds all LANES floats.
            unsafe { _mm512_mask_storeu_ps(column.as_mut_ptr(), first(LANES), sum) };
        }
        columns
    }
}

#[cfg(all(test, feature = "learner"))]
mod tests {
    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::backend::ops::{FloatTensorOps, ModuleOps};
    use burn::prelude::Device;
    use burn::tensor::{Distribution, Tensor, TensorData};

    use super::{linear, weight_gradient};
    use crate::test_batches::real_batch;

    fn flex(values: &[f32], dims: [usize; 2]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values.to_vec(), dims))
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|value| value.to_bits()).collect()
    }

    fn values(tensor: FlexTensor) -> Vec<f32> {
        tensor.into_data().to_vec().unwrap()
    }

    /// Real images and weights and gradients as Burn draws them, both products against flex's
    /// own: the same bits where the kernels take the shape on this CPU, `None` elsewhere.
    #[test]
    fn both_products_have_the_bits_of_flexs_ops_or_leave_them_to_flex() {
        let device = Device::flex();
        device.seed(3);
        let images: Vec<f32> = real_batch(513, &device)
            .images
            .into_data()
            .to_vec()
            .unwrap();
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let inputs = 784;
        let mut compared = [0, 0];
        for classes in [10, 3, 17] {
            let draw = |rows: usize| -> Vec<f32> {
                let normal = Distribution::Normal(0.0, 0.1);
                Tensor::<2>::random([rows, classes], normal, &device)
                    .into_data()
                    .to_vec()
                    .unwrap()
            };
            let weight = draw(inputs);
            for batch in [2, 3, 24, 32, 64, 65, 512, 513] {
                let x = &images[..batch * inputs];
                let grad = draw(batch);
                let dims = [batch, inputs, classes];
                let product = linear(x, &weight, dims);
                let expected =
                    Flex::float_matmul(flex(x, [batch, inputs]), flex(&weight, [inputs, classes]));
                let takes = avx512 && classes <= 16 && batch <= 64;
                assert_eq!(product.is_some(), takes, "{dims:?}");
                if let Some(product) = product {
                    assert_eq!(bits(&product), bits(&values(expected)), "{dims:?}");
                    compared[0] += 1;
                }
                let gradient = weight_gradient(x, &grad, dims);
                let expected = Flex::linear_weight_backward(
                    flex(x, [batch, inputs]),
                    flex(&grad, [batch, classes]),
                );
                assert_eq!(
                    gradient.is_some(),
                    avx512 && classes == 10 && (3..=512).contains(&batch),
                    "{dims:?}"
                );
                if let Some(gradient) = gradient {
                    assert_eq!(bits(&gradient), bits(&values(expected)), "{dims:?}");
                    compared[1] += 1;
                }
            }
        }
        if avx512 {
            assert_eq!(compared, [10, 6]);
        } else {
            println!("no AVX-512 on this CPU: checked that flex's ops run instead");
        }
    }
}
