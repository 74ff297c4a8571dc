//! A second opinion on the numbers the binary reports: the weights of a model (exported to
//! safetensors, read here by hand) applied in f64 to the raw bytes of the IDX files, with the
//! loss and accuracy written out from their definitions.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{fashion_dir, output_within, real_mnist_dir, succeed};

/// Pixels in one image.
const PIXELS: usize = 784;
/// Classes.
const CLASSES: usize = 10;

/// The raw bytes of an MNIST file (e.g. `test/t10k-images-idx3-ubyte`) after its header: 16
/// bytes for images, 8 for labels.
pub fn raw_mnist(file: &str) -> Vec<u8> {
    let bytes = fs::read(real_mnist_dir().join(file)).unwrap();
    let header = if file.contains("images") { 16 } else { 8 };
    bytes[header..].to_vec()
}

/// Test images and labels of MNIST, raw, the first `limit`.
pub fn mnist_test(limit: usize) -> (Vec<u8>, Vec<u8>) {
    first("test/t10k", limit)
}

/// Training images and labels of MNIST, raw, the first `limit`.
pub fn mnist_train(limit: usize) -> (Vec<u8>, Vec<u8>) {
    first("train/train", limit)
}

/// The first `limit` images and labels of the split whose files start with `prefix`.
fn first(prefix: &str, limit: usize) -> (Vec<u8>, Vec<u8>) {
    let images = raw_mnist(&format!("{prefix}-images-idx3-ubyte"));
    let labels = raw_mnist(&format!("{prefix}-labels-idx1-ubyte"));
    (images[..limit * PIXELS].to_vec(), labels[..limit].to_vec())
}

/// Fashion-MNIST's test images and labels, raw, decompressed by `gzip` from Debian's files.
pub fn fashion_test() -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str, header: usize| {
        let mut command = Command::new("gzip");
        command.arg("-dc").arg(fashion_dir().join(name));
        let output = output_within(command, 60);
        assert!(output.status.success(), "gzip -dc {name}");
        output.stdout[header..].to_vec()
    };
    (
        read("t10k-images-idx3-ubyte.gz", 16),
        read("t10k-labels-idx1-ubyte.gz", 8),
    )
}

/// What a model makes of a set of images.
#[derive(Debug)]
pub struct Measured {
    /// Mean cross-entropy of the softmax of the outputs.
    pub loss: f64,
    /// Percent of images whose highest output is their label.
    pub accuracy: f64,
    /// Each image's highest output, and by how much it beats the second (a near tie may
    /// round the other way in f32).
    pub predicted: Vec<(usize, f64)>,
}

/// A logistic regression's parameters, `weight[class][pixel]` and `bias[class]`.
pub struct Weights {
    weight: Vec<f64>,
    bias: Vec<f64>,
}

impl Weights {
    /// Exports `model` (a run folder or a `.bpk` file, relative to `work`) with `mnist-burn
    /// export` and reads the safetensors file: an 8-byte little-endian header length, a JSON
    /// header, then the tensors' little-endian bytes.
    pub fn exported(work: &Path, model: &str) -> Self {
        let file = work.join(format!("{}.safetensors", model.replace('/', "-")));
        let out = file.to_str().unwrap();
        succeed(
            work,
            &["export", model, "--format", "safetensors", "--out", out],
        );
        let bytes = fs::read(&file).unwrap();
        let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + length]).unwrap();
        let data = &bytes[8 + length..];
        let tensor = |name: &str, shape: &[usize]| -> Vec<f64> {
            let entry = &header[name];
            assert_eq!(entry["dtype"], "F32", "{name}");
            assert_eq!(entry["shape"], serde_json::json!(shape), "{name}");
            let [start, end] = [0, 1].map(|i| entry["data_offsets"][i].as_u64().unwrap() as usize);
            data[start..end]
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
                .collect()
        };
        Self {
            weight: tensor("linear.weight", &[CLASSES, PIXELS]),
            bias: tensor("linear.bias", &[CLASSES]),
        }
    }

    /// The model's outputs for one image of raw pixels, scaled as `(p / 255 - mean) / std`,
    /// through the sigmoid if `sigmoid`.
    fn outputs(&self, pixels: &[u8], (mean, std): (f64, f64), sigmoid: bool) -> [f64; CLASSES] {
        let mut outputs = [0.0; CLASSES];
        for (class, output) in outputs.iter_mut().enumerate() {
            let row = &self.weight[class * PIXELS..(class + 1) * PIXELS];
            let z: f64 = self.bias[class]
                + row
                    .iter()
                    .zip(pixels)
                    .map(|(w, &p)| w * ((f64::from(p) / 255.0 - mean) / std))
                    .sum::<f64>();
            *output = if sigmoid { 1.0 / (1.0 + (-z).exp()) } else { z };
        }
        outputs
    }

    /// Loss, accuracy and predictions over `images` (784 raw bytes each) with `labels`.
    pub fn measure(
        &self,
        (images, labels): &(Vec<u8>, Vec<u8>),
        scaling: (f64, f64),
        sigmoid: bool,
    ) -> Measured {
        let (mut loss, mut correct, mut predicted) = (0.0, 0, Vec::new());
        for (pixels, &label) in images.chunks_exact(PIXELS).zip(labels) {
            let outputs = self.outputs(pixels, scaling, sigmoid);
            let top = outputs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = top + outputs.iter().map(|o| (o - top).exp()).sum::<f64>().ln();
            loss += log_sum - outputs[usize::from(label)];
            let best = (0..CLASSES)
                .max_by(|&a, &b| outputs[a].total_cmp(&outputs[b]))
                .unwrap();
            let second = (0..CLASSES)
                .filter(|&class| class != best)
                .map(|class| outputs[class])
                .fold(f64::NEG_INFINITY, f64::max);
            correct += usize::from(best == usize::from(label));
            predicted.push((best, outputs[best] - second));
        }
        Measured {
            loss: loss / labels.len() as f64,
            accuracy: 100.0 * correct as f64 / labels.len() as f64,
            predicted,
        }
    }
}

/// Asserts that `reported` (loss, accuracy in percent, from a run's files) is what `measured`
/// gives, to float rounding: the loss to 1e-4 relative, the accuracy to the images within a
/// near tie.
pub fn assert_reported(what: &str, reported: (f64, f64), measured: &Measured) {
    let (loss, accuracy) = reported;
    assert!(
        (loss - measured.loss).abs() <= 1e-4 * measured.loss.max(1.0),
        "{what}: loss {loss} reported, {} computed",
        measured.loss
    );
    let ties = measured.predicted.iter().filter(|(_, m)| *m < 1e-4).count();
    let tolerance = 100.0 * ties as f64 / measured.predicted.len() as f64 + 1e-3;
    assert!(
        (accuracy - measured.accuracy).abs() <= tolerance,
        "{what}: accuracy {accuracy}% reported, {}% computed",
        measured.accuracy
    );
}
