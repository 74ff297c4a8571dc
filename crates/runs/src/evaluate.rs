//! A trained model's results on a labelled split: accuracy, per-class precision and recall,
//! the confusion matrix, the most confident mistakes, and the files `eval` writes of them.

use std::fmt::Write as _;
use std::path::Path;

use burn::prelude::*;
use mnist_data::{ImageSet, NUM_CLASSES};
use serde::Serialize;

use crate::calibration::{self, Confidence, Reliability};
use crate::mistakes::{self, Mistake};
use crate::trained::{self, TrainedModel};

/// The picture of the most confident mistakes `eval` writes.
pub const MISCLASSIFIED_FILE: &str = "misclassified.png";
/// Confidence against accuracy, drawn by `eval`.
pub const RELIABILITY_FILE: &str = "reliability.png";

impl TrainedModel {
    /// This model's results on `images` (prepared as the model's data, see
    /// [`mnist_data::DataConfig::images`]): accuracy, per-class
    /// report, confusion and the most confident mistakes.
    pub fn evaluate(&self, images: &ImageSet, device: &Device) -> Evaluation {
        // One forward pass: each chunk's scores give both the classes and the probabilities.
        let mut predictions = Vec::with_capacity(images.len());
        let mut probabilities = Vec::with_capacity(images.len() * NUM_CLASSES);
        self.for_each_chunk(images, device, |_, scores| {
            predictions.extend(classes(scores.clone()));
            probabilities.extend(trained::probabilities(scores));
        });
        let mut evaluation = Evaluation::new(images, &predictions);
        evaluation.mistakes = mistakes::most_confident(images, &probabilities, &predictions);
        evaluation.calibration = Reliability::of(&self.scored(&probabilities, images));
        evaluation
    }

    /// The confidence above which this model's answers on `images` (the validation split)
    /// are right often enough to stand alone.
    pub fn confidence_on(&self, images: &ImageSet, device: &Device) -> Option<Confidence> {
        let mut probabilities = Vec::with_capacity(images.len() * NUM_CLASSES);
        self.for_each_chunk(images, device, |_, scores| {
            probabilities.extend(trained::probabilities(scores));
        });
        Confidence::choose(&self.scored(&probabilities, images))
    }

    fn scored(&self, probabilities: &[f32], images: &ImageSet) -> Vec<calibration::Scored> {
        calibration::scored(probabilities, self.config.model.n_outputs, images.labels())
    }

    /// The class probabilities of every image in `images`, as rows of the CSV that
    /// `eval --probabilities` writes (`index,<class names>`).
    pub fn probabilities_csv(&self, images: &ImageSet, device: &Device) -> String {
        let mut csv = format!("index,{}\n", self.dataset().class_names().join(","));
        self.for_each_chunk(images, device, |indices, scores| {
            let probabilities = trained::probabilities(scores);
            for (index, row) in indices.zip(probabilities.chunks(NUM_CLASSES)) {
                let cells: Vec<String> = row.iter().map(|p| format!("{p:e}")).collect();
                writeln!(csv, "{index},{}", cells.join(",")).ok();
            }
        });
        csv
    }
}

/// The highest-scoring class of each row of `[rows, classes]` scores.
fn classes(scores: Tensor<2>) -> Vec<usize> {
    let classes: Vec<i64> = scores
        .argmax(1)
        .flatten::<1>(0, 1)
        .into_data()
        .convert::<i64>()
        .try_to_vec()
        .expect("argmax yields integers");
    classes.into_iter().map(|class| class as usize).collect()
}

/// A model's results on a labelled split.
///
/// Counted here rather than with Burn's `PrecisionMetric`/`RecallMetric`: those are running
/// training metrics fed batch tensors through the `Learner`'s metric machinery and give one
/// averaged number each, while `eval` needs the whole confusion matrix (per-class rows, the
/// most confused pairs, the CSV and the picture), which is ten lines of counting over the
/// predictions it already has.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub dataset: &'static str,
    pub images: usize,
    /// Percent.
    pub accuracy: f64,
    pub classes: Vec<ClassReport>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// The largest off-diagonal cells, largest first.
    pub most_confused: Vec<Confusion>,
    /// The most confident mistakes, drawn in `misclassified.png`.
    pub mistakes: Vec<Mistake>,
    /// Confidence against accuracy, drawn in `reliability.png`.
    pub calibration: Reliability,
    /// (label, predicted class) of every image, in order; written as `predictions.csv`.
    #[serde(skip)]
    pub predictions: Vec<(u8, usize)>,
}

/// Precision and recall of one class, in percent.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub class: String,
    pub count: usize,
    pub precision: f64,
    pub recall: f64,
}

/// How often images of one class were taken for another.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    pub truth: String,
    pub predicted: String,
    pub count: usize,
}

