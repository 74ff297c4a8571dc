//! Deskewing (LeCun et al., 1998), the standard moment-based way: each digit is sheared
//! horizontally so that its principal axis is vertical, `alpha = cov(row, col) / var(row)` of
//! its ink, and moved so that its centre of mass sits at the centre of the frame, (14, 14).
//! Output pixel `(r, c)` samples the input at row `r - 14 + mean_row`, column
//! `c + alpha * (r - 14) - 14 + mean_col`, bilinearly between the four nearest pixels (zero
//! outside the frame), rounded to the nearest level. A slant is variation a linear model
//! cannot undo; with it removed the same single layer gains about three points on MNIST.
//!
//! `examples/python/mnist_pixels.py` has the same function in NumPy, pixel for pixel.

use crate::{IMAGE_PIXELS, IMAGE_SIDE};

/// Where the centre of mass goes: the frame's centre, as `scipy.ndimage`-based deskews put it.
const CENTRE: f64 = IMAGE_SIDE as f64 / 2.0;

/// What every exported model's sidecar says this step does, for a reader in another language.
pub const FORMULA: &str = "moments of the ink (pixel values as weights): mean_row, mean_col, \
    alpha = cov(row, col) / var(row) (0 if var(row) = 0); out[r][c] = in[r - 14 + mean_row]\
    [c + alpha * (r - 14) - 14 + mean_col], bilinear between the four nearest pixels, 0 \
    outside the image, rounded as floor(v + 0.5); an image without ink is unchanged";

/// Side of an image with a border of one zero pixel, so that sampling needs no bounds checks.
const PADDED: usize = IMAGE_SIDE + 2;

/// The deskewed copy of one 28x28 image (784 pixels, row-major, 0 = background).
pub fn deskew(image: &[u8]) -> [u8; IMAGE_PIXELS] {
    let mut upright = [0; IMAGE_PIXELS];
    let Some(Shear {
        alpha,
        mean_row,
        mean_col,
    }) = Shear::of(image)
    else {
        upright.copy_from_slice(&image[..IMAGE_PIXELS]);
        return upright;
    };
    let mut padded = [0.0f64; PADDED * PADDED];
    // The first and last inked column of each padded row: most of an MNIST frame is
    // background, and a sample between four background pixels is 0 without arithmetic.
    let mut inked: [Option<(usize, usize)>; PADDED] = [None; PADDED];
    for (row, pixels) in image[..IMAGE_PIXELS].chunks(IMAGE_SIDE).enumerate() {
        let start = (row + 1) * PADDED + 1;
        for (cell, &pixel) in padded[start..start + IMAGE_SIDE].iter_mut().zip(pixels) {
            *cell = f64::from(pixel);
        }
        let first = pixels.iter().position(|&pixel| pixel > 0);
        let last = pixels.iter().rposition(|&pixel| pixel > 0);
        inked[row + 1] = first.zip(last).map(|(first, last)| (first + 1, last + 1));
    }
    // Sample positions from -1 to 27 have both neighbours inside the padded image; any
    // other position has none inside the image.
    let within = |at: f64| (-1.0..=(IMAGE_SIDE - 1) as f64).contains(&at);
    for (row, pixels) in upright.chunks_mut(IMAGE_SIDE).enumerate() {
        let from_centre = row as f64 - CENTRE;
        let source_row = from_centre + mean_row;
        let top = floor(source_row);
        if !within(top) {
            continue;
        }
        let upper_row = (top + 1.0) as usize;
        let Some((first, last)) = span(inked[upper_row], inked[upper_row + 1]) else {
            continue;
        };
        let down = source_row - top;
        let upper = &padded[upper_row * PADDED..];
        let lower = &upper[PADDED..];
        // Columns whose samples can touch ink (padded `first..=last`), one more each side for
        // the rounding of `shift`; every other output pixel of the row stays 0.
        let shift = alpha * from_centre - CENTRE + mean_col;
        let lowest = (first as f64 - 3.0 - shift).max(0.0) as usize;
        let highest = (last as f64 + 1.0 - shift).min((IMAGE_SIDE - 1) as f64);
        if highest < lowest as f64 {
            continue;
        }
        for (col, pixel) in pixels
            .iter_mut()
            .enumerate()
            .take(highest as usize + 1)
            .skip(lowest)
        {
            let source_col = col as f64 + alpha * from_centre - CENTRE + mean_col;
            let left = floor(source_col);
            if !within(left) {
                continue;
            }
            let at = (left + 1.0) as usize;
            let right = source_col - left;
            let value = (1.0 - down) * (1.0 - right) * upper[at]
                + (1.0 - down) * right * upper[at + 1]
                + down * (1.0 - right) * lower[at]
                + down * right * lower[at + 1];
            // `as` truncates, which is the floor of a value that is never negative, and
            // saturates at 255.
            *pixel = (value + 0.5) as u8;
        }
    }
    upright
}

/// The columns inked in either of two rows.
fn span(a: Option<(usize, usize)>, b: Option<(usize, usize)>) -> Option<(usize, usize)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        (one, other) => one.or(other),
    }
}

/// `x.floor()` without the call into libm that the baseline x86-64 target makes of it (a
/// tenth of a deskew's time); exact for every `|x| < 2^63`.
fn floor(x: f64) -> f64 {
    let truncated = x as i64 as f64;
    if truncated > x {
        truncated - 1.0
    } else {
        truncated
    }
}

/// The moments of an image's ink that deskewing uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shear {
    /// Columns moved per row: `cov(row, col) / var(row)` (0 when all ink is in one row).
    pub alpha: f64,
    /// The centre of mass.
    pub mean_row: f64,
    pub mean_col: f64,
}

