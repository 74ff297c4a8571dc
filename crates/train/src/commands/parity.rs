//! `mnist-burn parity`: other backends against a reference, step by step.

use std::path::PathBuf;

use crate::backend::BackendKind;
use crate::config::ExperimentConfig;
use crate::parity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config whose model, data scaling and optimiser are compared.
    #[arg(long, short, default_value = "configs/default.toml")]
    config: PathBuf,
    /// Backends to compare (repeatable; default: every compiled one but the reference).
    #[arg(long = "backend", short)]
    backends: Vec<BackendKind>,
    /// The backend the others are compared with.
    #[arg(long, default_value = "ndarray")]
    reference: BackendKind,
    /// Optimiser steps (batches) to compare.
    #[arg(long, default_value_t = 20)]
    steps: usize,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &[])?;
    let backends = match args.backends.is_empty() {
        false => args.backends,
        true => BackendKind::compiled()
            .into_iter()
            .filter(|&backend| backend != args.reference)
            .collect(),
    };
    anyhow::ensure!(
        !backends.is_empty(),
        "nothing to compare with {}: build with more backend features",
        args.reference
    );
    let reports = parity::compare(&config, args.reference, &backends, args.steps)?;
    say!(
        "Parity with {} over {} steps of {} (tolerance {:e}):",
        args.reference,
        args.steps,
        args.config.display(),
        parity::TOLERANCE
    );
    for report in &reports {
        say!(
            "{:<9} {:<40} max |loss diff| {:.3e}  max |weight diff| {:.3e}  {}",
            report.backend.name(),
            report.device,
            report.max_loss_diff,
            report.max_weight_diff,
            if report.agrees() { "ok" } else { "DIFFERS" }
        );
    }
    let differing: Vec<_> = reports
        .iter()
        .filter(|report| !report.agrees())
        .map(|report| report.backend.name())
        .collect();
    anyhow::ensure!(
        differing.is_empty(),
        "{} disagree with {} beyond {:e}",
        differing.join(", "),
        args.reference,
        parity::TOLERANCE
    );
    Ok(())
}