impl Evaluation {
    /// Compares `predictions` with the labels of `images`.
    pub fn new(images: &ImageSet, predictions: &[usize]) -> Self {
        let names = images.kind().class_names();
        let mut confusion = vec![vec![0; NUM_CLASSES]; NUM_CLASSES];
        for (&label, &predicted) in images.labels().iter().zip(predictions) {
            confusion[usize::from(label)][predicted] += 1;
        }
        let percent = |part: usize, whole: usize| match whole {
            0 => 0.0,
            _ => 100.0 * part as f64 / whole as f64,
        };
        let correct: usize = (0..NUM_CLASSES).map(|class| confusion[class][class]).sum();
        let classes = (0..NUM_CLASSES)
            .map(|class| {
                let count = confusion[class].iter().sum();
                let predicted = confusion.iter().map(|row| row[class]).sum();
                ClassReport {
                    class: names[class].to_string(),
                    count,
                    precision: percent(confusion[class][class], predicted),
                    recall: percent(confusion[class][class], count),
                }
            })
            .collect();
        let mut most_confused: Vec<Confusion> = (0..NUM_CLASSES)
            .flat_map(|truth| (0..NUM_CLASSES).map(move |predicted| (truth, predicted)))
            .filter(|(truth, predicted)| truth != predicted)
            .map(|(truth, predicted)| Confusion {
                truth: names[truth].to_string(),
                predicted: names[predicted].to_string(),
                count: confusion[truth][predicted],
            })
            .filter(|confusion| confusion.count > 0)
            .collect();
        most_confused.sort_by_key(|confusion| std::cmp::Reverse(confusion.count));
        most_confused.truncate(5);
        Self {
            dataset: images.kind().name(),
            images: predictions.len(),
            accuracy: percent(correct, predictions.len()),
            classes,
            confusion,
            most_confused,
            mistakes: Vec::new(),
            calibration: Reliability::of(&[]),
            predictions: images
                .labels()
                .iter()
                .copied()
                .zip(predictions.iter().copied())
                .collect(),
        }
    }

    /// The report printed by `mnist-burn eval`.
    pub fn report(&self) -> String {
        let mut text = String::new();
        let width = self
            .classes
            .iter()
            .map(|c| c.class.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            text,
            "Test accuracy: {:.2}% on {} images",
            self.accuracy, self.images
        )
        .ok();
        writeln!(text, "\n{:<width$}  precision  recall   count", "class").ok();
        for class in &self.classes {
            writeln!(
                text,
                "{:<width$}  {:>8.2}%  {:>6.2}%  {:>6}",
                class.class, class.precision, class.recall, class.count
            )
            .ok();
        }
        writeln!(
            text,
            "\nConfusion matrix (rows: true class, columns: predicted):"
        )
        .ok();
        write!(text, "{:>width$}", "").ok();
        for class in &self.classes {
            write!(text, " {:>5.5}", class.class).ok();
        }
        writeln!(text).ok();
        for (class, row) in self.classes.iter().zip(&self.confusion) {
            write!(text, "{:>width$}", class.class).ok();
            for count in row {
                write!(text, " {count:>5}").ok();
            }
            writeln!(text).ok();
        }
        writeln!(text, "\nMost confused (true -> predicted):").ok();
        for confusion in &self.most_confused {
            writeln!(
                text,
                "  {} -> {}: {} images",
                confusion.truth, confusion.predicted, confusion.count
            )
            .ok();
        }
        writeln!(
            text,
            "\nExpected calibration error: {:.2}% (confidence against accuracy in {} bins; see \
             {RELIABILITY_FILE})",
            100.0 * self.calibration.expected_calibration_error,
            calibration::BINS
        )
        .ok();
        text
    }

    /// The confusion matrix as CSV, with class names as the header and first column.
    pub fn confusion_csv(&self) -> String {
        let mut csv = String::from("true\\predicted");
        for class in &self.classes {
            write!(csv, ",{}", class.class).ok();
        }
        csv.push('\n');
        for (class, row) in self.classes.iter().zip(&self.confusion) {
            csv.push_str(&class.class);
            for count in row {
                write!(csv, ",{count}").ok();
            }
            csv.push('\n');
        }
        csv
    }

    /// Writes `eval.json`, `confusion.csv`, `predictions.csv`, `confusion.png`,
    /// `reliability.png` and, when there are mistakes, `misclassified.png` into `out_dir`.
    pub fn write(&self, out_dir: &Path, title: &str) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("an evaluation serialises");
        let mut predictions = String::from("index,label,predicted\n");
        for (index, (label, predicted)) in self.predictions.iter().enumerate() {
            writeln!(predictions, "{index},{label},{predicted}").ok();
        }
        for (file, text) in [
            ("eval.json", json),
            ("confusion.csv", self.confusion_csv()),
            ("predictions.csv", predictions),
        ] {
            let path = out_dir.join(file);
            crate::files::write_file(&path, text.as_bytes())?;
        }
        crate::charts::reliability_diagram(
            &out_dir.join(RELIABILITY_FILE),
            "Reliability on the test split",
            &self.calibration,
        )?;
        let names: Vec<&str> = self.classes.iter().map(|c| c.class.as_str()).collect();
        crate::charts::confusion_matrix(
            &out_dir.join("confusion.png"),
            title,
            &self.confusion,
            &names,
        )?;
        if self.mistakes.is_empty() {
            return Ok(());
        }
        let shown: Vec<(&[u8], String)> = self
            .mistakes
            .iter()
            .map(|mistake| (&mistake.pixels[..], mistakes::caption(mistake, &names)))
            .collect();
        crate::charts::image_grid(
            &out_dir.join(MISCLASSIFIED_FILE),
            &format!(
                "The {} most confident of {} mistakes (true → predicted, probability)",
                shown.len(),
                self.predictions
                    .iter()
                    .filter(|(l, p)| usize::from(*l) != *p)
                    .count()
            ),
            &shown,
        )
    }
}
