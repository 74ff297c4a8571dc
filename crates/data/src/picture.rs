//! A picture as a person sees it, from the bytes of any file the `image` crate decodes: its
//! orientation applied (EXIF and the other containers' own), its transparency composited the
//! way a viewer shows it, and its size bounded before anything is decoded. `predict`, serve's
//! upload and the browser build all read pictures here, then convert them with
//! [`crate::preprocess::mnist_style`].

use std::io::{BufRead, Read, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, Rgba};

/// The widest and tallest picture decoded: a 48-megapixel phone photo fits; a 30,000 x 30,000
/// one is refused before it is decoded into gigabytes.
pub const MAX_PICTURE_SIDE: u32 = 10_000;
/// The most memory one decoded picture may take.
pub const MAX_PICTURE_BYTES: u64 = 320 * 1024 * 1024;
/// The largest picture file read (some decoders read a whole file into memory first).
pub const MAX_PICTURE_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// A picture that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("cannot open: {0}")]
    Open(#[from] std::io::Error),
    #[error(
        "{width}x{height} pixels is larger than the {MAX_PICTURE_SIDE}x{MAX_PICTURE_SIDE} \
         (or {} MiB decoded) a picture may be", MAX_PICTURE_BYTES / (1024 * 1024)
    )]
    TooLarge { width: u32, height: u32 },
    #[error(
        "a file of more than {} MiB is larger than a picture may be",
        MAX_PICTURE_FILE_BYTES / (1024 * 1024)
    )]
    FileTooLarge,
    #[error("not a picture this program reads (PNG, JPEG, GIF, BMP, WebP, TIFF, ...): {0}")]
    Unreadable(image::ImageError),
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PICTURE_SIDE);
    limits.max_image_height = Some(MAX_PICTURE_SIDE);
    limits.max_alloc = Some(MAX_PICTURE_BYTES);
    limits
}

/// The picture in `bytes` as a person sees it.
pub fn decode_picture(bytes: &[u8]) -> Result<DynamicImage, PictureError> {
    read(std::io::Cursor::new(bytes))
}

/// The picture in the file at `path` as a person sees it.
pub fn read_picture(path: &Path) -> Result<DynamicImage, PictureError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_PICTURE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PICTURE_FILE_BYTES {
        return Err(PictureError::FileTooLarge);
    }
    decode_picture(&bytes)
}

fn read(source: impl BufRead + Seek) -> Result<DynamicImage, PictureError> {
    // The reader's default limits bound what reading the header may allocate; the picture's
    // own size is checked against ours before its pixels are decoded.
    let mut decoder = ImageReader::new(source)
        .with_guessed_format()?
        .into_decoder()
        .map_err(PictureError::Unreadable)?;
    let (width, height) = decoder.dimensions();
    let mut limits = limits();
    let fits = limits.check_dimensions(width, height).is_ok()
        && limits.reserve(decoder.total_bytes()).is_ok()
        && decoder.set_limits(limits).is_ok();
    if !fits {
        return Err(PictureError::TooLarge { width, height });
    }
    // The first frame of an animation; the orientation of a photo stored sideways.
    let orientation = decoder.orientation().map_err(PictureError::Unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(PictureError::Unreadable)?;
    picture.apply_orientation(orientation);
    Ok(as_seen(picture))
}

/// `picture` without transparency, as a viewer shows it: pictures that have none are kept as
/// they are; light strokes drawn on an empty transparent canvas (white ink, less than half
/// the picture opaque) are shown over black; everything else (dark strokes on a transparent
/// canvas, a photo with transparent parts) over white. Either way the ink stays ink.
pub fn as_seen(picture: DynamicImage) -> DynamicImage {
    if !picture.color().has_alpha() {
        return picture;
    }
    let rgba = picture.into_rgba8();
    let alpha = |Rgba([_, _, _, a]): &Rgba<u8>| f64::from(*a) / 255.0;
    let luminance = |Rgba([r, g, b, _]): &Rgba<u8>| {
        (0.2126 * f64::from(*r) + 0.7152 * f64::from(*g) + 0.0722 * f64::from(*b)) / 255.0
    };
    let (mut weight, mut light, mut opaque) = (0.0, 0.0, 0usize);
    for pixel in rgba.pixels() {
        weight += alpha(pixel);
        light += alpha(pixel) * luminance(pixel);
        opaque += usize::from(alpha(pixel) >= 0.5);
    }
    let pixels = rgba.pixels().len().max(1);
    let light_strokes = weight > 0.0 && light / weight > 0.5 && opaque * 2 < pixels;
    let backdrop = if light_strokes { 0.0 } else { 255.0 };
    let seen = RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let pixel = rgba.get_pixel(x, y);
        let a = alpha(pixel);
        let channel = |c: u8| (f64::from(c) * a + backdrop * (1.0 - a)).round() as u8;
        image::Rgb([channel(pixel[0]), channel(pixel[1]), channel(pixel[2])])
    });
    DynamicImage::ImageRgb8(seen)
}

#[cfg(test)]
mod tests {
    use image::{
        GrayImage, ImageEncoder, Luma, LumaA, Rgb, RgbaImage, codecs::png::PngEncoder, imageops,
    };

    use super::*;
    use crate::preprocess::mnist_style;
    use crate::test_support::exif_orientation;
    use crate::{DatasetKind, ImageSet, Split};

