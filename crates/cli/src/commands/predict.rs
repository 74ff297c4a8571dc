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
    let names = trained.dataset().class_names();
    let mut failed = 0;
    for image in &args.images {
        match trained.predict_file(image) {
            Ok(prediction) => {
                let [(best, confidence), (second, runner_up)] =
                    mnist_runs::top_two(&prediction.probabilities);
                // Below the run's threshold (chosen on its validation split) the answer is
                // not right often enough to stand alone.
                let unsure = trained
                    .confidence
                    .is_some_and(|threshold| threshold.is_unsure(confidence));
                if args.json {
                    let line = serde_json::json!({
                        "file": image,
                        "class": prediction.class,
                        "label": names[prediction.class],
                        "probabilities": prediction.probabilities,
                        "input": prediction.seen.to_vec(),
                        "unsure_between": unsure.then_some([best, second]),
                    });
                    say!("{line}");
                    continue;
                }
                let probabilities: Vec<String> = names
                    .iter()
                    .zip(&prediction.probabilities)
                    .map(|(name, p)| format!("{name}: {p:.3}"))
                    .collect();
                let unsure = if unsure {
                    format!(
                        "  unsure: {} ({confidence:.2}) or {} ({runner_up:.2})",
                        names[best], names[second]
                    )
                } else {
                    String::new()
                };
                say!(
                    "{}: {}  ({}){unsure}",
                    image.display(),
                    names[prediction.class],
                    probabilities.join(", ")
                );
            }
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
