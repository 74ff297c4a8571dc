//! The figures of a run folder and of the tools that measure runs.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Canvas, DrawResult, FONT_NAME, PALETTE, draw_legend, legend_line, line_frame, render};
use crate::metrics::EpochMetrics;

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Dashed lines tell the training split from the test split.
    pub dashed: bool,
    /// Index into the palette.
    pub color: usize,
}

/// A horizontal bar chart, one bar per `(label, value)` from the top, each labelled at its end.
pub fn bar_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    bars: &[(String, f64)],
) -> anyhow::Result<()> {
    let count = bars.len().max(1) as f64;
    let high = bars.iter().map(|bar| bar.1).fold(0.0, f64::max).max(1e-9) * 1.6;
    render(path, (760, 110 + 42 * bars.len() as u32), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT_NAME, 18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(10)
            .build_cartesian_2d(0.0..high, 0.0..count)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc(x_label)
            .label_style((FONT_NAME, 13))
            .draw()?;
        for (index, (label, value)) in bars.iter().enumerate() {
            let top = count - index as f64;
            let color = PALETTE[index % PALETTE.len()];
            chart.draw_series([Rectangle::new(
                [(0.0, top - 0.8), (*value, top - 0.2)],
                color.filled(),
            )])?;
            let style = TextStyle::from((FONT_NAME, 14).into_font())
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart.draw_series([Text::new(format!(" {label}"), (*value, top - 0.5), style)])?;
        }
        Ok(())
    })
}

/// A line chart of `series` against the epoch.
pub fn line_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    legend: SeriesLabelPosition,
    series: &[Series],
) -> anyhow::Result<()> {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points.filter(|(_, y)| y.is_finite()) {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-3);
    render(path, (900, 560), |root| {
        let mut chart = line_frame(root, title)
            .build_cartesian_2d(0.0..x_max + 0.5, (y_min - pad)..(y_max + pad))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT_NAME, 14))
            .axis_desc_style((FONT_NAME, 16))
            .draw()?;
        for line in series {
            let style = ShapeStyle::from(PALETTE[line.color % PALETTE.len()]).stroke_width(2);
            let points = line.points.iter().copied().filter(|(_, y)| y.is_finite());
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
            } else {
                chart.draw_series(LineSeries::new(points, style))?
            };
            drawn.label(line.label.clone()).legend(legend_line(style));
        }
        draw_legend(&mut chart, legend)
    })
}

/// The reliability diagram: each confidence bin's accuracy as a bar against the diagonal
/// a perfectly calibrated model would follow, with the expected calibration error.
pub fn reliability_diagram(
    path: &Path,
    title: &str,
    reliability: &crate::calibration::Reliability,
) -> anyhow::Result<()> {
    let caption = format!(
        "{title} (expected calibration error {:.2}%)",
        100.0 * reliability.expected_calibration_error
    );
    render(path, (640, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT_NAME, 16))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("confidence (top probability)")
            .y_desc("accuracy")
            .label_style((FONT_NAME, 13))
            .axis_desc_style((FONT_NAME, 15))
            .draw()?;
        chart
            .draw_series(
                reliability
                    .bins
                    .iter()
                    .filter(|bin| bin.count > 0)
                    .map(|bin| {
                        Rectangle::new(
                            [(bin.lower, 0.0), (bin.upper, bin.accuracy)],
                            PALETTE[0].mix(0.7).filled(),
                        )
                    }),
            )?
            .label("accuracy in the bin")
            .legend(legend_line(PALETTE[0].stroke_width(8)));
        let diagonal = ShapeStyle::from(BLACK).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                6,
                4,
                diagonal,
            ))?
            .label("perfect calibration")
            .legend(legend_line(diagonal));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// `loss.png` and `accuracy.png` for runs: one run's train and test curves, or several runs
/// overlaid. `runs` pairs a label (config and backend) with its epochs.
pub fn learning_curves(out_dir: &Path, runs: &[(String, Vec<EpochMetrics>)]) -> anyhow::Result<()> {
    // One run: train, test (and validation) in their colours. Several: a colour per run,
    // train dashed.
    let single = runs.len() == 1;
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    if let [(_, rows)] = runs
        && rows.iter().any(|row| row.valid_acc.is_some())
    {
        let series = |value: fn(&EpochMetrics) -> Option<f64>| Series {
            label: "validation".to_string(),
            points: rows
                .iter()
                .filter_map(|row| Some((row.epoch as f64, value(row)?)))
                .collect(),
            dashed: false,
            color: 2,
        };
        loss.push(series(|row| row.valid_loss));
        accuracy.push(series(|row| row.valid_acc));
    }
    for (run, (label, rows)) in runs.iter().enumerate() {
        for (split, dashed) in [("train", true), ("test", false)] {
            let series = |value: fn(&EpochMetrics) -> f64| Series {
                label: if single {
                    split.to_string()
                } else {
                    format!("{label} {split}")
                },
                points: rows
                    .iter()
                    .map(|row| (row.epoch as f64, value(row)))
                    .collect(),
                dashed,
                color: if single { usize::from(!dashed) } else { run },
            };
            if dashed {
                loss.push(series(|row| row.train_loss));
                accuracy.push(series(|row| row.train_acc));
            } else {
                loss.push(series(|row| row.test_loss));
                accuracy.push(series(|row| row.test_acc));
            }
        }
    }
    let subject = match runs {
        [(label, _)] => label.clone(),
        _ => runs
            .iter()
            .map(|(label, _)| label.as_str())
            .collect::<Vec<_>>()
            .join(" vs "),
    };
    line_chart(
        &out_dir.join("loss.png"),
        &format!("Cross-entropy loss per epoch: {subject}"),
        "loss",
        SeriesLabelPosition::UpperRight,
        &loss,
    )?;
    line_chart(
        &out_dir.join("accuracy.png"),
        &format!("Accuracy per epoch: {subject}"),
        "accuracy (%)",
        SeriesLabelPosition::LowerRight,
        &accuracy,
    )
}

