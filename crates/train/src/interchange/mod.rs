//! A trained model in other runtimes' formats: safetensors and ONNX out, a PyTorch or
//! safetensors checkpoint in as a run. Uses nothing else here but `backend`.
//! Everything is in PyTorch's layout and names (`linear.weight` `[10, 784]`, `linear.bias`
//! `[10]`), the names of the tutorial's `LogisticRegression` with its `self.linear`.

mod import;
mod onnx;

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use mnist_data::{IMAGE_PIXELS, NUM_CLASSES};
use mnist_model::OutputActivation;
use serde::Serialize;

pub use import::{ImportRequest, import_checkpoint};

use mnist_runs::TrainedModel;
use mnist_runs::write_file;

/// The formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PyTorch's names and layout; `torch`'s `load_state_dict` takes it as is.
    Safetensors,
    /// One `[N, 784]` float input, one `[N, 10]` output of class scores.
    Onnx,
}

impl Format {
    pub const ALL: [Self; 2] = [Self::Safetensors, Self::Onnx];

    /// What a file of this format holds, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Safetensors => {
                "PyTorch's names and layout; torch's load_state_dict takes it as is"
            }
            Self::Onnx => "one [N, 784] float input, one [N, 10] output of class scores",
        }
    }

    /// The format's name on the command line, and its files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Safetensors => "safetensors",
            Self::Onnx => "onnx",
        }
    }
}

/// A format name that is none of [`Format::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown format `{0}` (safetensors or onnx)")]
pub struct UnknownFormat(String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|format| format.extension() == name)
            .ok_or_else(|| UnknownFormat(name.to_string()))
    }
}

/// The tensors of the tutorial's model in PyTorch's layout: `nn.Linear(784, 10)`.
pub fn expected_tensors() -> [(&'static str, &'static [usize]); 2] {
    const WEIGHT: [usize; 2] = [NUM_CLASSES, IMAGE_PIXELS];
    const BIAS: [usize; 1] = [NUM_CLASSES];
    [("linear.weight", &WEIGHT), ("linear.bias", &BIAS)]
}

/// `<export>.json`: everything a consumer needs besides the weights.
#[derive(Debug, Serialize)]
pub struct Sidecar {
    pub format: &'static str,
    pub source: String,
    /// `[N, 784]`: N pictures of 28x28 pixels, row-major, light ink on black (MNIST's way).
    pub input_shape: [&'static str; 2],
    pub input_dtype: &'static str,
    /// What is done to each 28x28 picture before the pixels are scaled, in order (empty when
    /// nothing is): `deskew` with its formula when the run deskews.
    pub preprocessing: Vec<Step>,
    /// How a raw pixel `p` in 0..=255 becomes an input value: `(p / 255 - mean) / std`.
    pub normalization: Normalization,
    /// What the outputs are: raw scores (`none`) or after a sigmoid; a softmax of them gives
    /// the probabilities this project reports.
    pub activation: OutputActivation,
    pub classes: Vec<String>,
    /// Name and shape of each tensor, in PyTorch's layout.
    pub tensors: Vec<(String, Vec<usize>)>,
    /// The run's whole config.
    pub config: toml::Table,
}

/// One step of [`Sidecar::preprocessing`].
#[derive(Debug, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub formula: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Normalization {
    pub formula: &'static str,
    pub mean: f32,
    pub std: f32,
}

impl Sidecar {
    fn new(trained: &TrainedModel, format: Format) -> Self {
        let data = &trained.config.data;
        Self {
            format: format.extension(),
            source: trained.weights_file.display().to_string(),
            input_shape: ["N", "784"],
            input_dtype: "float32",
            preprocessing: data
                .deskew
                .then_some(Step {
                    step: "deskew",
                    formula: mnist_data::deskew::FORMULA,
                })
                .into_iter()
                .collect(),
            normalization: Normalization {
                formula: "(pixel / 255 - mean) / std",
                mean: data.mean,
                std: data.std,
            },
            activation: trained.config.model.activation,
            classes: trained
                .dataset()
                .class_names()
                .iter()
                .map(|name| name.to_string())
                .collect(),
            tensors: expected_tensors()
                .iter()
                .map(|(name, shape)| (name.to_string(), shape.to_vec()))
                .collect(),
            config: toml::Table::try_from(&trained.config).expect("a config serialises"),
        }
    }

    /// The sidecar as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a sidecar serialises")
    }
}

/// Writes `trained` as `format` to `out` and its sidecar beside it (`out` + `.json`);
/// returns both paths.
pub fn export(
    trained: &TrainedModel,
    format: Format,
    out: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let sidecar = Sidecar::new(trained, format);
    let bytes = match format {
        Format::Safetensors => safetensors_bytes(trained, &sidecar)?,
        Format::Onnx => onnx::model_bytes(trained, &sidecar)?,
    };
    write_file(out, &bytes)?;
    let sidecar_path = PathBuf::from(format!("{}.json", out.display()));
    write_file(&sidecar_path, sidecar.to_json().as_bytes())?;
    Ok((out.to_path_buf(), sidecar_path))
}

/// The model in PyTorch's layout, with the sidecar's facts in the header's metadata too.
fn safetensors_bytes(trained: &TrainedModel, sidecar: &Sidecar) -> anyhow::Result<Vec<u8>> {
    trained
        .model
        .to_pytorch_safetensors(trained.config.export_metadata(&sidecar.source))
        .map_err(|error| anyhow!("cannot write safetensors: {error}"))
}
