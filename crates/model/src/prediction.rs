//! One picture classified, and why, and the weights as pictures: what `predict`, `serve`'s
//! Draw view and the browser's page show.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use mnist_data::{DataConfig, IMAGE_PIXELS};

use crate::LogisticRegression;

/// What the model says about one picture.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub class: usize,
    pub probabilities: Vec<f32>,
    /// The picture the model was given: the one asked about, deskewed if the run deskews.
    pub seen: [u8; IMAGE_PIXELS],
    /// Each scaled pixel times its weight for `class`: with `bias`, the class's score (before
    /// the output activation). The heat map of what pushed the model to its answer.
    pub contributions: Vec<f32>,
    pub bias: f32,
}

impl LogisticRegression {
    /// Class probabilities for one MNIST-style picture (784 pixels, light ink on black),
    /// prepared first as `data` prepares the training images (deskewed if it deskews).
    pub fn predict_pixels(&self, data: &DataConfig, pixels: &[u8]) -> Prediction {
        let device = self.weights().device();
        let seen = data.prepare(pixels);
        let scaling = data.scaling();
        let input = scaling.tensor(std::iter::once(&seen[..]), &device);
        let probabilities = floats(softmax(self.forward(input), 1));
        let class = probabilities
            .iter()
            .enumerate()
            .fold(
                0,
                |best, (class, &p)| if p > probabilities[best] { class } else { best },
            );
        let weights = floats(self.weights().slice([0..IMAGE_PIXELS, class..class + 1]));
        Prediction {
            class,
            contributions: seen
                .iter()
                .zip(weights)
                .map(|(&pixel, weight)| scaling.scale(pixel) * weight)
                .collect(),
            bias: floats(self.bias().slice(class..class + 1))[0],
            probabilities,
            seen,
        }
    }
}

impl LogisticRegression {
    /// Each class's weights as a 28x28 template (row-major): what the model looks for.
    pub fn templates(&self) -> Vec<Vec<f32>> {
        floats(self.weights().transpose())
            .chunks(IMAGE_PIXELS)
            .map(<[f32]>::to_vec)
            .collect()
    }
}

pub(crate) fn floats<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("a float tensor reads as floats")
}
