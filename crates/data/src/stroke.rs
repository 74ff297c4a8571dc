//! Stroke width brought into MNIST's range before a picture is shrunk to MNIST's 20x20 box.
//!
//! A pen line on a page, a marker on a whiteboard and a felt tip on a form end up, once the
//! digit is shrunk into the box, as strokes a fraction of a pixel wide (faint) or half the box
//! wide (a blob); MNIST's strokes are about two pixels of the box. A linear model reads ink by
//! where it is, so a stroke of the wrong width moves ink out of the places it learned. Strokes
//! already as wide as most of MNIST's are left as they are, so MNIST's own digits, drawn on a
//! page, read as before.

use image::{GrayImage, Luma, imageops};

use crate::DIGIT_BOX;

/// The digit is worked on at four times MNIST's box, where one step of thickening or thinning
/// is half a pixel of the box.
const WORK_SCALE: u32 = 4;
const WORK_BOX: u32 = WORK_SCALE * DIGIT_BOX;

/// The 10th and 90th percentiles of the stroke widths of MNIST's training digits, in pixels of
/// the 20x20 box, as [`stroke_width`] measures them (a test measures them again).
pub const MNIST_STROKE_RANGE: (f64, f64) = (1.43, 2.70);

/// Room around the digit, so a thickened stroke is not cut off at the edge.
const MARGIN: u32 = 12;

/// Fits `digit` (ink bright on black, cropped to its ink) into the work box and thickens or
/// thins its strokes into [`MNIST_STROKE_RANGE`]; the result has a margin around the ink.
pub fn normalised(digit: &GrayImage) -> GrayImage {
    into_range(in_work_box(digit))
}

/// `digit` scaled so that its longer side fills the work box, with a margin of black.
fn in_work_box(digit: &GrayImage) -> GrayImage {
    let fitted = scaled_to(digit, WORK_BOX);
    let mut work = GrayImage::new(fitted.width() + 2 * MARGIN, fitted.height() + 2 * MARGIN);
    imageops::overlay(&mut work, &fitted, i64::from(MARGIN), i64::from(MARGIN));
    work
}

/// Thickens or thins the strokes of `work` into MNIST's range, one pixel a side a pass.
fn into_range(mut work: GrayImage) -> GrayImage {
    let width = stroke_width(&work);
    let (thinnest, widest) = MNIST_STROKE_RANGE;
    let scale = f64::from(WORK_SCALE);
    let wanted = width.clamp(thinnest * scale, widest * scale);
    let passes = ((wanted - width) / 2.0).round() as i64;
    for _ in 0..passes.unsigned_abs() {
        work = neighbourhood(&work, if passes > 0 { u8::max } else { u8::min });
    }
    work
}

/// `image` scaled (Lanczos) so that its longer side is `side` pixels.
pub fn scaled_to(image: &GrayImage, side: u32) -> GrayImage {
    let (width, height) = image.dimensions();
    let scale = f64::from(side) / f64::from(width.max(height));
    imageops::resize(
        image,
        ((f64::from(width) * scale).round() as u32).max(1),
        ((f64::from(height) * scale).round() as u32).max(1),
        imageops::FilterType::Lanczos3,
    )
}

/// Mean width of the strokes, in pixels: twice the inked area over the length of the ink's
/// edge, both counted on the pixels above half brightness (a stroke of width w and length L
/// has area wL and an edge of about 2L).
pub fn stroke_width(image: &GrayImage) -> f64 {
    let (width, height) = image.dimensions();
    let inked = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && x < i64::from(width)
            && y < i64::from(height)
            && image.get_pixel(x as u32, y as u32).0[0] > 127
    };
    let (mut area, mut edges) = (0u64, 0u64);
    for y in -1..=i64::from(height) {
        for x in -1..=i64::from(width) {
            let here = inked(x, y);
            area += u64::from(here);
            edges += u64::from(here != inked(x + 1, y)) + u64::from(here != inked(x, y + 1));
        }
    }
    if edges == 0 {
        0.0
    } else {
        2.0 * area as f64 / edges as f64
    }
}

/// Each pixel replaced by `pick` of its 3x3 neighbourhood (the image's edge repeats outward).
fn neighbourhood(image: &GrayImage, pick: fn(u8, u8) -> u8) -> GrayImage {
    let (width, height) = image.dimensions();
    GrayImage::from_fn(width, height, |x, y| {
        let mut value = image.get_pixel(x, y).0[0];
        for ny in y.saturating_sub(1)..=(y + 1).min(height - 1) {
            for nx in x.saturating_sub(1)..=(x + 1).min(width - 1) {
                value = pick(value, image.get_pixel(nx, ny).0[0]);
            }
        }
        Luma([value])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring (an O) `thickness` pixels wide, its ink touching the picture's four sides.
    fn ring(thickness: u32) -> GrayImage {
        GrayImage::from_fn(101, 101, |x, y| {
            let radius = (f64::from(x) - 50.0).hypot(f64::from(y) - 50.0);
            Luma([if radius <= 50.5 && radius > 50.5 - f64::from(thickness) {
                255
            } else {
                0
            }])
        })
    }

    /// A stroke far longer than it is wide (a pen's line) measures its own width.
    #[test]
    fn a_long_bar_measures_its_own_width() {
        for thickness in [1, 3, 8, 20] {
            let bar = GrayImage::from_fn(thickness + 20, 2020, |x, y| {
                let inside = (10..10 + thickness).contains(&x) && (10..2010).contains(&y);
                Luma([if inside { 255 } else { 0 }])
            });
            let width = stroke_width(&bar);
            let error = (width / f64::from(thickness) - 1.0).abs();
            assert!(error < 0.02, "a {thickness}-px bar measures {width}");
        }
    }

    /// Strokes in the range keep their width; a hairline and a blob come out inside it (to
    /// within the half pixel of the box that one pass moves them).
    #[test]
    fn widths_outside_mnists_range_are_brought_into_it() {
        let (thinnest, widest) = MNIST_STROKE_RANGE;
        let box_width = |image: &GrayImage| stroke_width(image) / f64::from(WORK_SCALE);
        let mut seen = [false; 3];
        for thickness in [1, 2, 4, 8, 12, 16, 24, 32] {
            let before = box_width(&in_work_box(&ring(thickness)));
            let after = box_width(&normalised(&ring(thickness)));
            let case = if before < thinnest {
                0
            } else if before <= widest {
                1
            } else {
                2
            };
            seen[case] = true;
            let fine = match case {
                1 => after == before,
                _ => (thinnest - 0.25..=widest + 0.25).contains(&after),
            };
            assert!(
                fine,
                "a {thickness}-pixel ring: {before:.2} -> {after:.2} pixels of the box"
            );
        }
        assert_eq!(
            seen, [true; 3],
            "the rings cover thin, fine and thick strokes"
        );
    }
}
