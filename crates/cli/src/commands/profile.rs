//! `mnist-burn profile`: where a training step's time goes, as a table, a bar chart and JSON.

use std::path::PathBuf;

use mnist_runs::write_file;
use mnist_train::BackendKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Experiment config whose model, batch size and optimiser are profiled.
    #[arg(long, short, default_value = "configs/seed.toml")]
    config: PathBuf,
    /// Backend to profile; must be compiled in (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// Timed steps (each of the three measurements runs this many).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Untimed steps first (kernel compilation and autotuning on GPU backends).
    #[arg(long, default_value_t = 20)]
    warmup: u64,
    /// Override one config key, e.g. --set data.batch_size=128 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Also write `profile.json` and the chart `profile.png` into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backend = BackendKind::or_preferred(args.backend)?;
    let found = mnist_train::profile(
        &args.config,
        &args.overrides,
        backend,
        args.steps as usize,
        args.warmup as usize,
    )?;
    say!();
    say!(
        "Step profile of {} on {} ({}): {} steps of batch {}, after {} warm-up steps",
        args.config.display(),
        found.backend,
        found.device,
        found.steps,
        found.batch_size,
        args.warmup
    );
    say!("{}", found.table());
    if let Some(out) = &args.out {
        mnist_runs::create_folder(out)?;
        let path = out.join("profile.json");
        write_file(&path, &serde_json::to_vec_pretty(&found.to_json())?)?;
        let title = format!(
            "{} on {}: µs per step, batch {}",
            args.config.display(),
            backend,
            found.batch_size
        );
        let png = out.join("profile.png");
        mnist_runs::bar_chart(&png, &title, "µs per step", &found.bars())?;
        say!("Wrote {} and profile.png", path.display());
    }
    Ok(())
}
