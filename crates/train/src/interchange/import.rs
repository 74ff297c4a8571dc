//! `import`: a PyTorch `state_dict` (`torch.save`, read by burn-store's PyTorch reader) or a
//! safetensors file in PyTorch's layout becomes a run folder that `eval`, `predict`, `plot`
//! and `serve` use like any other. Names and shapes are checked before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use burn::module::Module;
use burn::prelude::Device;
use burn::store::burn_pack::Tensor as StoredTensor;
use burn::store::{
    ApplyResult, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};
use burn::tensor::DType;

use mnist_model::LogisticRegression;

use super::expected_tensors;
use mnist_config::ExperimentConfig;
use mnist_runs::{MODEL_STEM, RunFolder, RunRecord, RunStatus, claim_run_dir};

/// What to import, and where to.
pub struct ImportRequest<'a> {
    pub checkpoint: &'a Path,
    pub config_path: &'a Path,
    pub out: Option<&'a Path>,
    pub force: bool,
}

/// Imports the checkpoint into a new run folder; returns the folder.
pub fn import_checkpoint(request: &ImportRequest, device: &Device) -> anyhow::Result<PathBuf> {
    let file = request.checkpoint;
    let config = ExperimentConfig::load(request.config_path, &[])?;
    if !file.is_file() {
        bail!("{}: no such file", file.display());
    }
    let mut model = config.model.init(device);
    let applied = if is_safetensors(file)? {
        load_checked(
            file,
            &mut model,
            SafetensorsStore::from_file(file).with_from_adapter(PyTorchToBurnAdapter),
        )?
    } else {
        load_checked(file, &mut model, PytorchStore::from_file(file))?
    };
    check_applied(file, &applied)?;

    let name = file.file_stem().map_or("imported".into(), |stem| {
        stem.to_string_lossy().into_owned()
    });
    let lock = claim_run_dir(request.out, &name, request.force)?;
    let folder = RunFolder::create(&lock, &config)?;
    let model_path = folder.file(MODEL_STEM);
    model
        .into_record()
        .save(&model_path)
        .map_err(|error| anyhow!("{}: cannot save the model: {error}", model_path.display()))?;
    folder.write_record(&RunRecord {
        status: RunStatus::Finished,
        imported_from: Some(std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf())),
        ..RunRecord::begun(
            name,
            request.config_path.to_path_buf(),
            "imported".into(),
            format!("{device:?}"),
        )
    })?;
    Ok(folder.into_path())
}

/// Checks the tensors `store` holds, then loads them into `model`.
fn load_checked(
    file: &Path,
    model: &mut LogisticRegression,
    mut store: impl ModuleStore,
) -> anyhow::Result<ApplyResult> {
    let tensors = store
        .get_all_tensors()
        .map_err(|error| not_a_checkpoint(file, error))?;
    check_tensors(file, tensors)?;
    model
        .load_from(&mut store)
        .map_err(|error| not_a_checkpoint(file, error))
}

/// safetensors starts with an 8-byte header length and a JSON header; PyTorch's format is a
/// zip (or, before 1.6, a pickle). Anything else is tried as PyTorch, whose reader says no.
fn is_safetensors(file: &Path) -> anyhow::Result<bool> {
    use std::io::Read;
    let mut start = [0u8; 9];
    let read = std::fs::File::open(file)
        .and_then(|mut handle| handle.read(&mut start))
        .with_context(|| format!("{}: cannot read", file.display()))?;
    Ok(read == 9 && start[8] == b'{')
}

fn not_a_checkpoint(file: &Path, error: impl std::fmt::Display) -> anyhow::Error {
    let error = error.to_string().replace('\n', " ");
    anyhow!(
        "{}: not a PyTorch state_dict or a safetensors file ({error})",
        file.display()
    )
}

/// Every expected tensor is there, float32, with its PyTorch shape, and nothing else is (a
/// float64 tensor would load, then fail at the first forward pass).
fn check_tensors(file: &Path, found: &BTreeMap<String, StoredTensor>) -> anyhow::Result<()> {
    let expected = expected_tensors();
    let describe = || {
        expected
            .iter()
            .map(|(name, shape)| format!("{name} {shape:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, shape) in expected {
        let Some(tensor) = found.get(name) else {
            let names: Vec<&str> = found.keys().map(String::as_str).collect();
            bail!(
                "{}: no tensor `{name}` (it has: {}); expected the tutorial's model: {}",
                file.display(),
                if names.is_empty() {
                    "nothing".into()
                } else {
                    names.join(", ")
                },
                describe()
            );
        };
        if tensor.dtype != DType::F32 {
            bail!(
                "{}: tensor `{name}` is {:?}, expected float32 (call model.float() before \
                 saving)",
                file.display(),
                tensor.dtype
            );
        }
        let dims: Vec<usize> = tensor.shape.iter().copied().collect();
        if dims != shape {
            bail!(
                "{}: tensor `{name}` has shape {dims:?}, expected {shape:?} (torch.nn.Linear(784, 10))",
                file.display()
            );
        }
    }
    if let Some(extra) = found
        .keys()
        .find(|name| !expected.iter().any(|(known, _)| known == name))
    {
        bail!(
            "{}: unexpected tensor `{extra}`; expected only {}",
            file.display(),
            describe()
        );
    }
    Ok(())
}

fn check_applied(file: &Path, applied: &ApplyResult) -> anyhow::Result<()> {
    if let Some(error) = applied.errors.first() {
        bail!("{}: {error}", file.display());
    }
    if let Some((name, _)) = applied.missing.first() {
        bail!("{}: no tensor `{name}`", file.display());
    }
    Ok(())
}
