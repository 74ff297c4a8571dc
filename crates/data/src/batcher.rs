use std::sync::Arc;

#[cfg(feature = "loader")]
use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;

use crate::{AugmentConfig, IMAGE_PIXELS, ImageSet};

/// A batch as the model reads it.
#[derive(Clone, Debug)]
pub struct MnistBatch {
    /// Flattened images, `[batch, 784]`: the tutorial's `images.view(-1, 28*28)`.
    pub images: Tensor<2>,
    /// Class labels, `[batch]`.
    pub targets: Tensor<1, Int>,
}

/// Maps a raw pixel `p` in 0..=255 to `(p / 255 - mean) / std`: `ToTensor()` scaling, then
/// optional standardisation. The 256 possible values are computed once, by that formula, so a
/// batch is gathered with one table lookup a pixel instead of a division (the same bits).
#[derive(Clone, Debug)]
pub struct PixelScaling {
    table: [f32; 256],
}

impl PixelScaling {
    pub fn new(mean: f32, std: f32) -> Self {
        Self {
            table: std::array::from_fn(|pixel| (pixel as f32 / 255.0 - mean) / std),
        }
    }

    /// The model input for one raw pixel.
    pub fn scale(&self, pixel: u8) -> f32 {
        self.table[usize::from(pixel)]
    }

    /// A `[rows, 784]` tensor of scaled images given as raw pixel rows.
    pub fn tensor<'a>(
        &self,
        images: impl ExactSizeIterator<Item = &'a [u8]>,
        device: &Device,
    ) -> Tensor<2> {
        Tensor::from_data(self.data(images), device)
    }

    /// The same values on the host, not yet on a device.
    pub fn data<'a>(&self, images: impl ExactSizeIterator<Item = &'a [u8]>) -> TensorData {
        let rows = images.len();
        let mut values = Vec::with_capacity(rows * IMAGE_PIXELS);
        for image in images {
            values.extend(image.iter().map(|&pixel| self.scale(pixel)));
        }
        TensorData::new(values, [rows, IMAGE_PIXELS])
    }
}

/// One training image as an epoch draws it: which image, and in which epoch (what its
/// augmentation is drawn from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw {
    pub index: usize,
    pub epoch: usize,
}

/// Builds batches from image indices: looks each image up in the split held in memory,
/// scales it and flattens it into one row, all into one buffer uploaded as a single tensor.
/// Training batches ([`Draw`]s) are augmented first when the batcher is told how.
#[derive(Clone, Debug)]
pub struct MnistBatcher {
    images: Arc<ImageSet>,
    scaling: PixelScaling,
    /// The augmentation of training images, and the seed it is drawn from.
    augment: Option<(AugmentConfig, u64)>,
}

impl MnistBatcher {
    /// Batches images of `images`, scaled by `scaling`.
    pub fn new(images: Arc<ImageSet>, scaling: PixelScaling) -> Self {
        Self {
            images,
            scaling,
            augment: None,
        }
    }

    /// Augments the images of training batches as `augment` says (when it does anything),
    /// drawn from `seed`.
    pub fn augmented(self, augment: Option<AugmentConfig>, seed: u64) -> Self {
        Self {
            augment: augment
                .filter(AugmentConfig::is_active)
                .map(|config| (config, seed)),
            ..self
        }
    }

    /// A batch's scaled images and labels on the host: the part of [`Batcher::batch`] before
    /// any device is involved (the step profiler times the two apart).
    pub fn host_batch(&self, indices: &[usize]) -> (TensorData, TensorData) {
        let images = self
            .scaling
            .data(indices.iter().map(|&index| self.images.image(index)));
        (images, self.labels(indices.iter().copied()))
    }

