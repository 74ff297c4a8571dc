//! A look at the data before training: what the tutorial prints and shows, from the CLI,
//! every fact read off the data and the configured batcher rather than written down.

use std::fmt::Write as _;

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::Device;
use mnist_data::{DataConfig, IMAGE_SIDE, ImageSet, MnistBatcher, MnistItem, NUM_CLASSES};

/// What `mnist-burn inspect` reports, every part of it read off the data and the code that
/// loads and batches it.
pub struct Facts<'a> {
    /// Where the files come from, and what reads them.
    pub source: String,
    pub train: &'a ImageSet,
    pub test: &'a ImageSet,
    /// The split the shown images come from.
    pub shown: &'a ImageSet,
    /// The shown split deskewed, when the config deskews: what the model is given.
    pub deskewed: Option<&'a ImageSet>,
    pub indices: &'a [usize],
    pub batch: BatchFacts,
}

/// A real batch of the shown images, built by the configured batcher.
pub struct BatchFacts {
    /// The config the batcher's scaling comes from, for a person.
    config: String,
    scaling: (f32, f32),
    image_dims: Vec<usize>,
    image_dtype: String,
    range: (f32, f32),
    target_dims: Vec<usize>,
    target_dtype: String,
    targets: Vec<i64>,
}

impl BatchFacts {
    /// Batches `indices` of `images` as training would (on the CPU) and measures the result.
    pub fn build(
        images: &Arc<ImageSet>,
        indices: &[usize],
        data: &DataConfig,
        config: String,
    ) -> Self {
        let batcher = MnistBatcher::new(images.clone(), data.scaling());
        let batch = batcher.batch(indices.to_vec(), &Device::flex());
        let image_dims = batch.images.dims().to_vec();
        let image_dtype = format!("{:?}", batch.images.dtype());
        let target_dims = batch.targets.dims().to_vec();
        let target_dtype = format!("{:?}", batch.targets.dtype());
        let pixels: Vec<f32> = batch
            .images
            .into_data()
            .convert::<f32>()
            .try_to_vec()
            .unwrap_or_default();
        let range = pixels
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(low, high), &p| {
                (low.min(p), high.max(p))
            });
        let targets = batch
            .targets
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap_or_default();
        Self {
            config,
            scaling: (data.mean, data.std),
            image_dims,
            image_dtype,
            range,
            target_dims,
            target_dtype,
            targets,
        }
    }
}

