//! `mnist-burn export`: a trained model as safetensors (PyTorch's layout) or ONNX, with a
//! JSON sidecar saying how to feed it.

use std::path::PathBuf;

use mnist_runs::TrainedModel;
use mnist_train::{BackendKind, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run folder, or a model file (.bpk) inside one.
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// safetensors (for PyTorch's load_state_dict) or onnx (for onnxruntime and others).
    #[arg(long, short, value_parser = crate::values::format())]
    format: Format,
    /// Where to write (default: model.safetensors or model.onnx in the run folder); the
    /// sidecar goes beside it, with .json added.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Backend that reads the model (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let device = BackendKind::or_preferred(args.backend)?.usable_device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    let out = args.out.unwrap_or_else(|| {
        trained
            .run_dir
            .join(format!("model.{}", args.format.extension()))
    });
    let (model, sidecar) = mnist_train::export(&trained, args.format, &out)?;
    say!("Wrote {} and {}", model.display(), sidecar.display());
    Ok(())
}
