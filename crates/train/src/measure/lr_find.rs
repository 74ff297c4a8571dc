//! The learning-rate range test (Smith 2017; Lightning's and fastai's `lr_find`): one pass of
//! optimiser steps from the config's starting weights with the rate growing exponentially
//! from `start` to `end`, the loss of each step recorded and smoothed, and the rate where the
//! smoothed loss falls fastest suggested. It trains nothing that is kept.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::train::TrainStep;
use mnist_data::{MnistBatcher, Split, permutation};
use mnist_model::LogisticRegression;
use plotters::prelude::*;
use serde::Serialize;

use crate::backend::BackendKind;
use mnist_config::ExperimentConfig;
use mnist_runs::{FONT_NAME, PALETTE, draw_legend, legend_line, line_frame, render};

/// fastai's smoothing of the recorded loss: an exponential moving average, bias-corrected.
const SMOOTHING: f64 = 0.98;
/// The test stops once the smoothed loss is this many times its lowest: the rate diverged.
const DIVERGED: f64 = 4.0;

/// The range and length of the test.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub start: f64,
    pub end: f64,
    pub steps: usize,
}

/// One step of the test.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub lr: f64,
    pub loss: f64,
    pub smoothed: f64,
}

/// What the test found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub points: Vec<Point>,
    /// The rate where the smoothed loss falls fastest against log(rate).
    pub suggested: f64,
}

/// Runs the range test of `config` on `backend`.
pub fn find_learning_rate(
    config: &ExperimentConfig,
    backend: BackendKind,
    range: Range,
) -> anyhow::Result<Finding> {
    anyhow::ensure!(
        range.start > 0.0 && range.end > range.start,
        "the rates must grow from above 0: {} to {}",
        range.start,
        range.end
    );
    anyhow::ensure!(
        range.steps >= 10,
        "lr-find needs at least 10 steps, got {}",
        range.steps
    );
    let batch_size = config.data.batch_size;
    let train = config.data.images(Split::Train)?;
    let order = permutation(config.seed, 1, train.len());
    anyhow::ensure!(
        train.len() >= batch_size,
        "the training split has {} images, fewer than one batch of {batch_size}",
        train.len()
    );
    let batcher = MnistBatcher::new(Arc::new(train), config.data.scaling());
    let device = backend.usable_device()?.autodiff();
    let mut model: LogisticRegression = config
        .model
        .init(&device)
        .load_record(config.model.initial_weights(config.seed));
    let mut optimizer = config.optimizer.optimizer();
    let growth = (range.end / range.start).ln() / (range.steps - 1) as f64;
    let (mut average, mut lowest) = (0.0, f64::INFINITY);
    let mut points = Vec::with_capacity(range.steps);
    for step in 0..range.steps {
        let lr = range.start * (growth * step as f64).exp();
        let first = (step * batch_size) % (order.len() - order.len() % batch_size);
        let indices = order[first..first + batch_size].to_vec();
        let output = TrainStep::step(&model, batcher.batch(indices, &device));
        let loss = f64::from(output.item.into_first().loss.into_scalar::<f32>());
        average = SMOOTHING * average + (1.0 - SMOOTHING) * loss;
        let smoothed = average / (1.0 - SMOOTHING.powi(step as i32 + 1));
        if !smoothed.is_finite() || smoothed > DIVERGED * lowest {
            break;
        }
        lowest = lowest.min(smoothed);
        points.push(Point { lr, loss, smoothed });
        model = optimizer.step(lr, model, output.grads);
    }
    let suggested = steepest(&points).ok_or_else(|| {
        anyhow::anyhow!(
            "the loss diverged within the first steps: start lower than {}",
            range.start
        )
    })?;
    Ok(Finding { points, suggested })
}

/// The rate of the steepest fall of the smoothed loss against log(rate), skipping the first
/// tenth of the steps, where the average has not settled.
fn steepest(points: &[Point]) -> Option<f64> {
    let skip = (points.len() / 10).max(1);
    points
        .windows(2)
        .skip(skip)
        .map(|pair| {
            let slope = (pair[1].smoothed - pair[0].smoothed) / (pair[1].lr / pair[0].lr).ln();
            (slope, pair[0].lr)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, lr)| lr)
}

impl Finding {
    /// Every tenth point and the suggestion, for the terminal.
    pub fn table(&self) -> String {
        let every = (self.points.len() / 12).max(1);
        let mut text = String::from("  learning rate    loss   smoothed\n");
        for point in self.points.iter().step_by(every) {
            text.push_str(&format!(
                "  {:>13.3e}  {:>6.4}  {:>8.4}\n",
                point.lr, point.loss, point.smoothed
            ));
        }
        text
    }

    /// Loss against rate on a log axis, the suggestion marked.
    pub fn chart(&self, path: &Path, title: &str) -> anyhow::Result<()> {
        // The smoothed curve sets the scale: from its lowest to a little above where it began.
        let low = self
            .points
            .iter()
            .map(|p| p.smoothed)
            .fold(f64::INFINITY, f64::min)
            * 0.9;
        let high = self
            .points
            .first()
            .map_or(low + 1.0, |p| p.smoothed * 1.15)
            .max(low + 1e-3);
        let first = self.points.first().map_or(1e-6, |p| p.lr);
        let last = self.points.last().map_or(10.0, |p| p.lr);
        render(path, (900, 560), |root| {
            let mut chart =
                line_frame(root, title).build_cartesian_2d((first..last).log_scale(), low..high)?;
            chart
                .configure_mesh()
                .x_desc("learning rate (log scale)")
                .y_desc("training loss")
                .x_label_formatter(&|x| format!("{x:.0e}"))
                .label_style((FONT_NAME, 14))
                .axis_desc_style((FONT_NAME, 16))
                .draw()?;
            let raw = ShapeStyle::from(PALETTE[0].mix(0.35)).stroke_width(1);
            let smooth = ShapeStyle::from(PALETTE[0]).stroke_width(2);
            let clip = |y: f64| y.clamp(low, high);
            chart
                .draw_series(LineSeries::new(
                    self.points.iter().map(|p| (p.lr, clip(p.loss))),
                    raw,
                ))?
                .label("loss per step")
                .legend(legend_line(raw));
            chart
                .draw_series(LineSeries::new(
                    self.points.iter().map(|p| (p.lr, clip(p.smoothed))),
                    smooth,
                ))?
                .label("smoothed")
                .legend(legend_line(smooth));
            let mark = ShapeStyle::from(PALETTE[1]).stroke_width(2);
            chart
                .draw_series(LineSeries::new(
                    [(self.suggested, low), (self.suggested, high)],
                    mark,
                ))?
                .label(format!("suggested {:.2e}", self.suggested))
                .legend(legend_line(mark));
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggestion_is_where_the_smoothed_loss_falls_fastest() {
        // Flat, then falling fastest around 1e-2, then flat again.
        let points: Vec<Point> = (0..60)
            .map(|i| {
                let lr = 1e-5 * 10f64.powf(i as f64 / 10.0);
                let smoothed = 2.0 - 1.5 / (1.0 + (-(lr.log10() + 2.0) * 3.0).exp());
                Point {
                    lr,
                    loss: smoothed,
                    smoothed,
                }
            })
            .collect();
        let suggested = steepest(&points).unwrap();
        assert!((suggested.log10() + 2.0).abs() < 0.15, "{suggested}");
    }
}
