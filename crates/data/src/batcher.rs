use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;

use crate::{IMAGE_PIXELS, ImageSet};

/// A batch as the model reads it.
#[derive(Clone, Debug)]
pub struct MnistBatch {
    /// Flattened images, `[batch, 784]`: the tutorial's `images.view(-1, 28*28)`.
    pub images: Tensor<2>,
    /// Class labels, `[batch]`.
    pub targets: Tensor<1, Int>,
}

/// Maps a raw pixel `p` in 0..=255 to `(p / 255 - mean) / std`: `ToTensor()` scaling, then
/// optional standardisation, applied while gathering a batch (a loop the compiler vectorises).
#[derive(Clone, Copy, Debug)]
pub struct PixelScaling {
    mean: f32,
    std: f32,
}

impl PixelScaling {
    pub fn new(mean: f32, std: f32) -> Self {
        Self { mean, std }
    }

    /// The model input for one raw pixel.
    pub fn scale(&self, pixel: u8) -> f32 {
        (f32::from(pixel) / 255.0 - self.mean) / self.std
    }

    /// A `[rows, 784]` tensor of scaled images given as raw pixel rows.
    pub fn tensor<'a>(
        &self,
        images: impl ExactSizeIterator<Item = &'a [u8]>,
        device: &Device,
    ) -> Tensor<2> {
        let rows = images.len();
        let mut values = Vec::with_capacity(rows * IMAGE_PIXELS);
        for image in images {
            values.extend(image.iter().map(|&pixel| self.scale(pixel)));
        }
        Tensor::from_data(TensorData::new(values, [rows, IMAGE_PIXELS]), device)
    }
}

/// Builds batches from image indices: looks each image up in the split held in memory,
/// scales it and flattens it into one row, all into one buffer uploaded as a single tensor.
#[derive(Clone, Debug)]
pub struct MnistBatcher {
    images: Arc<ImageSet>,
    scaling: PixelScaling,
}

impl MnistBatcher {
    /// Batches images of `images`, scaled by `scaling`.
    pub fn new(images: Arc<ImageSet>, scaling: PixelScaling) -> Self {
        Self { images, scaling }
    }
}

impl Batcher<usize, MnistBatch> for MnistBatcher {
    fn batch(&self, indices: Vec<usize>, device: &Device) -> MnistBatch {
        let labels: Vec<i64> = indices
            .iter()
            .map(|&index| i64::from(self.images.label(index)))
            .collect();
        MnistBatch {
            images: self.scaling.tensor(
                indices.iter().map(|&index| self.images.image(index)),
                device,
            ),
            targets: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DatasetKind, Split};

    fn train() -> Arc<ImageSet> {
        Arc::new(ImageSet::load(DatasetKind::Mnist, Split::Train).expect("MNIST available"))
    }

    fn values(tensor: Tensor<2>) -> Vec<f32> {
        tensor.into_data().try_to_vec().unwrap()
    }

    #[test]
    fn batches_are_flat_rows_with_their_labels() {
        let images = train();
        let batcher = MnistBatcher::new(images.clone(), PixelScaling::new(0.0, 1.0));
        let batch = batcher.batch(vec![0, 1, 2, 3, 4], &Device::flex());
        assert_eq!(batch.images.dims(), [5, IMAGE_PIXELS]);
        assert_eq!(batch.targets.dims(), [5]);
        let labels: Vec<i64> = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(labels, [5, 0, 4, 1, 9]);
        // Row-major flattening, like view(-1, 28*28): pixel (row 7, col 9) of image 2.
        let pixels = values(batch.images);
        let item = images.item(2);
        assert_eq!(
            pixels[2 * IMAGE_PIXELS + 7 * 28 + 9],
            item.image[7][9] / 255.0
        );
    }

    #[test]
    fn pixels_are_scaled_to_unit_range_like_to_tensor() {
        let batcher = MnistBatcher::new(train(), PixelScaling::new(0.0, 1.0));
        let pixels = values(batcher.batch((0..32).collect(), &Device::flex()).images);
        let min = pixels.iter().cloned().fold(f32::INFINITY, f32::min);
        let max = pixels.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((min, max), (0.0, 1.0));
    }

    #[test]
    fn normalisation_standardises_pixels() {
        let (mean, std) = (0.1307, 0.3081);
        let batcher = MnistBatcher::new(train(), PixelScaling::new(mean, std));
        let pixels = values(batcher.batch((0..256).collect(), &Device::flex()).images);
        let min = pixels.iter().cloned().fold(f32::INFINITY, f32::min);
        let max = pixels.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert!((min - (0.0 - mean) / std).abs() < 1e-5);
        assert!((max - (1.0 - mean) / std).abs() < 1e-5);
        // MNIST's own statistics: the standardised sample is near mean 0, std 1.
        let n = pixels.len() as f32;
        let sample_mean = pixels.iter().sum::<f32>() / n;
        let sample_std = (pixels
            .iter()
            .map(|p| (p - sample_mean).powi(2))
            .sum::<f32>()
            / n)
            .sqrt();
        assert!(sample_mean.abs() < 0.1, "mean {sample_mean}");
        assert!((sample_std - 1.0).abs() < 0.1, "std {sample_std}");
    }
}
