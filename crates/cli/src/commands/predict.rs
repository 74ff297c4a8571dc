//! `mnist-burn predict`: classify pictures with a trained model.

use std::path::PathBuf;

use mnist_train::{BackendKind, TrainedModel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run folder, or a model file (.bpk) inside one.
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// Pictures to classify.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Backend to run the model on (default: the first compiled one).
    #[arg(long, short)]
    backend: Option<BackendKind>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backend = BackendKind::or_preferred(args.backend)?;
    let device = backend.usable_device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    let names = trained.dataset().class_names();
    let mut failed = 0;
    for image in &args.images {
        match trained.predict_file(image) {
            Ok(prediction) => {
                let probabilities: Vec<String> = names
                    .iter()
                    .zip(&prediction.probabilities)
                    .map(|(name, p)| format!("{name}: {p:.3}"))
                    .collect();
                say!(
                    "{}: {}  ({})",
                    image.display(),
                    names[prediction.class],
                    probabilities.join(", ")
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {error:#}");
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
