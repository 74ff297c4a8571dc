//! Training-time augmentation (`[augment]`): each training image drawn a little differently
//! every epoch, the way people write: shifted, rotated, scaled, sheared (torchvision's
//! `RandomAffine`), its strokes thicker or thinner, and elastically distorted (Simard et al.,
//! 2003, here with a smooth field interpolated from a coarse grid of random displacements).
//! The draw depends only on (seed, epoch, image), so runs are reproducible, resume exactly,
//! and give the same images on every backend and in the browser.

use serde::{Deserialize, Serialize};

use crate::{IMAGE_PIXELS, IMAGE_SIDE};

/// How much each transformation may change an image; each is drawn uniformly from
/// `-max..=max` per image and epoch. All zero: the images as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Translation, in pixels, horizontally and vertically.
    pub shift: f32,
    /// Rotation, in degrees.
    pub rotate: f32,
    /// Relative change of size (0.1: from 90% to 110%).
    pub scale: f32,
    /// Horizontal shear, in degrees.
    pub shear: f32,
    /// Stroke width change, in pixels (dilated or eroded by up to this much).
    pub thickness: f32,
    /// Elastic distortion: the largest displacement of the smooth field, in pixels.
    pub elastic: f32,
}

/// Control points per side of the elastic field's coarse grid.
const GRID: usize = 4;

