//! `mnist-burn lr-find`: the learning-rate range test of a config.

use std::path::PathBuf;

use mnist_train::{BackendKind, ExperimentConfig, Range};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment config whose model, data and optimiser are tested.
    config: PathBuf,
    /// Override any config key, e.g. `--set data.batch_size=128` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// The first learning rate.
    #[arg(long, default_value_t = 1e-6)]
    start: f64,
    /// The last learning rate.
    #[arg(long, default_value_t = 10.0)]
    end: f64,
    /// Optimiser steps (batches) from `start` to `end`.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Write `lr_find.png` and `lr_find.json` into this folder (nothing is written without it).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let config = ExperimentConfig::load(&args.config, &args.overrides)?;
    let backend = BackendKind::or_preferred(args.backend)?;
    let range = Range {
        start: args.start,
        end: args.end,
        steps: args.steps,
    };
    let finding = mnist_train::find_learning_rate(&config, backend, range)?;
    mnist_output::write(format_args!("{}", finding.table()));
    say!(
        "\nSteepest fall of the smoothed loss at lr {:.2e} ({} steps on {backend}); to use it:\n  \
         --set optimizer.lr={}",
        finding.suggested,
        finding.points.len(),
        mnist_runs::readable(finding.suggested)
    );
    if let Some(out) = args.out {
        mnist_runs::create_folder(&out)?;
        let title = format!("Learning-rate range test: {}", args.config.display());
        finding.chart(&out.join("lr_find.png"), &title)?;
        let json = serde_json::to_string_pretty(&finding).expect("a finding serialises");
        mnist_runs::write_file(&out.join("lr_find.json"), json.as_bytes())?;
        say!("Wrote lr_find.png and lr_find.json in {}", out.display());
    }
    Ok(())
}
