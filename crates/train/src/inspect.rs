//! A look at the data before training: what the tutorial prints and shows, from the CLI.

use std::fmt::Write as _;

use mnist_data::{DatasetKind, IMAGE_SIDE, ImageSet, NUM_CLASSES};

/// The summary `mnist-burn inspect` prints: sizes, item type and shape, pixel range, labels
/// and class counts.
pub fn summary(train: &ImageSet, test: &ImageSet, shown: &ImageSet, indices: &[usize]) -> String {
    let kind = train.kind();
    let names = kind.class_names();
    let mut text = String::new();
    let source = match kind {
        DatasetKind::Mnist => "Burn's MnistDataset",
        DatasetKind::FashionMnist => "Debian's dataset-fashion-mnist",
    };
    writeln!(text, "Dataset: {} (read with {source})", kind.name()).ok();
    writeln!(text, "  train: {} images", train.len()).ok();
    writeln!(text, "  test:  {} images", test.len()).ok();
    writeln!(
        text,
        "Item type: burn::data::dataset::vision::MnistItem {{ image: [[f32; 28]; 28], label: u8 }}"
    )
    .ok();
    let (low, high) = pixel_range(shown);
    writeln!(
        text,
        "  image: {IMAGE_SIDE}x{IMAGE_SIDE} grayscale, pixels {low}..{high} raw; as a tensor \
         [1, 28, 28] scaled to 0..1 (like ToTensor), flattened by the batcher to [784]"
    )
    .ok();
    let labels: Vec<String> = indices
        .iter()
        .map(|&index| names[usize::from(shown.label(index))].to_string())
        .collect();
    writeln!(
        text,
        "Labels of {} images {:?}: {}",
        shown.split().name(),
        indices,
        labels.join(" ")
    )
    .ok();
    for split in [train, test] {
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
                "--index {index} is outside the {} split ({} images)",
                images.split().name(),
                images.len()
            )),
            None => Ok(indices.to_vec()),
        },
    }
}
