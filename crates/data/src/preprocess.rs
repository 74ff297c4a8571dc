//! Any picture of a digit turned into an MNIST image, the way MNIST itself was made: light
//! strokes on a black background, the digit fitted into a 20x20 box, and that box placed in a
//! 28x28 frame so that the centre of mass of the ink is at the centre. Strokes thinner or
//! wider than nearly all of MNIST's are brought into MNIST's range first ([`crate::stroke`]).

use image::{DynamicImage, GrayImage, Luma, imageops};

use crate::{DIGIT_BOX, IMAGE_PIXELS, IMAGE_SIDE, stroke};

/// The 784 pixels (row-major, 0 = background) of `image` as MNIST would have it.
///
/// A 28x28 picture with a dark background is taken as already in MNIST's format and only
/// converted to grayscale, so MNIST's own images come back unchanged.
pub fn mnist_style(image: &DynamicImage) -> [u8; IMAGE_PIXELS] {
    let mut gray = image.to_luma8();
    if border_mean(&gray) > 127.0 {
        imageops::invert(&mut gray);
    }
    let side = IMAGE_SIDE as u32;
    if gray.dimensions() == (side, side) {
        return to_array(&gray);
    }
    stretch_contrast(&mut gray);
    let Some(digit) = cropped_to_ink(&gray) else {
        return [0; IMAGE_PIXELS];
    };
    let Some(digit) = cropped_to_ink(&stroke::normalised(&digit)) else {
        return [0; IMAGE_PIXELS];
    };
    let fitted = stroke::scaled_to(&digit, DIGIT_BOX);
    let (cx, cy) = centre_of_mass(&fitted);
    let place = |centre: f64, extent: u32| {
        let offset = (f64::from(side) / 2.0 - centre).round() as i64;
        offset.clamp(0, i64::from(side - extent))
    };
    let mut frame = GrayImage::new(side, side);
    imageops::overlay(
        &mut frame,
        &fitted,
        place(cx, fitted.width()),
        place(cy, fitted.height()),
    );
    to_array(&frame)
}

fn to_array(image: &GrayImage) -> [u8; IMAGE_PIXELS] {
    image
        .as_raw()
        .as_slice()
        .try_into()
        .expect("a 28x28 grayscale image has 784 pixels")
}

/// Mean brightness of the outermost pixels: the background's.
fn border_mean(image: &GrayImage) -> f64 {
    let (width, height) = image.dimensions();
    let border: Vec<u8> = image
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x + 1 == width || *y + 1 == height)
        .map(|(_, _, Luma([value]))| *value)
        .collect();
    border.iter().map(|&value| f64::from(value)).sum::<f64>() / border.len().max(1) as f64
}

/// Maps the background level to 0 and the brightest ink to 255.
fn stretch_contrast(image: &mut GrayImage) {
    let background = border_mean(image).round() as u8;
    let brightest = image
        .pixels()
        .map(|Luma([value])| *value)
        .max()
        .unwrap_or(0);
    if brightest <= background {
        return;
    }
    let range = f64::from(brightest - background);
    for Luma([value]) in image.pixels_mut() {
        *value = (f64::from(value.saturating_sub(background)) * 255.0 / range).round() as u8;
    }
}

/// The part of `image` inside [`ink_box`], if there is ink.
fn cropped_to_ink(image: &GrayImage) -> Option<GrayImage> {
    let (left, top, width, height) = ink_box(image)?;
    Some(imageops::crop_imm(image, left, top, width, height).to_image())
}

/// The bounding box (left, top, width, height) of the ink: pixels above a fifth of full
/// brightness, which ignores faint noise and compression artefacts.
fn ink_box(image: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let inked = image
        .enumerate_pixels()
        .filter(|(_, _, Luma([value]))| *value > 51);
    let (mut left, mut top, mut right, mut bottom) = (u32::MAX, u32::MAX, 0, 0);
    let mut any = false;
    for (x, y, _) in inked {
        any = true;
        left = left.min(x);
        top = top.min(y);
        right = right.max(x);
        bottom = bottom.max(y);
    }
    any.then(|| (left, top, right - left + 1, bottom - top + 1))
}

