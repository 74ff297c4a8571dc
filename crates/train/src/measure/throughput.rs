//! Training throughput against batch size (`mnist-burn throughput`): samples per second of
//! Burn's `Learner` at each batch size on each backend, as a table and a log-log chart, the
//! picture that shows at which batch size a GPU overtakes the CPU.

use std::path::Path;

use plotters::prelude::*;

use crate::backend::BackendKind;
use crate::measure::profile::scratch_run;
use crate::training::TrainingLoop;
use mnist_config::ExperimentConfig;
use mnist_runs::{FONT_NAME, PALETTE, draw_legend, legend_line, line_frame, render};

/// The batch sizes measured unless told otherwise.
pub const BATCH_SIZES: [usize; 5] = [32, 128, 512, 2048, 8192];

/// One measurement: a backend at a batch size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThroughputPoint {
    pub backend: &'static str,
    pub batch_size: usize,
    pub samples_per_second: f64,
}

/// Trains `images` training images twice at `batch_size` on `backend` (the first epoch pays
/// for kernel compilation and autotuning at the batch's shapes) and times the second.
pub fn measure_throughput(
    config_path: &Path,
    overrides: &[String],
    backend: BackendKind,
    batch_size: usize,
    images: usize,
) -> anyhow::Result<ThroughputPoint> {
    let mut overrides = overrides.to_vec();
    overrides.extend([
        "epochs=2".to_string(),
        format!("data.batch_size={batch_size}"),
        format!("data.train_limit={images}"),
        // The test pass is not what is measured: a small one, in one batch.
        "data.test_limit=1000".to_string(),
        "data.test_batch_size=1000".to_string(),
    ]);
    let config = ExperimentConfig::load(config_path, &overrides)?;
    let epochs = scratch_run(&config, config_path, backend, TrainingLoop::Batched)?;
    let timed = epochs.last().expect("scratch_run trains an epoch");
    Ok(ThroughputPoint {
        backend: backend.name(),
        batch_size,
        samples_per_second: images as f64 / timed.train_seconds.max(1e-9),
    })
}

/// Samples per second against batch size, both on log scales, one line per backend.
pub fn throughput_chart(
    path: &Path,
    title: &str,
    points: &[ThroughputPoint],
) -> anyhow::Result<()> {
    let mut backends: Vec<&str> = points.iter().map(|point| point.backend).collect();
    backends.dedup();
    let rates = points.iter().map(|point| point.samples_per_second);
    let low = rates.clone().fold(f64::INFINITY, f64::min).max(1.0);
    let high = rates.fold(1.0, f64::max);
    let batch_low = points.iter().map(|p| p.batch_size).min().unwrap_or(1) as f64;
    let batch_high = points.iter().map(|p| p.batch_size).max().unwrap_or(2) as f64;
    render(path, (900, 560), |root| {
        let mut chart = line_frame(root, title).build_cartesian_2d(
            (batch_low / 1.5..batch_high * 1.5).log_scale(),
            (low / 2.0..high * 2.0).log_scale(),
        )?;
        chart
            .configure_mesh()
            .x_desc("batch size")
            .y_desc("training samples per second")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT_NAME, 14))
            .axis_desc_style((FONT_NAME, 16))
            .draw()?;
        for (index, backend) in backends.iter().enumerate() {
            let style = ShapeStyle::from(PALETTE[index % PALETTE.len()]).stroke_width(2);
            let line: Vec<(f64, f64)> = points
                .iter()
                .filter(|point| point.backend == *backend)
                .map(|point| (point.batch_size as f64, point.samples_per_second))
                .collect();
            chart.draw_series(line.iter().map(|&xy| Circle::new(xy, 4, style.filled())))?;
            chart
                .draw_series(LineSeries::new(line, style))?
                .label(*backend)
                .legend(legend_line(style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}
