//! `mnist-burn parity`: other backends against a reference, step by step.

use std::path::{Path, PathBuf};

use mnist_runs::write_file;
use mnist_train::{BackendKind, ExperimentConfig, ParityReport, Trajectory};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config whose model, data scaling and optimiser are compared.
    #[arg(long, short, default_value = "configs/default.toml")]
    config: PathBuf,
    /// Backends to compare (repeatable; default: every compiled one but the reference).
    #[arg(long = "backend", short, value_parser = crate::values::backend())]
    backends: Vec<BackendKind>,
    /// The backend the others are compared with.
    #[arg(long, default_value = "ndarray", value_parser = crate::values::backend())]
    reference: BackendKind,
    /// Optimiser steps (batches) to compare.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Largest accepted |difference| of a loss or a parameter from the reference.
    #[arg(long, default_value_t = mnist_train::TOLERANCE, value_parser = non_negative)]
    tolerance: f64,
    /// Also write each backend's losses and final parameters to `DIR/<backend>.json`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value >= 0.0 => Ok(value),
        _ => Err(format!("expected a number >= 0, got `{text}`")),
    }
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &[])?;
    let all: Vec<BackendKind> = std::iter::once(args.reference)
        .chain(compared(&args)?)
        .collect();
    let trajectories = mnist_train::trajectories(&config, &all, args.steps)?;
    if let Some(out) = &args.out {
        write_trajectories(out, &trajectories)?;
    }
    say!(
        "Parity with {} over {} steps of {} (tolerance {:e}):",
        args.reference,
        args.steps,
        args.config.display(),
        args.tolerance
    );
    let (reference, others) = trajectories.split_first().expect("the reference ran");
    let reports: Vec<ParityReport> = others
        .iter()
        .map(|actual| ParityReport::between(reference, actual))
        .collect();
    for report in &reports {
        say!("{}", report.line(args.tolerance));
    }
    let differing: Vec<_> = reports
        .iter()
        .filter(|report| !report.agrees(args.tolerance))
        .map(|report| report.backend)
        .collect();
    anyhow::ensure!(
        differing.is_empty(),
        "{} disagree with {} beyond {:e}",
        differing.join(", "),
        args.reference,
        args.tolerance
    );
    Ok(())
}

/// The backends compared with the reference: those named, or every other compiled one.
fn compared(args: &Args) -> anyhow::Result<Vec<BackendKind>> {
    let backends: Vec<BackendKind> = if args.backends.is_empty() {
        BackendKind::compiled()
            .into_iter()
            .filter(|&backend| backend != args.reference)
            .collect()
    } else {
        args.backends.clone()
    };
    anyhow::ensure!(
        !backends.is_empty(),
        "nothing to compare with {}: build with more backend features",
        args.reference
    );
    Ok(backends)
}

/// Each backend's trajectory as `out/<backend>.json`.
fn write_trajectories(out: &Path, trajectories: &[Trajectory]) -> anyhow::Result<()> {
    mnist_runs::create_folder(out)?;
    for trajectory in trajectories {
        let path = out.join(format!("{}.json", trajectory.backend));
        let json = serde_json::to_vec(trajectory).expect("a trajectory serialises");
        write_file(&path, &json)?;
    }
    Ok(())
}