impl Facts<'_> {
    /// The shown images with their captions (`#3: 1`), then, when the config deskews, the
    /// same images deskewed: for the terminal and the PNG grid.
    pub fn pictures(&self) -> Vec<(&[u8], String)> {
        let names = self.shown.kind().class_names();
        let mut pictures: Vec<(&[u8], String)> = self
            .indices
            .iter()
            .map(|&index| {
                let label = names[usize::from(self.shown.label(index))];
                (self.shown.image(index), format!("#{index}: {label}"))
            })
            .collect();
        if let Some(deskewed) = self.deskewed {
            pictures.extend(
                self.indices
                    .iter()
                    .map(|&index| (deskewed.image(index), format!("#{index} deskewed"))),
            );
        }
        pictures
    }

    /// The PNG grid's title: `mnist train images, then deskewed`.
    pub fn title(&self, split: &str) -> String {
        let then = if self.deskewed.is_some() {
            ", then deskewed"
        } else {
            ""
        };
        format!("{} {split} images{then}", self.shown.kind().name())
    }

    /// The text printed: sizes, item type, raw pixels, the batch, labels and class counts.
    pub fn summary(&self) -> String {
        let kind = self.train.kind();
        let names = kind.class_names();
        let mut text = String::new();
        writeln!(text, "Dataset: {}, from {}", kind.name(), self.source).ok();
        writeln!(text, "  train: {} images", self.train.len()).ok();
        writeln!(text, "  test:  {} images", self.test.len()).ok();
        if let Some(&first) = self.indices.first() {
            let item = self.shown.item(first);
            writeln!(
                text,
                "Item type: {} {{ image: {}, label: {} }}",
                std::any::type_name::<MnistItem>(),
                std::any::type_name_of_val(&item.image),
                std::any::type_name_of_val(&item.label),
            )
            .ok();
        }
        let (low, high) = pixel_range(self.shown);
        writeln!(
            text,
            "  raw pixels ({} split): {IMAGE_SIDE}x{IMAGE_SIDE} grayscale, values {low}..{high}",
            self.shown.split().name()
        )
        .ok();
        let batch = &self.batch;
        writeln!(
            text,
            "Batch of the {} images shown, from the batcher of {} (data.mean {}, data.std {}):",
            self.indices.len(),
            batch.config,
            batch.scaling.0,
            batch.scaling.1
        )
        .ok();
        writeln!(
            text,
            "  images:  {:?} {}, values {}..{}",
            batch.image_dims, batch.image_dtype, batch.range.0, batch.range.1
        )
        .ok();
        let targets: Vec<String> = batch.targets.iter().map(i64::to_string).collect();
        writeln!(
            text,
            "  targets: {:?} {}, values {}",
            batch.target_dims,
            batch.target_dtype,
            targets.join(" ")
        )
        .ok();
        let labels: Vec<String> = self
            .indices
            .iter()
            .map(|&index| names[usize::from(self.shown.label(index))].to_string())
            .collect();
        writeln!(
            text,
            "Labels of {} images {:?}: {}",
            self.shown.split().name(),
            self.indices,
            labels.join(" ")
        )
        .ok();
        for split in [self.train, self.test] {
            writeln!(text, "Class counts ({}):", split.split().name()).ok();
            let mut counts = [0usize; NUM_CLASSES];
            for &label in split.labels() {
                counts[usize::from(label)] += 1;
            }
            for (name, count) in names.iter().zip(counts) {
                writeln!(text, "  {name:>11}: {count:>5}").ok();
            }
        }
        text
    }
}

fn pixel_range(images: &ImageSet) -> (u8, u8) {
    (0..images.len())
        .flat_map(|index| images.image(index).iter().copied())
        .fold((u8::MAX, u8::MIN), |(low, high), p| {
            (low.min(p), high.max(p))
        })
}

/// Shades for 0..=255, darkest first: a terminal shows ink as light on its dark background.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Draws images side by side in the terminal: one character per pixel across, two pixel rows
/// per line (terminal cells are about twice as tall as wide). `captions` go above each.
pub fn draw_in_terminal(images: &[(&[u8], String)], per_line: usize) -> String {
    let mut text = String::new();
    for group in images.chunks(per_line.max(1)) {
        for (_, caption) in group {
            write!(text, "{caption:<30.28}").ok();
        }
        writeln!(text).ok();
        for row in (0..IMAGE_SIDE).step_by(2) {
            for (pixels, _) in group {
                for col in 0..IMAGE_SIDE {
                    let upper = u16::from(pixels[row * IMAGE_SIDE + col]);
                    let lower = u16::from(pixels[(row + 1) * IMAGE_SIDE + col]);
                    let level = (upper + lower) / 2;
                    text.push(SHADES[usize::from(level) * SHADES.len() / 256]);
                }
                text.push_str("  ");
            }
            writeln!(text).ok();
        }
    }
    text
}

/// The images to show: `indices` if given, else the first `count`.
pub fn chosen(images: &ImageSet, indices: &[usize], count: usize) -> Result<Vec<usize>, String> {
    match indices {
        [] => Ok((0..count.min(images.len())).collect()),
        _ => match indices.iter().find(|&&index| index >= images.len()) {
            Some(index) => Err(format!(
                "image {index} is outside the {} split ({} images)",
                images.split().name(),
                images.len()
            )),
            None => Ok(indices.to_vec()),
        },
    }
}
