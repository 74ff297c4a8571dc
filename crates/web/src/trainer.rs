//! The training loop of the browser build, a few steps per call so the page stays in control.
//! Every read of a tensor is asynchronous (WebGPU's reads cannot block), and one per call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use mnist_config::ExperimentConfig;
use mnist_data::{
    DatasetKind, Draw, ImageSet, MnistBatcher, RAW_FILES, Split, permutation, picture, preprocess,
};
use mnist_model::LogisticRegression;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::device;
use crate::tally::Tally;

/// One epoch's numbers, as `metrics.csv` has them (accuracies in percent).
#[derive(Debug, Serialize)]
struct EpochReport {
    epoch: usize,
    train_loss: f64,
    train_acc: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_acc: Option<f64>,
    test_loss: f64,
    test_acc: f64,
}

/// A run in progress.
#[wasm_bindgen]
pub struct Trainer {
    config: ExperimentConfig,
    device: Device,
    backend: String,
    notice: Option<String>,
    model: Option<LogisticRegression>,
    optimizer: ModuleOptimizer,
    scheduler: ModuleLrScheduler,
    train: MnistBatcher,
    train_len: usize,
    validation: Option<(MnistBatcher, usize)>,
    test: (MnistBatcher, usize),
    /// Epochs completed.
    epoch: usize,
    progress: Option<InProgress>,
}

/// The epoch being trained: its order, the next batch, and the sums so far.
struct InProgress {
    order: Vec<usize>,
    next: usize,
    tally: Tally,
}

#[wasm_bindgen]
impl Trainer {
    /// A run of the config `toml` (named `name` in its errors) with `overrides` (one
    /// `section.key=value` per line, as `--set` takes them) on the four raw MNIST files, each
    /// checked against its SHA-256 first, on `backend` (`flex`, or `wgpu` where the browser
    /// offers WebGPU; flex otherwise, and [`Self::notice`] says why).
    #[allow(clippy::too_many_arguments)]
    pub async fn create(
        name: String,
        toml: String,
        overrides: String,
        backend: String,
        train_images: Vec<u8>,
        train_labels: Vec<u8>,
        test_images: Vec<u8>,
        test_labels: Vec<u8>,
    ) -> Result<Trainer, JsError> {
        let overrides: Vec<String> = overrides
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(String::from)
            .collect();
        let config = ExperimentConfig::parse(&toml, Path::new(&name), &overrides)
            .map_err(|error| JsError::new(&error.to_string()))?;
        let split = |split: Split, images: Vec<u8>, labels: Vec<u8>| {
            let checked = |bytes: Vec<u8>, index: usize| {
                let file = &RAW_FILES[index];
                if file.verifies(&bytes) {
                    Ok((bytes, PathBuf::from(file.name)))
                } else {
                    Err(JsError::new(&format!(
                        "{}: not MNIST's file (its SHA-256 must be {})",
                        file.name, file.sha256
                    )))
                }
            };
            let first = match split {
                Split::Train => 0,
                Split::Test => 2,
            };
            let set = ImageSet::from_idx(
                DatasetKind::Mnist,
                split,
                checked(images, first)?,
                checked(labels, first + 1)?,
            )
            .map_err(|error| JsError::new(&error.to_string()))?;
            Ok::<_, JsError>(config.data.prepared(set))
        };
        let train = split(Split::Train, train_images, train_labels)?;
        let test = split(Split::Test, test_images, test_labels)?;
        let (train, validation) = config.data.without_validation(train, config.seed);

        let chosen = device::choose(&backend)
            .await
            .map_err(|error| JsError::new(&error))?;
        let device = chosen.device.autodiff();
        let model = config
            .model
            .init(&device)
            .load_record(config.model.initial_weights(config.seed));
        let steps = config.epochs * train.len().div_ceil(config.data.batch_size);
        let scaling = config.data.scaling();
        let test_len = test.len();
        Ok(Self {
            optimizer: config.optimizer.optimizer(),
            scheduler: config.optimizer.scheduler(steps),
            train_len: train.len(),
            train: MnistBatcher::new(Arc::new(train), scaling.clone())
                .augmented(config.augment, config.seed),
            validation: validation.map(|images| {
                let len = images.len();
                (MnistBatcher::new(Arc::new(images), scaling.clone()), len)
            }),
            test: (MnistBatcher::new(Arc::new(test), scaling.clone()), test_len),
            config,
            device,
            backend: chosen.name,
            notice: chosen.notice,
            model: Some(model),
            epoch: 0,
            progress: None,
        })
    }

