//! The test images a model gets wrong, most confident mistakes first: what a person looks
//! at to see what the model has not learned (and, now and then, a mislabelled digit).

use mnist_data::{ImageSet, NUM_CLASSES};
use serde::Serialize;

/// Mistakes kept in `eval.json` and drawn in `misclassified.png`.
pub const SHOWN: usize = 32;

/// One image the model classified wrongly.
#[derive(Debug, Clone, Serialize)]
pub struct Mistake {
    /// Its index in the test split.
    pub index: usize,
    pub label: usize,
    pub predicted: usize,
    /// The probability the model gave the wrong class.
    pub probability: f32,
    /// The 784 pixels the model saw.
    pub pixels: Vec<u8>,
}

/// The `SHOWN` most confident mistakes among `images`, given each image's class
/// probabilities (rows of [`NUM_CLASSES`]) and predicted class.
pub fn most_confident(
    images: &ImageSet,
    probabilities: &[f32],
    predictions: &[usize],
) -> Vec<Mistake> {
    let mut mistakes: Vec<Mistake> = predictions
        .iter()
        .enumerate()
        .filter(|&(index, &predicted)| usize::from(images.label(index)) != predicted)
        .map(|(index, &predicted)| Mistake {
            index,
            label: usize::from(images.label(index)),
            predicted,
            probability: probabilities[index * NUM_CLASSES + predicted],
            pixels: Vec::new(),
        })
        .collect();
    mistakes.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.index.cmp(&b.index))
    });
    mistakes.truncate(SHOWN);
    for mistake in &mut mistakes {
        mistake.pixels = images.image(mistake.index).to_vec();
    }
    mistakes
}

/// The caption over a mistake in the picture: `true → predicted 97%` (the image's index is
/// in `eval.json`, in the same order).
pub fn caption(mistake: &Mistake, class_names: &[&str]) -> String {
    format!(
        "{} → {} {:.0}%",
        class_names[mistake.label],
        class_names[mistake.predicted],
        100.0 * mistake.probability
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mnist_data::{DatasetKind, Split};

    #[test]
    fn mistakes_are_the_wrong_ones_most_confident_first() {
        let images = ImageSet::load(DatasetKind::Mnist, Split::Test)
            .unwrap()
            .truncated(Some(50));
        // Every image predicted as (label + 1) % 10, with a confidence that grows with the index.
        let predictions: Vec<usize> = (0..50)
            .map(|index| (usize::from(images.label(index)) + usize::from(index % 5 != 0)) % 10)
            .collect();
        let mut probabilities = vec![0.0; 50 * NUM_CLASSES];
        for (index, &predicted) in predictions.iter().enumerate() {
            probabilities[index * NUM_CLASSES + predicted] = index as f32 / 50.0;
        }
        let mistakes = most_confident(&images, &probabilities, &predictions);
        assert_eq!(mistakes.len(), SHOWN);
        assert!(
            mistakes
                .iter()
                .all(|m| m.index % 5 != 0 && m.label != m.predicted)
        );
        assert_eq!(mistakes[0].index, 49);
        assert!(
            mistakes
                .windows(2)
                .all(|pair| pair[0].probability >= pair[1].probability)
        );
        assert_eq!(mistakes[0].pixels, images.image(49));
    }
}
