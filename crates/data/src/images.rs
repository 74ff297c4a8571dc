//! A split of MNIST or Fashion-MNIST held in memory once, as contiguous bytes.
//!
//! MNIST's raw IDX files (the ones Burn's `MnistDataset` reads, after
//! [`provision`](crate::provision) has checked them) and Fashion-MNIST's gzipped ones (Debian's
//! `dataset-fashion-mnist`, which Burn does not ship) are parsed by the same IDX checks
//! ([`idx`](crate::idx)) straight into one `Vec<u8>` of pixels, so batches are gathered from
//! contiguous memory. (Burn's `MnistDataset` keeps every image in an allocation of its own and
//! turns it into a `[[f32; 28]; 28]` on every read: it cost 0.1 s and tens of MiB per run.)

#[cfg(feature = "files")]
use std::fs;
#[cfg(feature = "files")]
use std::io::Read;
use std::path::{Path, PathBuf};

#[cfg(feature = "loader")]
use burn::data::dataset::Dataset;
use serde::{Deserialize, Serialize};

#[cfg(feature = "files")]
use crate::provision::{self, FileKind, OnCorrupt};
use crate::{DataError, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES, idx};

/// One image and its label, the shape of the item Burn's `MnistDataset` yields (what the
/// tutorial's `train_dataset[0]` shows), so `inspect` can print it as Burn users know it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MnistItem {
    /// Pixel values 0.0-255.0, row by row.
    pub image: [[f32; IMAGE_SIDE]; IMAGE_SIDE],
    /// The digit (or Fashion-MNIST class), 0-9.
    pub label: u8,
}

/// Which dataset a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Handwritten digits (the files of Burn's `MnistDataset`).
    Mnist,
    /// Zalando's clothing images in MNIST's format (Debian's `dataset-fashion-mnist`).
    FashionMnist,
}

/// The two splits, as the tutorial and Burn name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

/// Where Debian's `dataset-fashion-mnist` puts its files; `FASHION_MNIST_DIR` overrides it.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

const FASHION_CLASSES: [&str; NUM_CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

const DIGITS: [&str; NUM_CLASSES] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

impl DatasetKind {
    /// The name configs and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
        }
    }

    /// What each label means.
    pub fn class_names(self) -> &'static [&'static str; NUM_CLASSES] {
        match self {
            Self::Mnist => &DIGITS,
            Self::FashionMnist => &FASHION_CLASSES,
        }
    }
}

#[cfg(feature = "files")]
impl DatasetKind {
    /// Where this dataset's files are read from, and how, for a person.
    pub fn source(self) -> Result<String, DataError> {
        Ok(match self {
            Self::Mnist => format!(
                "{} (raw IDX files, where Burn's MnistDataset reads them)",
                provision::mnist_dir()?.display()
            ),
            Self::FashionMnist => format!(
                "{} (gzipped IDX files of Debian's dataset-fashion-mnist)",
                fashion_dir().display()
            ),
        })
    }
}

impl std::str::FromStr for DatasetKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        [Self::Mnist, Self::FashionMnist]
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| format!("unknown dataset `{name}` (mnist or fashion-mnist)"))
    }
}

impl std::str::FromStr for Split {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        [Self::Train, Self::Test]
            .into_iter()
            .find(|split| split.name() == name)
            .ok_or_else(|| format!("unknown split `{name}` (train or test)"))
    }
}

