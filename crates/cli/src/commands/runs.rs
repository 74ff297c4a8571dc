//! `mnist-burn runs`: the table of runs in a folder (and sweeps' trials in it).

use std::path::PathBuf;

use mnist_runs::{RunOrder, listed_runs, runs_table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder whose runs to list.
    #[arg(default_value = "runs", value_name = "DIR")]
    dir: PathBuf,
    /// Column to sort by (accuracies and times: largest first; default: newest first).
    #[arg(long, value_parser = crate::values::run_order(), default_value = "started")]
    sort: RunOrder,
    /// Reverse the order.
    #[arg(long)]
    reverse: bool,
    /// Print JSON (one array of runs) for scripts instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        anyhow::bail!("{}: no such folder", args.dir.display());
    }
    let rows = listed_runs(&args.dir, args.sort, args.reverse);
    if args.json {
        say!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        say!("{}", runs_table(&rows));
    }
    Ok(())
}