    /// MNIST test digit `index` as ink (0..255) on a 168x168 page with a margin.
    fn ink(index: usize) -> GrayImage {
        let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
        let digit = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
        let large = imageops::resize(&digit, 112, 112, imageops::FilterType::Triangle);
        let mut page = GrayImage::new(168, 168);
        imageops::overlay(&mut page, &large, 28, 28);
        page
    }

    /// Dark ink on white, as a scanner gives it.
    fn plain(ink: &GrayImage) -> DynamicImage {
        let mut page = ink.clone();
        imageops::invert(&mut page);
        DynamicImage::ImageLuma8(page)
    }

    fn png(picture: &DynamicImage, exif: Option<Vec<u8>>) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = PngEncoder::new(&mut bytes);
        if let Some(exif) = exif {
            encoder.set_exif_metadata(exif).unwrap();
        }
        picture.write_with_encoder(encoder).unwrap();
        bytes
    }

    #[test]
    fn ink_on_a_transparent_canvas_reads_as_the_same_page_whatever_its_colour() {
        for index in 0..5 {
            let ink = ink(index);
            let expected = mnist_style(&plain(&ink));
            for colour in [0u8, 255] {
                let drawn = RgbaImage::from_fn(168, 168, |x, y| {
                    let Luma([value]) = *ink.get_pixel(x, y);
                    image::Rgba([colour, colour, colour, value])
                });
                let bytes = png(&DynamicImage::ImageRgba8(drawn), None);
                let seen = decode_picture(&bytes).unwrap();
                assert_eq!(mnist_style(&seen), expected, "digit {index}, ink {colour}");
            }
            // Grey and alpha, 16 bits: the same.
            let drawn = image::ImageBuffer::from_fn(168, 168, |x, y| {
                let Luma([value]) = *ink.get_pixel(x, y);
                LumaA([0u16, u16::from(value) * 257])
            });
            let seen = decode_picture(&png(&DynamicImage::ImageLumaA16(drawn), None)).unwrap();
            assert_eq!(
                mnist_style(&seen),
                expected,
                "digit {index}, 16-bit grey+alpha"
            );
        }
    }

    /// A photo with transparent parts is seen over white, as a viewer shows it: a page whose
    /// corners were cut away transparent reads as the whole page.
    #[test]
    fn a_partly_transparent_photo_is_seen_over_white() {
        let page = plain(&ink(0)).into_rgb8();
        let cut = RgbaImage::from_fn(168, 168, |x, y| {
            let Rgb([v, _, _]) = *page.get_pixel(x, y);
            let corner = !(20..148).contains(&x) && !(20..148).contains(&y);
            image::Rgba([v, v, v, if corner { 0 } else { 255 }])
        });
        let seen = decode_picture(&png(&DynamicImage::ImageRgba8(cut), None)).unwrap();
        assert_eq!(
            mnist_style(&seen),
            mnist_style(&DynamicImage::ImageRgb8(page))
        );
    }

    /// Pixels stored sideways with an EXIF orientation come out upright, in PNG and JPEG.
    #[test]
    fn a_picture_stored_sideways_is_turned_upright() {
        let upright = plain(&ink(1));
        // Orientation 6: the stored pixels are to be turned 90 degrees clockwise for display.
        let stored = upright.rotate270();
        let seen = decode_picture(&png(&stored, Some(exif_orientation(6)))).unwrap();
        assert_eq!(seen.to_luma8(), upright.to_luma8());
        let mut jpeg = Vec::new();
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95);
        encoder.set_exif_metadata(exif_orientation(8)).unwrap();
        upright.rotate90().write_with_encoder(encoder).unwrap();
        let seen = decode_picture(&jpeg).unwrap();
        let (ours, theirs) = (mnist_style(&seen), mnist_style(&upright));
        let differing = ours
            .iter()
            .zip(theirs.iter())
            .filter(|(a, b)| a.abs_diff(**b) > 32)
            .count();
        assert!(
            differing < 20,
            "{differing} pixels differ beyond JPEG's noise"
        );
    }

    #[test]
    fn a_picture_larger_than_the_limit_is_refused_before_it_is_decoded() {
        // A BMP header for 30,000 x 30,000 pixels and nothing after it.
        let mut bmp = b"BM".to_vec();
        bmp.extend(54u32.to_le_bytes().iter().chain(&0u32.to_le_bytes()));
        bmp.extend(54u32.to_le_bytes());
        bmp.extend(40u32.to_le_bytes());
        bmp.extend(30_000i32.to_le_bytes());
        bmp.extend(30_000i32.to_le_bytes());
        bmp.extend(1u16.to_le_bytes());
        bmp.extend(24u16.to_le_bytes());
        bmp.extend([0; 24]);
        let length = bmp.len() as u32;
        bmp[2..6].copy_from_slice(&length.to_le_bytes());
        let error = decode_picture(&bmp).unwrap_err();
        assert!(
            matches!(
                error,
                PictureError::TooLarge {
                    width: 30_000,
                    height: 30_000
                }
            ),
            "{error}"
        );
        assert_eq!(error.to_string().lines().count(), 1);
    }

    #[test]
    fn bytes_that_are_no_picture_are_one_line() {
        let error = decode_picture(b"not a picture at all").unwrap_err();
        assert!(matches!(error, PictureError::Unreadable(_)), "{error}");
        assert_eq!(error.to_string().lines().count(), 1);
    }
}