/// Intensity-weighted mean position (x, y) of an image's ink.
fn centre_of_mass(image: &GrayImage) -> (f64, f64) {
    let (mut total, mut sum_x, mut sum_y) = (0.0, 0.0, 0.0);
    for (x, y, Luma([value])) in image.enumerate_pixels() {
        let weight = f64::from(*value);
        total += weight;
        sum_x += weight * (f64::from(x) + 0.5);
        sum_y += weight * (f64::from(y) + 0.5);
    }
    if total > 0.0 {
        (sum_x / total, sum_y / total)
    } else {
        (
            f64::from(image.width()) / 2.0,
            f64::from(image.height()) / 2.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};

    use super::*;
    use crate::{DatasetKind, ImageSet, Split};

    fn digit(index: usize) -> GrayImage {
        let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
        GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap()
    }

    #[test]
    fn an_mnist_image_comes_back_unchanged() {
        let original = digit(0);
        let converted = mnist_style(&DynamicImage::ImageLuma8(original.clone()));
        assert_eq!(converted.as_slice(), original.as_raw().as_slice());
    }

    /// A solid bar in a picture of another colour has a known answer, worked out by hand: a
    /// 60x6 red bar on yellow (dark on light, so inverted; as wide a stroke as MNIST's, so
    /// kept so) is scaled by a third into a 20x2 box whose centre of mass, (10, 1), goes to
    /// the frame's centre (14, 14): columns 4..24 and rows 13..15 lit, the rest black.
    /// Upright (6x60) it becomes 2x20: columns 13..15, rows 4..24.
    #[test]
    fn a_solid_bar_lands_where_mnist_would_put_it() {
        let cases = [((60, 6), (4..24, 13..15)), ((6, 60), (13..15, 4..24))];
        for ((width, height), (columns, rows)) in cases {
            let mut picture = RgbImage::from_pixel(120, 90, Rgb([250, 240, 120]));
            for (x, y) in (0..width).flat_map(|x| (0..height).map(move |y| (x, y))) {
                picture.put_pixel(30 + x, 15 + y, Rgb([200, 20, 20]));
            }
            let converted = mnist_style(&DynamicImage::ImageRgb8(picture));
            for (index, &value) in converted.iter().enumerate() {
                let (row, column) = (index / IMAGE_SIDE, index % IMAGE_SIDE);
                let lit = columns.contains(&column) && rows.contains(&row);
                assert!(
                    if lit { value >= 250 } else { value == 0 },
                    "{width}x{height} bar: pixel (row {row}, column {column}) is {value}"
                );
            }
        }
    }

    #[test]
    fn the_stroke_range_is_mnists() {
        let train = ImageSet::load(DatasetKind::Mnist, Split::Train).unwrap();
        let mut widths: Vec<f64> = (0..5000)
            .map(|index| {
                let image = GrayImage::from_raw(28, 28, train.image(index).to_vec()).unwrap();
                let (_, _, width, height) = ink_box(&image).unwrap();
                stroke::stroke_width(&image) * f64::from(DIGIT_BOX) / f64::from(width.max(height))
            })
            .collect();
        widths.sort_by(f64::total_cmp);
        let (low, high) = (widths[widths.len() / 10], widths[widths.len() * 9 / 10]);
        let (thinnest, widest) = stroke::MNIST_STROKE_RANGE;
        assert!((low - thinnest).abs() < 0.01, "10th percentile {low}");
        assert!((high - widest).abs() < 0.01, "90th percentile {high}");
    }

    #[test]
    fn a_blank_picture_is_a_blank_digit() {
        let blank = DynamicImage::ImageLuma8(GrayImage::from_pixel(50, 50, Luma([255])));
        assert_eq!(mnist_style(&blank), [0; IMAGE_PIXELS]);
    }
}
