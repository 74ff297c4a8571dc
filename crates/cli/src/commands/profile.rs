//! `mnist-burn profile`: where a training step's time goes, as a table, a bar chart and JSON.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use mnist_runs::write_file;
use mnist_train::{BackendKind, StepProfile};

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
    for line in table(&found) {
        say!("{line}");
    }
    if let Some(out) = &args.out {
        mnist_runs::create_folder(out)?;
        let path = out.join("profile.json");
        write_file(&path, &serde_json::to_vec_pretty(&as_json(&found))?)?;
        let bars: Vec<(String, f64)> = found
            .phases
            .iter()
            .map(|(phase, time)| {
                (
                    format!("{} {:.1} µs", phase.name(), micros(*time)),
                    micros(*time),
                )
            })
            .collect();
        let title = format!(
            "{} on {}: µs per step, batch {}",
            args.config.display(),
            backend,
            found.batch_size
        );
        mnist_runs::bar_chart(&out.join("profile.png"), &title, "µs per step", &bars)?;
        say!("Wrote {} and profile.png", path.display());
    }
    Ok(())
}

fn micros(time: Duration) -> f64 {
    time.as_secs_f64() * 1e6
}

/// The printed table: each phase in µs per step and as a share of their sum, then whole steps.
fn table(found: &StepProfile) -> Vec<String> {
    let total = micros(found.phases_total());
    let per_second = |time: Duration| 1.0 / time.as_secs_f64().max(1e-12);
    let mut lines = vec![format!("{:<18} {:>10} {:>7}", "phase", "µs/step", "share")];
    for (phase, time) in &found.phases {
        lines.push(format!(
            "{:<18} {:>10.1} {:>6.1}%",
            phase.name(),
            micros(*time),
            100.0 * micros(*time) / total.max(1e-12)
        ));
    }
    let sync_note = if found.backend.is_device() {
        "each phase ends with a device sync, which serialises the GPU's queue"
    } else {
        "each phase ends with a device sync (free on the CPU)"
    };
    let learner_own = micros(found.learner) - micros(found.unbracketed);
    lines.extend([
        format!("{:<18} {:>10.1} {:>6.1}%  {sync_note}", "phases, summed", total, 100.0),
        format!(
            "{:<18} {:>10.1}          the same steps without the syncs: {:.0} steps/s; phases are {:+.1}% of it",
            "unbracketed step",
            micros(found.unbracketed),
            per_second(found.unbracketed),
            100.0 * (total / micros(found.unbracketed).max(1e-12) - 1.0)
        ),
        format!(
            "{:<18} {:>10.1}          Burn's Learner with this program's loop, one epoch of as many batches: {:.0} steps/s; phases are {:+.1}% of it",
            "Learner step",
            micros(found.learner),
            per_second(found.learner),
            100.0 * (total / micros(found.learner).max(1e-12) - 1.0)
        ),
        format!(
            "{:<18} {:>10.1}          the same with Burn's own loop (a hand-off to its metric thread a step): {:.0} steps/s",
            "Burn loop step",
            micros(found.burn_learner),
            per_second(found.burn_learner),
        ),
        format!(
            "{:<18} {:>+10.1}          the Learner's own share: its step minus the unbracketed one",
            "Learner's own", learner_own
        ),
    ]);
    lines
}

fn as_json(found: &StepProfile) -> serde_json::Value {
    json!({
        "backend": found.backend.name(),
        "device": found.device,
        "steps": found.steps,
        "batch_size": found.batch_size,
        "phases_us": found
            .phases
            .iter()
            .map(|(phase, time)| (phase.name().to_string(), json!(micros(*time))))
            .collect::<serde_json::Map<_, _>>(),
        "phases_total_us": micros(found.phases_total()),
        "unbracketed_step_us": micros(found.unbracketed),
        "learner_step_us": micros(found.learner),
        "burn_loop_step_us": micros(found.burn_learner),
    })
}
