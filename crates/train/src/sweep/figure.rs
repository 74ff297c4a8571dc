//! `accuracy.png` of a sweep: final test accuracy against each varied key, one panel per key,
//! on a logarithmic axis for keys drawn or gridded over decades.

use std::path::Path;

use plotters::prelude::*;

use super::results::TrialResult;
use super::spec::{SweepPlan, number};
use mnist_runs::ListedStatus;
use mnist_runs::{DrawResult, FONT_NAME, PALETTE, render};

/// Draws one panel per varied key; a key whose values are not numbers (a choice of names)
/// gets one position per value.
pub fn accuracy_against_keys(
    path: &Path,
    plan: &SweepPlan,
    results: &[TrialResult],
) -> anyhow::Result<()> {
    let keys = plan.varied_keys();
    let finished: Vec<&TrialResult> = results
        .iter()
        .filter(|result| result.summary.status == ListedStatus::Finished)
        .collect();
    let accuracies: Vec<f64> = finished
        .iter()
        .filter_map(|result| result.summary.final_test_accuracy)
        .collect();
    let low = accuracies.iter().cloned().fold(f64::INFINITY, f64::min);
    let high = accuracies.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if low.is_finite() {
        (low - 0.5, high + 0.5)
    } else {
        (0.0, 100.0)
    };
    let width = 460 * keys.len().max(1) as u32;
    render(path, (width, 420), |root| {
        let panels = root.split_evenly((1, keys.len().max(1)));
        for (panel, key) in panels.iter().zip(&keys) {
            let mut labels: Vec<String> = Vec::new();
            let points: Vec<(f64, f64)> = finished
                .iter()
                .filter_map(|result| {
                    let value = result.trial.values.get(key)?;
                    let x = number(value).unwrap_or_else(|| {
                        let label = value.to_string();
                        let position = labels.iter().position(|known| *known == label);
                        position.unwrap_or_else(|| {
                            labels.push(label);
                            labels.len() - 1
                        }) as f64
                    });
                    Some((x, result.summary.final_test_accuracy?))
                })
                .collect();
            let log = plan.log_keys.contains(key);
            panel_chart(panel, key, &points, &labels, log, (low, high))?;
        }
        Ok(())
    })
}

fn panel_chart(
    panel: &mnist_runs::Canvas,
    key: &str,
    points: &[(f64, f64)],
    labels: &[String],
    log: bool,
    (low, high): (f64, f64),
) -> DrawResult {
    let x_low = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_high = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (x_low, x_high) = match (x_low.is_finite(), x_low < x_high) {
        (false, _) => (0.0, 1.0),
        (true, true) => (x_low, x_high),
        (true, false) => (x_low - 1.0, x_high + 1.0),
    };
    let mut builder = ChartBuilder::on(panel);
    builder
        .caption(format!("test accuracy vs {key}"), (FONT_NAME, 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56);
    let style = PALETTE[0].filled();
    if log && x_low > 0.0 {
        let mut chart =
            builder.build_cartesian_2d((x_low / 1.5..x_high * 1.5).log_scale(), low..high)?;
        chart
            .configure_mesh()
            .x_desc(format!("{key} (log scale)"))
            .y_desc("test accuracy (%)")
            .x_label_formatter(&|x| short(*x))
            .label_style((FONT_NAME, 13))
            .draw()?;
        chart.draw_series(points.iter().map(|&point| Circle::new(point, 5, style)))?;
        return Ok(());
    }
    let pad = (x_high - x_low) * 0.08;
    let mut chart = builder.build_cartesian_2d(x_low - pad..x_high + pad, low..high)?;
    let format_x = |x: &f64| {
        if labels.is_empty() {
            short(*x)
        } else {
            labels.get(x.round() as usize).cloned().unwrap_or_default()
        }
    };
    chart
        .configure_mesh()
        .x_desc(key)
        .y_desc("test accuracy (%)")
        .x_label_formatter(&format_x)
        .label_style((FONT_NAME, 13))
        .draw()?;
    chart.draw_series(points.iter().map(|&point| Circle::new(point, 5, style)))?;
    Ok(())
}

/// An axis number without float noise: at most four significant digits.
fn short(value: f64) -> String {
    let text = format!("{value:.4e}");
    let parsed: f64 = text.parse().unwrap_or(value);
    let plain = format!("{parsed}");
    if plain.len() > 8 {
        format!("{parsed:.1e}")
    } else {
        plain
    }
}
