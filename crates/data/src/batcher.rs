use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::vision::MnistItem;
use burn::prelude::*;

use crate::IMAGE_PIXELS;

/// A batch as the model reads it.
#[derive(Clone, Debug)]
pub struct MnistBatch {
    /// Flattened images, `[batch, 784]`: the tutorial's `images.view(-1, 28*28)`.
    pub images: Tensor<2>,
    /// Digit labels, `[batch]`.
    pub targets: Tensor<1, Int>,
}

/// Scales pixels from 0..255 to 0..1 (what `ToTensor()` does), then optionally standardises
/// them with `(x - mean) / std`, and flattens each image into one row.
///
/// The whole batch is filled into one host buffer and uploaded as a single tensor, rather than
/// one tensor per item concatenated on the device.
#[derive(Clone, Debug)]
pub struct MnistBatcher {
    mean: f32,
    std: f32,
}

impl MnistBatcher {
    /// A batcher that maps a pixel `p` in 0..255 to `(p / 255 - mean) / std`.
    pub fn new(mean: f32, std: f32) -> Self {
        Self { mean, std }
    }

    /// The model input for one raw pixel value.
    pub fn normalise(&self, pixel: f32) -> f32 {
        (pixel / 255.0 - self.mean) / self.std
    }
}

impl Batcher<MnistItem, MnistBatch> for MnistBatcher {
    fn batch(&self, items: Vec<MnistItem>, device: &Device) -> MnistBatch {
        let batch_size = items.len();
        let mut pixels = Vec::with_capacity(batch_size * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(batch_size);
        for item in &items {
            pixels.extend(item.image.as_flattened().iter().map(|&p| self.normalise(p)));
            labels.push(i64::from(item.label));
        }
        MnistBatch {
            images: Tensor::from_data(TensorData::new(pixels, [batch_size, IMAGE_PIXELS]), device),
            targets: Tensor::from_data(TensorData::new(labels, [batch_size]), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::data::dataset::Dataset;

    use super::*;
    use crate::{Split, VerifiedMnist};

    fn first_items(n: usize) -> Vec<MnistItem> {
        let (mnist, _) = VerifiedMnist::ensure().expect("MNIST files available");
        let train = mnist.load(Split::Train, Some(n));
        (0..n).map(|i| train.get(i).unwrap()).collect()
    }

    fn values(tensor: Tensor<2>) -> Vec<f32> {
        tensor.into_data().try_to_vec().unwrap()
    }

    #[test]
    fn batches_are_flat_rows_with_their_labels() {
        let items = first_items(5);
        let batch = MnistBatcher::new(0.0, 1.0).batch(items.clone(), &Device::flex());
        assert_eq!(batch.images.dims(), [5, IMAGE_PIXELS]);
        assert_eq!(batch.targets.dims(), [5]);
        let labels: Vec<i64> = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(labels, [5, 0, 4, 1, 9]);
        // Row-major flattening, like view(-1, 28*28): pixel (row 7, col 9) of item 2.
        let pixels = values(batch.images);
        assert_eq!(
            pixels[2 * IMAGE_PIXELS + 7 * 28 + 9],
            items[2].image[7][9] / 255.0
        );
    }

    #[test]
    fn pixels_are_scaled_to_unit_range_like_to_tensor() {
        let pixels = values(
            MnistBatcher::new(0.0, 1.0)
                .batch(first_items(32), &Device::flex())
                .images,
        );
        let min = pixels.iter().cloned().fold(f32::INFINITY, f32::min);
        let max = pixels.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((min, max), (0.0, 1.0));
    }

    #[test]
    fn normalisation_standardises_pixels() {
        let (mean, std) = (0.1307, 0.3081);
        let pixels = values(
            MnistBatcher::new(mean, std)
                .batch(first_items(256), &Device::flex())
                .images,
        );
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