impl AugmentConfig {
    /// The largest sensible value of each key, with its name: beyond these a digit leaves
    /// its frame or stops being one.
    const BOUNDS: [(&'static str, f32); 6] = [
        ("shift", 8.0),
        ("rotate", 45.0),
        ("scale", 0.5),
        ("shear", 45.0),
        ("thickness", 2.0),
        ("elastic", 4.0),
    ];

    fn values(&self) -> [f32; 6] {
        [
            self.shift,
            self.rotate,
            self.scale,
            self.shear,
            self.thickness,
            self.elastic,
        ]
    }

    /// The first key outside `0..=bound`, with its bound.
    pub fn out_of_bounds(&self) -> Option<(&'static str, f32)> {
        Self::BOUNDS
            .iter()
            .zip(self.values())
            .find(|((_, bound), value)| !(value.is_finite() && (0.0..=*bound).contains(value)))
            .map(|(&(key, bound), _)| (key, bound))
    }

    /// Whether any transformation is on.
    pub fn is_active(&self) -> bool {
        self.values().iter().any(|&value| value > 0.0)
    }

    /// Image `index` of an epoch, drawn anew from (`seed`, `epoch`, `index`).
    pub fn apply(
        &self,
        pixels: &[u8],
        seed: u64,
        epoch: usize,
        index: usize,
    ) -> [u8; IMAGE_PIXELS] {
        let mut random = Random::new(seed, epoch, index);
        let mut draw = |max: f32| max * (2.0 * random.unit() - 1.0);
        let (dx, dy) = (draw(self.shift), draw(self.shift));
        let angle = draw(self.rotate).to_radians();
        let scale = 1.0 + draw(self.scale);
        let shear = draw(self.shear).to_radians().tan();
        let thickness = draw(self.thickness);
        let field: Vec<f32> = (0..2 * GRID * GRID).map(|_| draw(self.elastic)).collect();
        let warped = self.warp(pixels, [dx, dy, angle, scale, shear], &field);
        restroke(&warped, thickness)
    }

    /// Samples `pixels` where the inverse of the affine map (about the centre) and the
    /// elastic field send each output pixel; bilinear, black outside the frame.
    fn warp(
        &self,
        pixels: &[u8],
        [dx, dy, angle, scale, shear]: [f32; 5],
        field: &[f32],
    ) -> [f32; IMAGE_PIXELS] {
        let centre = (IMAGE_SIDE as f32 - 1.0) / 2.0;
        let (sin, cos) = angle.sin_cos();
        let mut out = [0.0; IMAGE_PIXELS];
        for row in 0..IMAGE_SIDE {
            for col in 0..IMAGE_SIDE {
                let (ex, ey) = elastic_at(field, row, col);
                // Output position relative to the centre, then undone step by step:
                // translation, rotation, shear and scale.
                let x = col as f32 - centre - dx + ex;
                let y = row as f32 - centre - dy + ey;
                let (x, y) = (cos * x + sin * y, -sin * x + cos * y);
                let x = x - shear * y;
                let (x, y) = (x / scale + centre, y / scale + centre);
                out[row * IMAGE_SIDE + col] = bilinear(pixels, x, y);
            }
        }
        out
    }
}

/// The elastic field's displacement at a pixel: bilinear between the grid's control points.
fn elastic_at(field: &[f32], row: usize, col: usize) -> (f32, f32) {
    let cell = (IMAGE_SIDE - 1) as f32 / (GRID - 1) as f32;
    let (gx, gy) = (col as f32 / cell, row as f32 / cell);
    let (x0, y0) = ((gx as usize).min(GRID - 2), (gy as usize).min(GRID - 2));
    let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
    let at = |component: usize, x: usize, y: usize| field[component * GRID * GRID + y * GRID + x];
    let blend = |component| {
        let top = at(component, x0, y0) * (1.0 - fx) + at(component, x0 + 1, y0) * fx;
        let bottom = at(component, x0, y0 + 1) * (1.0 - fx) + at(component, x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    (blend(0), blend(1))
}

fn bilinear(pixels: &[u8], x: f32, y: f32) -> f32 {
    let side = IMAGE_SIDE as isize;
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |col: isize, row: isize| {
        if (0..side).contains(&col) && (0..side).contains(&row) {
            f32::from(pixels[(row * side + col) as usize])
        } else {
            0.0
        }
    };
    let (c, r) = (x0 as isize, y0 as isize);
    let top = at(c, r) * (1.0 - fx) + at(c + 1, r) * fx;
    let bottom = at(c, r + 1) * (1.0 - fx) + at(c + 1, r + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Strokes made thicker (`change` > 0: towards the 3x3 maximum, a dilation) or thinner
/// (< 0: towards the 3x3 minimum, an erosion), by `|change|` pixels; rounded back to bytes.
fn restroke(image: &[f32; IMAGE_PIXELS], change: f32) -> [u8; IMAGE_PIXELS] {
    let mut out = [0u8; IMAGE_PIXELS];
    let mut current = *image;
    let mut left = change.abs();
    while left > 0.0 {
        let amount = left.min(1.0);
        let morphed = neighbourhood(&current, change > 0.0);
        for (value, target) in current.iter_mut().zip(morphed) {
            *value += amount * (target - *value);
        }
        left -= amount;
    }
    for (pixel, value) in out.iter_mut().zip(current) {
        *pixel = value.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// The 3x3 maximum (or minimum) of each pixel, the frame counting as black.
fn neighbourhood(image: &[f32; IMAGE_PIXELS], maximum: bool) -> [f32; IMAGE_PIXELS] {
    let side = IMAGE_SIDE as isize;
    let mut out = [0.0; IMAGE_PIXELS];
    for row in 0..side {
        for col in 0..side {
            let mut best = if maximum { 0.0f32 } else { 255.0f32 };
            for (r, c) in (-1..=1).flat_map(|dr| (-1..=1).map(move |dc| (row + dr, col + dc))) {
                let inside = (0..side).contains(&r) && (0..side).contains(&c);
                let value = if inside {
                    image[(r * side + c) as usize]
                } else {
                    0.0
                };
                best = if maximum {
                    best.max(value)
                } else {
                    best.min(value)
                };
            }
            out[(row * side + col) as usize] = best;
        }
    }
    out
}

/// SplitMix64 from (seed, epoch, image): the same numbers on every platform and version.
struct Random(u64);

impl Random {
    fn new(seed: u64, epoch: usize, index: usize) -> Self {
        Self(
            seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407)
                ^ (index as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25),
        )
    }

    /// Uniform in `0..1`.
    fn unit(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bar three pixels wide down the middle of the frame.
    fn bar() -> [u8; IMAGE_PIXELS] {
        std::array::from_fn(|i| {
            if (13..16).contains(&(i % IMAGE_SIDE)) && (4..24).contains(&(i / IMAGE_SIDE)) {
                255
            } else {
                0
            }
        })
    }

    fn ink(image: &[u8]) -> u32 {
        image.iter().map(|&p| u32::from(p)).sum()
    }

    #[test]
    fn nothing_to_do_gives_the_image_back() {
        let off = AugmentConfig::default();
        assert!(!off.is_active());
        assert_eq!(off.apply(&bar(), 1, 1, 0), bar());
    }

    #[test]
    fn a_shift_moves_the_ink_by_at_most_its_bound() {
        let shift = AugmentConfig {
            shift: 3.0,
            ..Default::default()
        };
        for index in 0..50 {
            let moved = shift.apply(&bar(), 7, 1, index);
            let columns: Vec<usize> = (0..IMAGE_PIXELS)
                .filter(|&i| moved[i] > 127)
                .map(|i| i % IMAGE_SIDE)
                .collect();
            let mean = columns.iter().sum::<usize>() as f32 / columns.len() as f32;
            // At most the shift, and half a pixel for where the threshold cuts the edges.
            assert!(
                (mean - 14.0).abs() <= 3.5,
                "image {index}: centre column {mean}"
            );
        }
    }

    #[test]
    fn a_quarter_turn_turns_the_bar_on_its_side() {
        // rotate 90 exactly: every draw of ±90 lands on a multiple of a quarter turn only at
        // the bound, so the transform is checked through `warp` with a fixed angle.
        let config = AugmentConfig::default();
        let turned = config.warp(
            &bar(),
            [0.0, 0.0, 90f32.to_radians(), 1.0, 0.0],
            &[0.0; 2 * GRID * GRID],
        );
        let row_14: f32 = (0..IMAGE_SIDE).map(|c| turned[14 * IMAGE_SIDE + c]).sum();
        let col_14: f32 = (0..IMAGE_SIDE).map(|r| turned[r * IMAGE_SIDE + 14]).sum();
        assert!(
            row_14 > 15.0 * 250.0 && col_14 < 4.0 * 256.0,
            "row {row_14}, column {col_14}"
        );
    }

    #[test]
    fn thicker_strokes_have_more_ink_and_thinner_ones_less() {
        let image: [f32; IMAGE_PIXELS] = bar().map(f32::from);
        assert!(ink(&restroke(&image, 1.0)) > ink(&bar()));
        assert!(ink(&restroke(&image, -1.0)) < ink(&bar()));
        assert_eq!(restroke(&image, 0.0), bar());
    }

    #[test]
    fn the_draw_is_fixed_by_seed_epoch_and_image() {
        let all = AugmentConfig {
            shift: 2.0,
            rotate: 10.0,
            scale: 0.1,
            shear: 10.0,
            thickness: 0.5,
            elastic: 1.5,
        };
        let once = all.apply(&bar(), 42, 3, 17);
        assert_eq!(once, all.apply(&bar(), 42, 3, 17));
        assert_ne!(
            once,
            all.apply(&bar(), 42, 4, 17),
            "another epoch, another draw"
        );
        assert_ne!(
            once,
            all.apply(&bar(), 43, 3, 17),
            "another seed, another draw"
        );
        assert!(all.out_of_bounds().is_none());
        let too_much = AugmentConfig {
            rotate: 90.0,
            ..all
        };
        assert_eq!(too_much.out_of_bounds(), Some(("rotate", 45.0)));
    }
}