    /// [`host_batch`](Self::host_batch) of a training batch: each image augmented as its
    /// draw says, when the batcher augments.
    pub fn host_training_batch(&self, draws: &[Draw]) -> (TensorData, TensorData) {
        let Some((augment, seed)) = &self.augment else {
            let indices: Vec<usize> = draws.iter().map(|draw| draw.index).collect();
            return self.host_batch(&indices);
        };
        let drawn: Vec<[u8; IMAGE_PIXELS]> = draws
            .iter()
            .map(|draw| augment.apply(self.images.image(draw.index), *seed, draw.epoch, draw.index))
            .collect();
        let images = self.scaling.data(drawn.iter().map(|image| &image[..]));
        (images, self.labels(draws.iter().map(|draw| draw.index)))
    }

    fn labels(&self, indices: impl ExactSizeIterator<Item = usize>) -> TensorData {
        let count = indices.len();
        let labels: Vec<i64> = indices
            .map(|index| i64::from(self.images.label(index)))
            .collect();
        TensorData::new(labels, [count])
    }

    /// The batch [`host_batch`](Self::host_batch) built, on `device`.
    pub fn upload(images: TensorData, labels: TensorData, device: &Device) -> MnistBatch {
        MnistBatch {
            images: Tensor::from_data(images, device),
            targets: Tensor::from_data(labels, device),
        }
    }
}

#[cfg(feature = "loader")]
impl Batcher<usize, MnistBatch> for MnistBatcher {
    fn batch(&self, indices: Vec<usize>, device: &Device) -> MnistBatch {
        let (images, labels) = self.host_batch(&indices);
        Self::upload(images, labels, device)
    }
}

#[cfg(feature = "loader")]
impl Batcher<Draw, MnistBatch> for MnistBatcher {
    fn batch(&self, draws: Vec<Draw>, device: &Device) -> MnistBatch {
        let (images, labels) = self.host_training_batch(&draws);
        Self::upload(images, labels, device)
    }
}

#[cfg(all(test, feature = "files", feature = "loader"))]
mod tests {
    use super::*;
    use crate::{DatasetKind, Split};

    fn train() -> Arc<ImageSet> {
        Arc::new(ImageSet::load(DatasetKind::Mnist, Split::Train).expect("MNIST available"))
    }

    fn values(tensor: Tensor<2>) -> Vec<f32> {
        tensor.into_data().try_to_vec().unwrap()
    }

    /// The bytes of a raw MNIST training file after its IDX header, read straight from disk.
    fn raw_training_file(name: &str, header: usize) -> Vec<u8> {
        let path = crate::provision::mnist_dir()
            .unwrap()
            .join("train")
            .join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        bytes[header..].to_vec()
    }

    #[test]
    fn a_batch_holds_the_raw_pixels_row_by_row_scaled_and_its_labels() {
        // Against the IDX bytes themselves: images are 28 rows of 28 bytes after a 16-byte
        // header, labels one byte each after an 8-byte header. Items out of order and from
        // both ends of the file.
        let pixels = raw_training_file("train-images-idx3-ubyte", 16);
        let labels = raw_training_file("train-labels-idx1-ubyte", 8);
        let (mean, std) = (0.1307, 0.3081);
        let indices = vec![2, 0, 59_999, 31_337, 7];
        let batcher = MnistBatcher::new(train(), PixelScaling::new(mean, std));
        let batch = batcher.batch(indices.clone(), &Device::flex());
        assert_eq!(batch.images.dims(), [indices.len(), IMAGE_PIXELS]);
        let targets: Vec<i64> = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        let expected: Vec<i64> = indices.iter().map(|&i| i64::from(labels[i])).collect();
        assert_eq!(targets, expected);
        let values = values(batch.images);
        for (row, &index) in indices.iter().enumerate() {
            let raw = &pixels[index * 784..(index + 1) * 784];
            assert!(raw.iter().filter(|&&p| p > 0 && p < 255).count() > 20);
            for (offset, &pixel) in raw.iter().enumerate() {
                let expected = (f64::from(pixel) / 255.0 - f64::from(mean)) / f64::from(std);
                let got = f64::from(values[row * IMAGE_PIXELS + offset]);
                assert!(
                    (got - expected).abs() < 1e-5,
                    "image {index}, row {}, column {}: {got} != {expected}",
                    offset / 28,
                    offset % 28
                );
            }
        }
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
