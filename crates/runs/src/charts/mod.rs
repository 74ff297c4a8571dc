//! Charts as PNG files: the one place figures are set up (the bundled font, the palette,
//! legends, an in-memory canvas written atomically), and the figures a run folder holds
//! (curves, weight templates, confusion, reliability, image grids) in `figures`.

mod figures;

pub use figures::{
    Series, bar_chart, confusion_matrix, image_grid, learning_curves, line_chart,
    reliability_diagram, weight_templates,
};

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Bundled so figures render the same on machines without system fonts (DejaVu Sans,
/// Bitstream Vera license: `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub const FONT_NAME: &str = "sans-serif";

/// A plotters drawing area over an RGB buffer.
pub type Canvas<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What drawing code returns: plotters' errors, boxed.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Renders a `width` x `height` figure with `draw` and writes it to `path` as PNG.
pub fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Canvas) -> DrawResult,
) -> anyhow::Result<()> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the bundled font is a valid TrueType font"));
    });
    let mut buffer = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|error| anyhow!("{error}"))?;
        draw(&root).map_err(|error| anyhow!("drawing {}: {error}", path.display()))?;
        root.present().map_err(|error| anyhow!("{error}"))?;
    }
    let image = image::RgbImage::from_raw(width, height, buffer).expect("buffer fits the image");
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .context("encoding PNG")?;
    Ok(crate::files::write_file(path, &png)?)
}

pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The frame of a line chart (learning curves, the learning-rate range test, throughput): its
/// title, margins and label areas, alike on every one; the caller sets the axes.
pub fn line_frame<'a, 'b, 'c>(
    root: &'a Canvas<'c>,
    title: &str,
) -> ChartBuilder<'a, 'b, BitMapBackend<'c>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, (FONT_NAME, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72);
    builder
}

/// A legend entry: a short line in the series' style.
pub fn legend_line(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)
}

/// The legend box every chart here draws, at `position`.
pub fn draw_legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .label_font((FONT_NAME, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()?;
    Ok(())
}
