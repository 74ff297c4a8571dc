//! Trained models kept in memory between requests, reloaded when their file changes, and
//! what one of them says about a picture.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use burn::prelude::Device;
use mnist_data::{IMAGE_PIXELS, NUM_CLASSES};
use serde::Serialize;

use super::ApiError;
use mnist_runs::{RunSummary, TrainedModel, find_run, model_file};

/// Models by run id.
pub struct ModelCache {
    device: Device,
    loaded: Mutex<HashMap<String, Arc<LoadedModel>>>,
}

/// A run's model, with its templates and bias read out once for the weights view.
pub struct LoadedModel {
    pub trained: TrainedModel,
    /// Each class's 28x28 template.
    templates: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    modified: Option<SystemTime>,
}

/// What the model says about one 28x28 picture, and why.
#[derive(Debug, Serialize)]
pub struct PredictionReport {
    pub class: usize,
    pub label: &'static str,
    pub probabilities: Vec<f32>,
    /// The 784 pixels the model saw.
    pub input: Vec<u8>,
    /// Scaled pixel times weight for the predicted class: with `bias`, its score.
    pub contributions: Vec<f32>,
    pub bias: f32,
    /// The second likeliest class, when the answer is below the run's confidence threshold
    /// (chosen on its validation split) and so not sure enough to stand alone.
    pub unsure_between: Option<[usize; 2]>,
}

impl ModelCache {
    pub fn new(device: Device) -> Self {
        Self {
            device,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The CPU device the models run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The model of run `id`, loaded once and again whenever its file changes.
    pub fn get(&self, runs_dir: &Path, id: &str) -> Result<Arc<LoadedModel>, ApiError> {
        if let Some(model) = self.cached(id) {
            return Ok(model);
        }
        let run = find_run(runs_dir, id).ok_or_else(|| ApiError::unknown_run(id))?;
        let model = Arc::new(self.load(&run)?);
        self.lock().insert(id.to_string(), Arc::clone(&model));
        Ok(model)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LoadedModel>>> {
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, id: &str) -> Option<Arc<LoadedModel>> {
        let model = self.lock().get(id).cloned()?;
        let file = model_file(&model.trained.run_dir);
        (modified(&file) == model.modified && model.modified.is_some()).then_some(model)
    }

    fn load(&self, run: &RunSummary) -> Result<LoadedModel, ApiError> {
        let file = model_file(&run.dir);
        if !file.is_file() {
            return Err(ApiError::not_found(format!(
                "run {} has no model yet (it is written when training ends)",
                run.id
            )));
        }
        let modified = modified(&file);
        let trained = TrainedModel::load(&run.dir, &self.device).map_err(|error| {
            ApiError::unprocessable(format!("run {}: cannot load its model: {error:#}", run.id))
        })?;
        let templates = trained.model.templates();
        let bias = trained.model.bias_values();
        if templates.len() != NUM_CLASSES
            || templates
                .iter()
                .any(|template| template.len() != IMAGE_PIXELS)
            || bias.len() != NUM_CLASSES
        {
            return Err(ApiError::unprocessable(format!(
                "run {}: its model is not 784 inputs by 10 classes",
                run.id
            )));
        }
        Ok(LoadedModel {
            trained,
            templates,
            bias,
            modified,
        })
    }
}

fn modified(file: &Path) -> Option<SystemTime> {
    fs::metadata(file).ok()?.modified().ok()
}

impl LoadedModel {
    /// Classifies an MNIST-style picture and explains the decision.
    pub fn predict(&self, pixels: &[u8; IMAGE_PIXELS]) -> PredictionReport {
        let prediction = self.trained.predict_pixels(pixels);
        let [(best, confidence), (second, _)] = mnist_runs::top_two(&prediction.probabilities);
        let unsure = self
            .trained
            .confidence
            .is_some_and(|threshold| threshold.is_unsure(confidence));
        PredictionReport {
            unsure_between: unsure.then_some([best, second]),
            class: prediction.class,
            label: self.trained.dataset().class_names()[prediction.class],
            probabilities: prediction.probabilities,
            input: prediction.seen.to_vec(),
            contributions: prediction.contributions,
            bias: prediction.bias,
        }
    }

    /// Each class's 784 weights (a 28x28 template, row-major).
    pub fn templates(&self) -> &[Vec<f32>] {
        &self.templates
    }
}
