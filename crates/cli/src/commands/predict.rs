//! `mnist-burn predict`: classify pictures with a trained model.

use std::path::PathBuf;

use mnist_runs::TrainedModel;
use mnist_train::BackendKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run folder, or a model file (.bpk) inside one.
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// Pictures to classify.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Backend to run the model on (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// One JSON object a line per picture: its file, class, label, probabilities, the 784
    /// pixels the model saw and, when unsure, the two classes it hesitates between.
    #[arg(long)]
    json: bool,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backend = BackendKind::or_preferred(args.backend)?;
    let device = backend.usable_device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    let mut failed = 0;
    for image in &args.images {
        match trained.predict_file(image) {
            Ok(prediction) => say!("{}", trained.answer(image, &prediction, args.json)),
            // One picture's error is the command's; of several, each is said as it happens.
            Err(error) if args.images.len() == 1 => return Err(error),
            Err(error) => {
                failed += 1;
                tell!("error: {error:#}");
            }
        }
    }
    match failed {
        0 => Ok(()),
        _ => Err(PartlyFailed {
            failed,
            total: args.images.len(),
        }
        .into()),
    }
}

/// Some inputs of a batch command failed; each was reported as it happened.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} images could not be classified")]
struct PartlyFailed {
    failed: usize,
    total: usize,
}