impl Split {
    /// `train` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

/// One split in memory: 28x28 grayscale images back to back (row-major), and their labels.
#[derive(Debug, Clone)]
pub struct ImageSet {
    kind: DatasetKind,
    split: Split,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl ImageSet {
    #[cfg(feature = "files")]
    /// Loads `split` of `kind`, checking its files first (and fetching missing MNIST files).
    pub fn load(kind: DatasetKind, split: Split) -> Result<Self, DataError> {
        match kind {
            DatasetKind::Mnist => Self::load_mnist(split),
            DatasetKind::FashionMnist => Self::load_fashion(split, &fashion_dir()),
        }
    }

    #[cfg(feature = "files")]
    fn load_mnist(split: Split) -> Result<Self, DataError> {
        let root = provision::mnist_dir()?;
        let file = |kind| {
            provision::RAW_FILES
                .iter()
                .find(|file| file.split == split.name() && file.kind == kind)
                .expect("RAW_FILES has both files of each split")
        };
        let (images, labels) = (file(FileKind::Images), file(FileKind::Labels));
        let read = |file: &provision::RawFile| {
            let path = file.path_in(&root);
            fs::read(&path)
                .map(|bytes| (bytes, path.clone()))
                .map_err(|cause| DataError::Io { path, cause })
        };
        let verified = |file| read(file).ok().filter(|(bytes, _)| file.verifies(bytes));
        if let (Some(images), Some(labels)) = (verified(images), verified(labels)) {
            return Self::from_idx(DatasetKind::Mnist, split, images, labels);
        }
        // Missing or damaged: provisioning installs the files or says what is wrong.
        provision::ensure_split(&root, split.name(), OnCorrupt::Fail)?;
        Self::from_idx(DatasetKind::Mnist, split, read(images)?, read(labels)?)
    }

    /// Reads Fashion-MNIST's gzipped IDX files from `dir`.
    #[cfg(feature = "files")]
    pub fn load_fashion(split: Split, dir: &Path) -> Result<Self, DataError> {
        let prefix = match split {
            Split::Train => "train",
            Split::Test => "t10k",
        };
        let images_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
        let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
        let images = (gunzip(&images_path)?, images_path);
        let labels = (gunzip(&labels_path)?, labels_path);
        Self::from_idx(DatasetKind::FashionMnist, split, images, labels)
    }

    /// A split from the bytes of its two IDX files (each with the path or name it came from,
    /// for the errors), checked as [`idx`] checks them: what every loader ends in, from the
    /// disk or (in the browser) from the network.
    pub fn from_idx(
        kind: DatasetKind,
        split: Split,
        (images_bytes, images_path): (Vec<u8>, PathBuf),
        (labels_bytes, labels_path): (Vec<u8>, PathBuf),
    ) -> Result<Self, DataError> {
        let invalid = |path: &Path| {
            let path = path.to_path_buf();
            move |cause| DataError::Invalid { path, cause }
        };
        let images = idx::parse_images(&images_bytes, IMAGE_SIDE).map_err(invalid(&images_path))?;
        let labels =
            idx::parse_labels(&labels_bytes, NUM_CLASSES).map_err(invalid(&labels_path))?;
        idx::check_pair(images.count, labels.len()).map_err(|cause| DataError::Mismatched {
            images: images_path.clone(),
            labels: labels_path.clone(),
            cause,
        })?;
        let (pixels, labels) = (images.pixels.as_ptr_range(), labels.as_ptr_range());
        Ok(Self {
            kind,
            split,
            pixels: payload_of(images_bytes, pixels),
            labels: payload_of(labels_bytes, labels),
        })
    }

    /// Keeps only the first `limit` images (all of them if there are fewer).
    pub fn truncated(mut self, limit: Option<usize>) -> Self {
        if let Some(limit) = limit.filter(|&limit| limit < self.len()) {
            self.labels.truncate(limit);
            self.pixels.truncate(limit * IMAGE_PIXELS);
        }
        self
    }

    /// Splits off `count` images chosen by `seed` (the same ones on every machine, backend
    /// and resume): `(the rest, in their order; the chosen ones, in theirs)`.
    pub fn hold_out(mut self, count: usize, seed: u64) -> (Self, Self) {
        // Epoch 0 of the shuffle: training draws its orders from epoch 1 on.
        let mut chosen = vec![false; self.len()];
        for index in crate::permutation(seed, 0, self.len())
            .into_iter()
            .take(count)
        {
            chosen[index] = true;
        }
        let mut held = Self {
            kind: self.kind,
            split: self.split,
            pixels: Vec::with_capacity(count * IMAGE_PIXELS),
            labels: Vec::with_capacity(count),
        };
        // The rest close up in place, so the split is never held twice.
        let mut kept = 0;
        for (index, &chosen) in chosen.iter().enumerate() {
            let image = index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS;
            if chosen {
                held.pixels.extend_from_slice(&self.pixels[image]);
                held.labels.push(self.labels[index]);
            } else {
                self.pixels.copy_within(image, kept * IMAGE_PIXELS);
                self.labels[kept] = self.labels[index];
                kept += 1;
            }
        }
        self.pixels.truncate(kept * IMAGE_PIXELS);
        self.labels.truncate(kept);
        (self, held)
    }

    /// Every image deskewed ([`crate::deskew`]), once, so batches need no extra work; the
    /// images are shared out over the machine's cores (where there is one, as in a browser,
    /// on this thread).
    pub fn deskewed(mut self) -> Self {
        let deskew_all = |part: &mut [u8]| {
            for image in part.chunks_mut(IMAGE_PIXELS) {
                let upright = crate::deskew(image);
                image.copy_from_slice(&upright);
            }
        };
        match std::thread::available_parallelism().map_or(1, usize::from) {
            1 => deskew_all(&mut self.pixels),
            threads => {
                let share = self.len().div_ceil(threads).max(1) * IMAGE_PIXELS;
                std::thread::scope(|scope| {
                    for part in self.pixels.chunks_mut(share) {
                        scope.spawn(move || deskew_all(part));
                    }
                });
            }
        }
        self
    }

    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    pub fn split(&self) -> Split {
        self.split
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 pixels (row-major, 0 = background) of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// The label of image `index`.
    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    /// Every label, in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Image `index` as an [`MnistItem`].
    pub fn item(&self, index: usize) -> MnistItem {
        let mut image = [[0.0; IMAGE_SIDE]; IMAGE_SIDE];
        for (row, pixels) in image.iter_mut().zip(self.image(index).chunks(IMAGE_SIDE)) {
            for (value, &pixel) in row.iter_mut().zip(pixels) {
                *value = f32::from(pixel);
            }
        }
        MnistItem {
            image,
            label: self.label(index),
        }
    }
}

/// The folder Fashion-MNIST is read from.
#[cfg(feature = "files")]
pub fn fashion_dir() -> PathBuf {
    std::env::var_os("FASHION_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR))
}

/// The part of `bytes` at `range` (a slice of it), in the same allocation: an IDX file's
/// payload without its header, never copied whole.
fn payload_of(mut bytes: Vec<u8>, range: std::ops::Range<*const u8>) -> Vec<u8> {
    let start = range.start as usize - bytes.as_ptr() as usize;
    bytes.truncate(range.end as usize - bytes.as_ptr() as usize);
    bytes.drain(..start);
    bytes
}

#[cfg(feature = "files")]
fn gunzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let file = fs::File::open(path).map_err(|cause| match cause.kind() {
        std::io::ErrorKind::NotFound => DataError::FashionMissing {
            path: path.to_path_buf(),
        },
        _ => DataError::Io {
            path: path.to_path_buf(),
            cause,
        },
    })?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|cause| DataError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
    Ok(bytes)
}

/// The indices `0..len` as a Burn dataset: what the data loaders shuffle and batch; the
/// batcher looks the images up in the [`ImageSet`].
#[cfg(feature = "loader")]
#[derive(Debug, Clone, Copy)]
pub struct Indices(pub usize);

#[cfg(feature = "loader")]
impl Dataset<usize> for Indices {
    fn get(&self, index: usize) -> Result<usize, burn::data::dataset::DatasetError> {
        Ok(index)
    }

    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(all(test, feature = "files", feature = "loader"))]
mod tests {
    use super::*;

    fn mnist(split: Split) -> ImageSet {
        ImageSet::load(DatasetKind::Mnist, split).expect("MNIST files available")
    }

    #[test]
    fn a_held_out_split_is_disjoint_complete_and_chosen_by_the_seed() {
        let train = mnist(Split::Train).truncated(Some(3000));
        let (rest, held) = train.clone().hold_out(500, 42);
        assert_eq!((rest.len(), held.len()), (2500, 500));
        // Every image lands in exactly one part: each part's images, matched back to the
        // original indices, cover 0..3000 once (images are told apart by pixels and label).
        let key = |set: &ImageSet, i: usize| (set.image(i).to_vec(), set.label(i));
        let mut original: Vec<_> = (0..train.len()).map(|i| key(&train, i)).collect();
        let mut parts: Vec<_> = (0..rest.len())
            .map(|i| key(&rest, i))
            .chain((0..held.len()).map(|i| key(&held, i)))
            .collect();
        original.sort();
        parts.sort();
        assert_eq!(parts, original);
        // The same seed, the same images; another seed, others; not simply the first 500.
        let (_, again) = train.clone().hold_out(500, 42);
        assert_eq!(again.pixels, held.pixels);
        let (_, other) = train.clone().hold_out(500, 7);
        assert_ne!(other.pixels, held.pixels);
        assert_ne!(held.pixels, train.clone().truncated(Some(500)).pixels);
    }

    #[test]
    fn splits_have_the_documented_sizes() {
        assert_eq!(mnist(Split::Train).len(), 60_000);
        assert_eq!(mnist(Split::Test).len(), 10_000);
    }

    #[test]
    fn first_training_labels_are_the_tutorials() {
        assert_eq!(mnist(Split::Train).labels()[..5], [5, 0, 4, 1, 9]);
    }

    #[test]
    fn an_item_is_a_28_by_28_grayscale_image_as_burn_reads_it() {
        let test = mnist(Split::Test);
        let item = test.item(0);
        assert_eq!(item.image.len(), IMAGE_SIDE);
        assert!(item.image.iter().all(|row| row.len() == IMAGE_SIDE));
        assert_eq!(item.label, 7, "the first test image is a 7");
        // The same values as the raw file read by hand, for every test image: a reader that
        // shares nothing with `idx` (Burn's `MnistDataset` does exactly this).
        let test_dir = provision::mnist_dir().unwrap().join("test");
        let raw = fs::read(test_dir.join("t10k-images-idx3-ubyte")).unwrap();
        let labels = fs::read(test_dir.join("t10k-labels-idx1-ubyte")).unwrap();
        assert_eq!(
            raw[..16],
            [0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28]
        );
        assert_eq!(raw.len(), 16 + test.len() * IMAGE_PIXELS);
        for (index, (pixels, &label)) in
            raw[16..].chunks(IMAGE_PIXELS).zip(&labels[8..]).enumerate()
        {
            let ours = test.item(index);
            let by_hand: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
            assert_eq!(ours.image.concat(), by_hand, "image {index}");
            assert_eq!(ours.label, label, "label {index}");
        }
        let pixels = test.image(0);
        let ink = pixels.iter().filter(|&&p| p > 0).count();
        assert!((50..400).contains(&ink), "{ink} inked pixels");
        assert_eq!(pixels.iter().max(), Some(&255));
    }

    #[test]
    fn a_limit_keeps_the_first_images() {
        let full = mnist(Split::Train);
        let sliced = full.clone().truncated(Some(100));
        assert_eq!(sliced.len(), 100);
        assert_eq!(sliced.image(99), full.image(99));
        assert_eq!(mnist(Split::Test).truncated(Some(1_000_000)).len(), 10_000);
    }

    #[test]
    fn fashion_mnist_reads_debians_files() {
        if !fashion_dir().join("train-images-idx3-ubyte.gz").is_file() {
            crate::test_support::report_skip(
                "fashion_mnist_reads_debians_files",
                &format!(
                    "no Fashion-MNIST in {} (`just fashion-data` installs it)",
                    fashion_dir().display()
                ),
            );
            return;
        }
        let train = ImageSet::load(DatasetKind::FashionMnist, Split::Train).unwrap();
        let test = ImageSet::load(DatasetKind::FashionMnist, Split::Test).unwrap();
        assert_eq!((train.len(), test.len()), (60_000, 10_000));
        // Fashion-MNIST's first training image is an ankle boot, then a T-shirt.
        assert_eq!(train.labels()[..2], [9, 0]);
        let counts = (0..10u8)
            .map(|class| test.labels().iter().filter(|&&l| l == class).count())
            .collect::<Vec<_>>();
        assert_eq!(counts, [1000; 10], "a balanced test split");
    }

    #[test]
    fn a_missing_fashion_folder_says_what_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let error = ImageSet::load_fashion(Split::Test, empty.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("dataset-fashion-mnist (`just fashion-data` installs it)"),
            "{error}"
        );
    }
}