impl Shear {
    /// The moments of `image`, or `None` when it has no ink.
    ///
    /// The sums are of integers (pixel levels times row and column numbers), so they are
    /// exact in any order: the NumPy twin gets the same bits.
    pub fn of(image: &[u8]) -> Option<Self> {
        let [
            mut total,
            mut rows,
            mut cols,
            mut rows_squared,
            mut rows_cols,
        ] = [0u64; 5];
        for (row, pixels) in image[..IMAGE_PIXELS].chunks(IMAGE_SIDE).enumerate() {
            let row = row as u64;
            let (mut ink, mut ink_cols) = (0u64, 0u64);
            for (col, &pixel) in pixels.iter().enumerate() {
                ink += u64::from(pixel);
                ink_cols += u64::from(pixel) * col as u64;
            }
            total += ink;
            rows += ink * row;
            cols += ink_cols;
            rows_squared += ink * row * row;
            rows_cols += ink_cols * row;
        }
        if total == 0 {
            return None;
        }
        let total = total as f64;
        let mean_row = rows as f64 / total;
        let mean_col = cols as f64 / total;
        let variance = rows_squared as f64 / total - mean_row * mean_row;
        let covariance = rows_cols as f64 / total - mean_row * mean_col;
        Some(Self {
            alpha: if variance > 0.0 {
                covariance / variance
            } else {
                0.0
            },
            mean_row,
            mean_col,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-pixel-wide bar of 19 rows, from (row 5, `top_col`) to (row 23, `top_col + lean
    /// * 18`): its centre of mass is on row 14, the frame's centre.
    fn bar(top_col: f64, lean: f64) -> [u8; IMAGE_PIXELS] {
        let mut image = [0; IMAGE_PIXELS];
        for row in 5..24 {
            let col = (top_col + lean * (row - 5) as f64).round() as usize;
            image[row * IMAGE_SIDE + col] = 255;
        }
        image
    }

    /// The ink-weighted variance of the column, over the whole image.
    fn column_spread(image: &[u8]) -> f64 {
        let ink: Vec<(f64, f64)> = image
            .iter()
            .enumerate()
            .map(|(index, &p)| ((index % IMAGE_SIDE) as f64, f64::from(p)))
            .collect();
        let total: f64 = ink.iter().map(|(_, w)| w).sum();
        let mean = ink.iter().map(|(c, w)| c * w).sum::<f64>() / total;
        ink.iter().map(|(c, w)| (c - mean).powi(2) * w).sum::<f64>() / total
    }

    #[test]
    fn a_slanted_bar_becomes_as_narrow_as_an_upright_one() {
        // 19 rows leaning 8 columns: about 24 degrees from the vertical.
        let slanted = bar(18.0, -8.0 / 18.0);
        let upright = bar(14.0, 0.0);
        assert!(column_spread(&slanted) > 5.0, "{}", column_spread(&slanted));
        let straightened = deskew(&slanted);
        // Resampling blurs a one-pixel bar over at most two columns: spread below 0.25.
        assert!(
            column_spread(&straightened) < 0.25,
            "{}",
            column_spread(&straightened)
        );
        assert_eq!(column_spread(&upright), 0.0);
        let ink = |image: &[u8]| image.iter().map(|&p| u32::from(p)).sum::<u32>();
        let (before, after) = (ink(&slanted), ink(&straightened));
        assert!(before.abs_diff(after) <= 19 * 128, "{before} vs {after}");
    }

    #[test]
    fn an_upright_centred_digit_and_an_empty_image_are_unchanged() {
        let upright = bar(14.0, 0.0);
        let shear = Shear::of(&upright).unwrap();
        assert_eq!(
            (shear.alpha, shear.mean_row, shear.mean_col),
            (0.0, 14.0, 14.0)
        );
        assert_eq!(deskew(&upright), upright);
        let empty = [0; IMAGE_PIXELS];
        assert_eq!(Shear::of(&empty), None);
        assert_eq!(deskew(&empty), empty);
    }

    #[test]
    fn the_ink_is_moved_to_the_centre_of_the_frame() {
        // A horizontal line (no row variance, so no shear) off to the top left.
        let mut line = [0; IMAGE_PIXELS];
        line[3 * IMAGE_SIDE + 2..3 * IMAGE_SIDE + 9].fill(200);
        assert_eq!(Shear::of(&line).unwrap().alpha, 0.0);
        let moved = Shear::of(&deskew(&line)).unwrap();
        assert_eq!((moved.mean_row, moved.mean_col), (14.0, 14.0));
    }

    #[test]
    fn floor_is_the_floor() {
        for x in [
            -1.5,
            -1.0,
            -0.0,
            0.0,
            0.3,
            0.999_999_999_999_999_9,
            1.0,
            27.9999,
            -0.5,
        ] {
            assert_eq!(floor(x), x.floor(), "{x}");
        }
    }

    #[test]
    fn the_shear_leans_the_way_the_digit_does() {
        // Top to the right: columns fall as rows grow, so the covariance is negative.
        let leaning_right = Shear::of(&bar(18.0, -8.0 / 18.0)).unwrap();
        assert!(
            (leaning_right.alpha + 8.0 / 18.0).abs() < 0.05,
            "{leaning_right:?}"
        );
        let leaning_left = Shear::of(&bar(10.0, 8.0 / 18.0)).unwrap();
        assert!(
            (leaning_left.alpha - 8.0 / 18.0).abs() < 0.05,
            "{leaning_left:?}"
        );
        assert_eq!(leaning_left.mean_row, 14.0);
    }
}