    /// The backend training runs on.
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Why training is not on the backend asked for, if it is not.
    pub fn notice(&self) -> Option<String> {
        self.notice.clone()
    }

    /// Epochs the config asks for.
    pub fn epochs(&self) -> usize {
        self.config.epochs
    }

    /// Images trained on per epoch (the training split less its validation images).
    pub fn train_items(&self) -> usize {
        self.train_len
    }

    /// Optimiser steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.train_len.div_ceil(self.config.data.batch_size)
    }

    /// Trains up to `max_steps` more steps of the epoch in progress (starting the next one if
    /// none is), so the page can stop between any two steps and continue exactly where it
    /// was; after an epoch's last step, tests. As JSON: the epoch, the steps done in it, the
    /// mean loss and accuracy of these steps, and the epoch's report once it is complete.
    pub async fn steps(&mut self, max_steps: usize) -> Result<String, JsError> {
        let batch_size = self.config.data.batch_size;
        let (seed, train_len, shuffle) =
            (self.config.seed, self.train_len, self.config.data.shuffle);
        let epoch = self.epoch + 1;
        let progress = self.progress.get_or_insert_with(|| InProgress {
            order: if shuffle {
                permutation(seed, epoch, train_len)
            } else {
                (0..train_len).collect()
            },
            next: 0,
            tally: Tally::default(),
        });
        let batches = progress.order.len().div_ceil(batch_size);
        let before = (progress.tally.loss, progress.tally.accuracy);
        let (steps_before, items_before) = (progress.tally.batches, progress.tally.items);
        let mut model = self.model.take().expect("a model between steps");
        for _ in 0..max_steps.min(batches - progress.next) {
            let start = progress.next * batch_size;
            let draws: Vec<Draw> = progress.order[start..(start + batch_size).min(train_len)]
                .iter()
                .map(|&index| Draw { index, epoch })
                .collect();
            let (images, labels) = self.train.host_training_batch(&draws);
            let batch = MnistBatcher::upload(images, labels, &self.device);
            let (output, loss, _) = model.training_loss(batch.images, batch.targets.clone());
            let gradients = model.loss_to_backpropagate(loss.clone()).backward();
            let gradients = GradientsParams::from_grads(gradients, &model);
            model = self.optimizer.step(self.scheduler.step(), model, gradients);
            progress.tally.add(loss, output, batch.targets);
            progress.next += 1;
        }
        self.model = Some(model);
        let tally = &mut progress.tally;
        tally.read().await?;
        let mut update = serde_json::json!({
            "epoch": epoch,
            "step": progress.next,
            "loss": (tally.loss - before.0) / (tally.batches - steps_before).max(1) as f64,
            "accuracy": (tally.accuracy - before.1) / (tally.items - items_before).max(1) as f64,
        });
        if progress.next == batches {
            let (train_loss, train_acc) = tally.means();
            self.progress = None;
            self.epoch += 1;
            let evaluated = self.model.as_ref().expect("a model between steps").valid();
            let validated = match &self.validation {
                Some(split) => Some(self.evaluate(&evaluated, split).await?),
                None => None,
            };
            let (test_loss, test_acc) = self.evaluate(&evaluated, &self.test).await?;
            let report = EpochReport {
                epoch: self.epoch,
                train_loss,
                train_acc,
                valid_loss: validated.map(|(loss, _)| loss),
                valid_acc: validated.map(|(_, acc)| acc),
                test_loss,
                test_acc,
            };
            update["report"] =
                serde_json::to_value(&report).map_err(|error| JsError::new(&error.to_string()))?;
        }
        Ok(update.to_string())
    }

    /// The model's answer for a picture of any size (the page's canvas, `width` x `height`
    /// RGBA pixels), converted as `mnist-burn predict` and `serve` convert pictures: as JSON,
    /// the class, the probabilities, the 784 pixels seen, each pixel's contribution to the
    /// class's score and the class's bias (serve's `/predict` answer).
    pub async fn predict(&self, rgba: Vec<u8>, width: u32, height: u32) -> Result<String, JsError> {
        let picture = image::RgbaImage::from_raw(width, height, rgba)
            .ok_or_else(|| JsError::new("the picture's pixels do not fill its size"))?;
        let picture = picture::as_seen(image::DynamicImage::ImageRgba8(picture));
        self.answer(&preprocess::mnist_style(&picture)).await
    }

    /// [`predict`](Self::predict) for a picture file's bytes (a dropped or chosen file), read
    /// as `mnist-burn predict` reads files: orientation, transparency and size limits alike.
    pub async fn predict_file(&self, bytes: Vec<u8>) -> Result<String, JsError> {
        let picture =
            picture::decode_picture(&bytes).map_err(|error| JsError::new(&error.to_string()))?;
        self.answer(&preprocess::mnist_style(&picture)).await
    }

    /// Each class's weights as a 28x28 template, as JSON: the pictures forming as it trains.
    pub async fn templates(&self) -> Result<String, JsError> {
        Ok(serde_json::json!(self.on_cpu().await?.templates()).to_string())
    }

    /// The model as a safetensors file in PyTorch's layout and names, with the metadata of
    /// `mnist-burn export`: what `mnist-burn import` and `torch`'s `load_state_dict` take.
    pub async fn safetensors(&self) -> Result<Vec<u8>, JsError> {
        self.on_cpu()
            .await?
            .to_pytorch_safetensors(self.config.export_metadata("trained in the browser"))
            .map_err(|error| JsError::new(&format!("cannot write safetensors: {error}")))
    }

    /// The run's whole config as TOML (defaults and the address's overrides filled in): the
    /// `--config` for `mnist-burn import` of the downloaded model.
    pub fn config_toml(&self) -> String {
        self.config.to_toml()
    }

    /// serve's `/predict` answer for MNIST-style pixels, from the model as it stands.
    async fn answer(&self, pixels: &[u8; mnist_data::IMAGE_PIXELS]) -> Result<String, JsError> {
        let prediction = self
            .on_cpu()
            .await?
            .predict_pixels(&self.config.data, pixels);
        Ok(serde_json::json!({
            "class": prediction.class,
            "probabilities": prediction.probabilities,
            "input": prediction.seen.to_vec(),
            "contributions": prediction.contributions,
            "bias": prediction.bias,
        })
        .to_string())
    }

    /// The model as it stands, on the CPU (its parameters read back asynchronously, as WebGPU
    /// requires), for the questions that read it as a whole.
    async fn on_cpu(&self) -> Result<LogisticRegression, JsError> {
        let model = self.model.as_ref().expect("a model between steps").valid();
        let read = |error| JsError::new(&format!("cannot read the model: {error:?}"));
        let weights = model.weights().into_data_async().await.map_err(read)?;
        let bias = model.bias().into_data_async().await.map_err(read)?;
        Ok(model.with_parameters(weights, bias, &Device::flex()))
    }

    /// The mean loss and accuracy of `model` on a split, in the config's test batches.
    async fn evaluate(
        &self,
        model: &LogisticRegression,
        (batcher, len): &(MnistBatcher, usize),
    ) -> Result<(f64, f64), JsError> {
        let mut tally = Tally::default();
        let indices: Vec<usize> = (0..*len).collect();
        for chunk in indices.chunks(self.config.data.test_batch_size) {
            let (images, labels) = batcher.host_batch(chunk);
            let batch = MnistBatcher::upload(images, labels, &model.weights().device());
            let (output, loss) = model.forward_loss(batch.images, batch.targets.clone());
            tally.add(loss, output, batch.targets);
        }
        tally.read().await?;
        Ok(tally.means())
    }
}