/// Blue for negative, white for zero, red for positive, saturating at `scale`.
fn diverging(value: f32, scale: f32) -> RGBColor {
    let t = (value / scale).clamp(-1.0, 1.0);
    let fade = |full: u8, t: f32| (255.0 - (255.0 - f32::from(full)) * t.abs()) as u8;
    if t >= 0.0 {
        RGBColor(fade(178, t), fade(24, t), fade(43, t))
    } else {
        RGBColor(fade(33, t), fade(102, t), fade(172, t))
    }
}

/// The weight of each pixel for each class as a 28x28 heat map, one per class in a 2x5 grid:
/// red pixels vote for the class, blue ones against it. `weights` is `[784, classes]`,
/// input-major (Burn's `Linear` layout).
pub fn weight_templates(path: &Path, weights: &[f32], class_names: &[&str]) -> anyhow::Result<()> {
    let classes = class_names.len();
    let scale = weights.iter().fold(0.0f32, |max, w| max.max(w.abs())) * 0.8;
    render(path, (1000, 470), |root| {
        let (title, grid) = root.split_vertically(50);
        title.titled(
            "What the model learned: weights per pixel (red for the class, blue against)",
            (FONT_NAME, 20),
        )?;
        for (class, cell) in grid.split_evenly((2, 5)).iter().enumerate().take(classes) {
            let cell = cell.titled(class_names[class], (FONT_NAME, 16))?;
            let pixel = image_pixels(&cell, 28);
            for (index, chunk) in weights.chunks(classes).enumerate() {
                let (row, col) = (index as i32 / 28, index as i32 % 28);
                draw_pixel(&cell, pixel, row, col, diverging(chunk[class], scale))?;
            }
        }
        Ok(())
    })
}

/// Side of one image pixel in `area`, for an image `side` pixels wide, centred.
fn image_pixels(area: &Canvas, side: i32) -> (i32, i32, i32) {
    let (width, height) = area.dim_in_pixel();
    let size = (width.min(height) as i32 / side).max(1);
    let left = (width as i32 - size * side) / 2;
    let top = (height as i32 - size * side) / 2;
    (size, left, top)
}

fn draw_pixel(
    area: &Canvas,
    (size, left, top): (i32, i32, i32),
    row: i32,
    col: i32,
    color: RGBColor,
) -> DrawResult {
    let x = left + col * size;
    let y = top + row * size;
    area.draw(&Rectangle::new(
        [(x, y), (x + size, y + size)],
        color.filled(),
    ))?;
    Ok(())
}

/// Grayscale images (0 = background, drawn white) in a grid, each titled by its caption.
pub fn image_grid(path: &Path, title: &str, images: &[(&[u8], String)]) -> anyhow::Result<()> {
    let columns = images.len().clamp(1, 8);
    let rows = images.len().div_ceil(columns).max(1);
    let size = ((columns as u32 * 120).max(360), rows as u32 * 140 + 50);
    render(path, size, |root| {
        let (heading, grid) = root.split_vertically(50);
        heading.titled(title, (FONT_NAME, 20))?;
        for (cell, (pixels, caption)) in grid.split_evenly((rows, columns)).iter().zip(images) {
            let cell = cell.titled(caption, (FONT_NAME, 15))?;
            let pixel = image_pixels(&cell, 28);
            for (index, &value) in pixels.iter().enumerate() {
                let shade = 255 - value;
                let (row, col) = (index as i32 / 28, index as i32 % 28);
                draw_pixel(&cell, pixel, row, col, RGBColor(shade, shade, shade))?;
            }
        }
        Ok(())
    })
}

/// A confusion matrix: rows are true classes, columns predictions, cells shaded by the share of
/// their row and labelled with their count.
pub fn confusion_matrix(
    path: &Path,
    title: &str,
    matrix: &[Vec<usize>],
    class_names: &[&str],
) -> anyhow::Result<()> {
    let classes = matrix.len();
    render(path, (860, 820), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT_NAME, 18))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(110)
            // A segmented 0..n has a segment for each of 0..=n, hence the n - 1.
            .build_cartesian_2d(
                (0..classes - 1).into_segmented(),
                (0..classes - 1).into_segmented(),
            )?;
        // Row 0 (the first class) is drawn at the top.
        let flip = |row: usize| classes - 1 - row;
        let name = |index: usize| class_names.get(index).copied().unwrap_or("").to_string();
        let centre = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(index) => Some(*index),
            _ => None,
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .x_labels(classes)
            .y_labels(classes)
            .x_label_formatter(&|value| centre(value).map(name).unwrap_or_default())
            .y_label_formatter(&|value| {
                centre(value).map(|row| name(flip(row))).unwrap_or_default()
            })
            .label_style((FONT_NAME, 13))
            .axis_desc_style((FONT_NAME, 15))
            .draw()?;
        for (truth, row) in matrix.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (predicted, &count) in row.iter().enumerate() {
                let share = count as f64 / total;
                let shade = (255.0 * (1.0 - share.sqrt())) as u8;
                let y = flip(truth);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(predicted), SegmentValue::Exact(y)),
                        (
                            SegmentValue::Exact(predicted + 1),
                            SegmentValue::Exact(y + 1),
                        ),
                    ],
                    RGBColor(shade, shade, 255).filled(),
                )))?;
                let color = if share > 0.5 { WHITE } else { BLACK };
                let style = (FONT_NAME, 14)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(predicted), SegmentValue::CenterOf(y)),
                    style,
                )))?;
            }
        }
        Ok(())
    })
}
