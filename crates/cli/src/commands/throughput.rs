//! `mnist-burn throughput`: training samples per second against batch size, per backend.

use std::path::{Path, PathBuf};

use mnist_runs::write_file;
use mnist_train::{BATCH_SIZES, BackendKind, ThroughputPoint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Experiment config whose model and optimiser are trained.
    #[arg(long, short, default_value = "configs/seed.toml")]
    config: PathBuf,
    /// Backends to measure (repeatable; default: every compiled one that has its device here).
    #[arg(long = "backend", short, value_parser = crate::values::backend())]
    backends: Vec<BackendKind>,
    /// Batch sizes to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = BATCH_SIZES)]
    batch_sizes: Vec<usize>,
    /// Training images per measured epoch (at least the largest batch).
    #[arg(long, default_value_t = 16384)]
    images: usize,
    /// Override one config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Also write `throughput.json` and the chart `throughput.png` into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backends = if args.backends.is_empty() {
        BackendKind::compiled()
            .into_iter()
            .filter(|backend| backend.usable_device().is_ok())
            .collect()
    } else {
        args.backends.clone()
    };
    let mut points: Vec<ThroughputPoint> = Vec::new();
    say!(
        "Training samples per second, {} images per epoch of {} (second epoch of two):",
        args.images,
        args.config.display()
    );
    say!("{:<10} {}", "backend", header(&args.batch_sizes));
    for backend in backends {
        let mut row = Vec::new();
        for &batch_size in &args.batch_sizes {
            let point = mnist_train::measure_throughput(
                &args.config,
                &args.overrides,
                backend,
                batch_size,
                args.images,
            )?;
            row.push(format!("{:>10.0}", point.samples_per_second));
            points.push(point);
        }
        say!("{:<10} {}", backend.name(), row.join(" "));
    }
    if let Some(out) = &args.out {
        write_points(out, &args.config, &points)?;
    }
    Ok(())
}

/// The points as `out/throughput.json` and their chart as `out/throughput.png`.
fn write_points(out: &Path, config: &Path, points: &[ThroughputPoint]) -> anyhow::Result<()> {
    mnist_runs::create_folder(out)?;
    let json = out.join("throughput.json");
    write_file(&json, &serde_json::to_vec_pretty(points)?)?;
    let title = format!(
        "{}: training throughput against batch size",
        config.display()
    );
    mnist_train::throughput_chart(&out.join("throughput.png"), &title, points)?;
    say!("Wrote {} and throughput.png", json.display());
    Ok(())
}

fn header(batch_sizes: &[usize]) -> String {
    batch_sizes
        .iter()
        .map(|batch| format!("{:>10}", format!("batch {batch}")))
        .collect::<Vec<_>>()
        .join(" ")
}
