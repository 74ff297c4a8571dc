//! `mnist-burn import`: a PyTorch or safetensors checkpoint of the tutorial's model becomes a
//! run folder.

use std::path::PathBuf;

use mnist_train::{BackendKind, ImportRequest, import_checkpoint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `torch.save(model.state_dict(), ...)` output (.pt, .pth) or a .safetensors file, with
    /// `linear.weight` [10, 784] and `linear.bias` [10].
    #[arg(value_name = "FILE")]
    checkpoint: PathBuf,
    /// The experiment config the model belongs to (its scaling and activation).
    #[arg(long, short)]
    config: PathBuf,
    /// Run folder to create (default: runs/<file name>-<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write into --out even if it is not empty.
    #[arg(long)]
    force: bool,
    /// Backend that reads the checkpoint (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let device = BackendKind::or_preferred(args.backend)?.usable_device()?;
    let run_dir = import_checkpoint(
        &ImportRequest {
            checkpoint: &args.checkpoint,
            config_path: &args.config,
            out: args.out.as_deref(),
            force: args.force,
        },
        &device,
    )?;
    say!(
        "Imported {} into {}; try: mnist-burn eval {}",
        args.checkpoint.display(),
        run_dir.display(),
        run_dir.display()
    );
    Ok(())
}
