//! A trained model read back from its run folder (or a checkpoint) with the config it was
//! trained with, and asked about pictures: what `eval`, `predict`, `export` and `serve` load.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::activation::softmax;
use mnist_data::{DatasetKind, ImageSet, PixelScaling, picture, preprocess};
use mnist_model::{LogisticRegression, Prediction};

use crate::calibration::Confidence;
use crate::folder::{CONFIG_FILE, MODEL_STEM, RunRecord};
use mnist_config::ExperimentConfig;

/// A model read back with the config it was trained with.
pub struct TrainedModel {
    pub config: ExperimentConfig,
    pub model: LogisticRegression,
    /// The `.bpk` file the weights came from.
    pub weights_file: PathBuf,
    /// The folder that holds the run's `config.toml`.
    pub run_dir: PathBuf,
    /// Below this confidence an answer comes with its runner-up (from the run's record).
    pub confidence: Option<Confidence>,
}

impl TrainedModel {
    /// Loads a run folder's final model, or a `.bpk` file (a run's `model.bpk` or one of its
    /// checkpoints) with the `config.toml` of the run it belongs to.
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Self> {
        let weights_file = if path.is_dir() {
            path.join(format!("{MODEL_STEM}.bpk"))
        } else {
            path.to_path_buf()
        };
        if !weights_file.is_file() {
            anyhow::bail!(
                "{}: no such model; give a run folder or a .bpk file",
                weights_file.display()
            );
        }
        let run_dir = weights_file
            .ancestors()
            .skip(1)
            .take(2)
            .find(|folder| folder.join(CONFIG_FILE).is_file())
            .ok_or_else(|| {
                anyhow!(
                    "{}: no {CONFIG_FILE} beside it or in the folder above, so its shape and \
                     scaling are unknown",
                    weights_file.display()
                )
            })?
            .to_path_buf();
        let config = ExperimentConfig::load(&run_dir.join(CONFIG_FILE), &[])?;
        let record = ModuleRecord::load(&weights_file)
            .map_err(|error| anyhow!("{}: {error}", weights_file.display()))?;
        let model = config
            .model
            .init(device)
            .try_load_record(record)
            .map_err(|error| anyhow!("{}: {error}", weights_file.display()))?;
        let confidence = RunRecord::read(&run_dir)
            .ok()
            .and_then(|record| record.confidence);
        Ok(Self {
            config,
            model,
            weights_file,
            run_dir,
            confidence,
        })
    }

    /// The model a run in `run_dir` just trained, with its config.
    pub fn of_run(config: &ExperimentConfig, model: LogisticRegression, run_dir: &Path) -> Self {
        Self {
            config: config.clone(),
            model,
            weights_file: run_dir.join(format!("{MODEL_STEM}.bpk")),
            run_dir: run_dir.to_path_buf(),
            confidence: None,
        }
    }

    pub fn dataset(&self) -> DatasetKind {
        self.config.data.dataset
    }

    pub fn scaling(&self) -> PixelScaling {
        self.config.data.scaling()
    }

    /// The model's scores for `images`, 1000 images at a time, with their indices.
    pub(crate) fn for_each_chunk(
        &self,
        images: &ImageSet,
        device: &Device,
        mut visit: impl FnMut(std::ops::Range<usize>, Tensor<2>),
    ) {
        let scaling = self.scaling();
        for start in (0..images.len()).step_by(1000) {
            let indices = start..(start + 1000).min(images.len());
            let input = scaling.tensor(indices.clone().map(|index| images.image(index)), device);
            visit(indices, self.model.forward(input));
        }
    }

    /// Class probabilities for one picture file of any size and colour, converted to MNIST's
    /// format first.
    pub fn predict_file(&self, path: &Path) -> anyhow::Result<Prediction> {
        let picture =
            picture::read_picture(path).map_err(|error| anyhow!("{}: {error}", path.display()))?;
        Ok(self.predict_pixels(&preprocess::mnist_style(&picture)))
    }

    /// Class probabilities for one MNIST-style picture, prepared as the run's data was.
    pub fn predict_pixels(&self, pixels: &[u8]) -> Prediction {
        self.model.predict_pixels(&self.config.data, pixels)
    }
}

/// Softmax of `[rows, classes]` scores, row-major.
pub fn probabilities(scores: Tensor<2>) -> Vec<f32> {
    softmax(scores, 1)
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("probabilities are floats")
}

impl TrainedModel {
    /// `predict`'s answer for the picture `file`: the class and every probability on one line,
    /// and when the model is less sure than its validated threshold, the runner-up too; or, with
    /// `json`, all of that and the 28x28 input as one JSON line.
    pub fn answer(&self, file: &Path, prediction: &Prediction, json: bool) -> String {
        let names = self.dataset().class_names();
        let [(best, confidence), (second, runner_up)] = crate::top_two(&prediction.probabilities);
        // Below the run's threshold (chosen on its validation split) the answer is not right
        // often enough to stand alone.
        let unsure = self
            .confidence
            .is_some_and(|threshold| threshold.is_unsure(confidence));
        if json {
            return serde_json::json!({
                "file": file,
                "class": prediction.class,
                "label": names[prediction.class],
                "probabilities": prediction.probabilities,
                "input": prediction.seen.to_vec(),
                "unsure_between": unsure.then_some([best, second]),
            })
            .to_string();
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
        format!(
            "{}: {}  ({}){unsure}",
            file.display(),
            names[prediction.class],
            probabilities.join(", ")
        )
    }
}
