//! `mnist-burn plot`: redraw a run's curves, or overlay several runs.

use std::path::PathBuf;

use mnist_runs::RunRecord;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run folders; one redraws its plots, several are overlaid.
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// Where to write the plots (default: the run folder, or compare/<a>-vs-<b> for several).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for run_dir in &args.runs {
        let rows = mnist_runs::read_metrics_csv(&run_dir.join(mnist_runs::METRICS_FILE))
            .map_err(|error| anyhow::anyhow!(error))?;
        let label = match RunRecord::read(run_dir) {
            Ok(record) => format!("{} on {}", record.name, record.backend),
            Err(_) => run_dir.display().to_string(),
        };
        runs.push((label, rows));
    }
    let out = match (args.out, &args.runs[..]) {
        (Some(out), _) => out,
        (None, [single]) => single.clone(),
        (None, several) => {
            let names: Vec<String> = several
                .iter()
                .filter_map(|run| run.file_name())
                .map(|name| name.to_string_lossy().into_owned())
                .collect();
            PathBuf::from("compare").join(names.join("-vs-"))
        }
    };
    mnist_runs::create_folder(&out)?;
    mnist_runs::learning_curves(&out, &runs)?;
    say!(
        "Wrote {} and {}",
        out.join("loss.png").display(),
        out.join("accuracy.png").display()
    );
    Ok(())
}
