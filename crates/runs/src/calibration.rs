//! How far a model's confidence can be trusted. On the validation split (never the test
//! split) a run finds the confidence above which its answers are right at least
//! [`TARGET_ACCURACY`] of the time: below it `predict` and the page give the two likeliest
//! classes instead of one. `eval` reports how well confidence matches accuracy on the test
//! split: the expected calibration error and a reliability diagram.

use serde::{Deserialize, Serialize};

/// How often an answer given alone must be right.
pub const TARGET_ACCURACY: f64 = 0.99;
/// Equal-width confidence bins of the reliability diagram (the usual 15).
pub const BINS: usize = 15;

/// One answer of the model: its confidence (the top probability) and whether it was right.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    pub confidence: f32,
    pub correct: bool,
}

/// The threshold a run records in `run.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// Answers at or above this confidence stand alone; below it, the runner-up is shown.
    pub confident_above: f64,
    /// The share of the validation split's answers at or above it.
    pub coverage: f64,
}

impl Confidence {
    /// The lowest confidence whose answers, with all the more confident ones, are right at
    /// least [`TARGET_ACCURACY`] of the time on `scored` (the validation split's answers):
    /// the most answers that can stand alone. `None` for no answers.
    pub fn choose(scored: &[Scored]) -> Option<Self> {
        let mut ranked: Vec<Scored> = scored.to_vec();
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let mut correct = 0usize;
        let mut chosen = None;
        for (index, answer) in ranked.iter().enumerate() {
            correct += usize::from(answer.correct);
            let answers = index + 1;
            let ties_follow = ranked
                .get(index + 1)
                .is_some_and(|next| next.confidence == answer.confidence);
            if !ties_follow && correct as f64 >= TARGET_ACCURACY * answers as f64 {
                chosen = Some((answer.confidence, answers));
            }
        }
        let (threshold, answers) = chosen.unwrap_or((f32::INFINITY, 0));
        (!ranked.is_empty()).then(|| Self {
            confident_above: f64::from(threshold.min(1.0)),
            coverage: answers as f64 / ranked.len() as f64,
        })
    }

    /// Whether an answer of `confidence` needs its runner-up beside it.
    pub fn is_unsure(&self, confidence: f32) -> bool {
        f64::from(confidence) < self.confident_above
    }
}

/// Confidence against accuracy, bin by bin.
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    pub bins: Vec<Bin>,
    /// The bins' gaps between accuracy and confidence, weighted by their share of answers.
    pub expected_calibration_error: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Share of right answers in the bin (0..1; 0 when empty).
    pub accuracy: f64,
    /// Mean confidence in the bin (0..1; the bin's middle when empty).
    pub confidence: f64,
}

impl Reliability {
    pub fn of(scored: &[Scored]) -> Self {
        let mut sums = vec![(0usize, 0usize, 0.0f64); BINS];
        for answer in scored {
            let confidence = f64::from(answer.confidence).clamp(0.0, 1.0);
            let bin = ((confidence * BINS as f64) as usize).min(BINS - 1);
            sums[bin].0 += 1;
            sums[bin].1 += usize::from(answer.correct);
            sums[bin].2 += confidence;
        }
        let total = scored.len().max(1) as f64;
        let bins: Vec<Bin> = sums
            .into_iter()
            .enumerate()
            .map(|(index, (count, correct, confidence))| {
                let lower = index as f64 / BINS as f64;
                let upper = (index + 1) as f64 / BINS as f64;
                let (accuracy, confidence) = match count {
                    0 => (0.0, (lower + upper) / 2.0),
                    n => (correct as f64 / n as f64, confidence / n as f64),
                };
                Bin {
                    lower,
                    upper,
                    count,
                    accuracy,
                    confidence,
                }
            })
            .collect();
        let expected_calibration_error = bins
            .iter()
            .map(|bin| bin.count as f64 / total * (bin.accuracy - bin.confidence).abs())
            .sum();
        Self {
            bins,
            expected_calibration_error,
        }
    }
}

/// The answers of rows of class probabilities against their labels.
pub fn scored(probabilities: &[f32], classes: usize, labels: &[u8]) -> Vec<Scored> {
    probabilities
        .chunks(classes)
        .zip(labels)
        .map(|(row, &label)| {
            let (best, confidence) = top_two(row)[0];
            Scored {
                confidence,
                correct: best == usize::from(label),
            }
        })
        .collect()
}

/// The two likeliest classes of a row of probabilities, the likeliest first.
pub fn top_two(probabilities: &[f32]) -> [(usize, f32); 2] {
    let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let second = ranked.get(1).copied().unwrap_or((0, 0.0));
    [ranked[0], second]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(list: &[(f32, bool)]) -> Vec<Scored> {
        list.iter()
            .map(|&(confidence, correct)| Scored {
                confidence,
                correct,
            })
            .collect()
    }

    /// 200 answers from 0.995 down to 0.005; every fifth below 0.5 is wrong, one at 0.9 is:
    /// the 99% line falls where the mistakes start to add up, worked out by hand below.
    #[test]
    fn the_threshold_keeps_the_most_answers_that_are_right_99_times_in_100() {
        let list: Vec<(f32, bool)> = (0..200)
            .map(|i| {
                let confidence = 0.995 - i as f32 * 0.005;
                let wrong = i == 20 || (confidence < 0.5 && i % 5 == 0);
                (confidence, !wrong)
            })
            .collect();
        let chosen = Confidence::choose(&answers(&list)).unwrap();
        // One mistake in the first 100 (at 0.895) keeps 99/100 right down to index 99
        // (confidence 0.5); the next mistake, index 100, would make it 99/101.
        assert!((chosen.confident_above - 0.5).abs() < 1e-6, "{chosen:?}");
        assert!((chosen.coverage - 0.5).abs() < 1e-9, "{chosen:?}");
        assert!(chosen.is_unsure(0.49) && !chosen.is_unsure(0.6));
    }

    #[test]
    fn a_model_that_is_never_right_enough_is_always_unsure() {
        let chosen = Confidence::choose(&answers(&[(0.9, false), (0.8, true)])).unwrap();
        assert_eq!(chosen.confident_above, 1.0);
        assert_eq!(chosen.coverage, 0.0);
        assert!(Confidence::choose(&[]).is_none());
    }

    #[test]
    fn a_perfectly_calibrated_set_has_no_calibration_error_and_an_overconfident_one_has() {
        // In bin [0.6, 0.667) ten answers at 0.65 with 6.5 right on average: 13 of 20.
        let mut list = vec![(0.65f32, true); 13];
        list.extend(vec![(0.65f32, false); 7]);
        let calibrated = Reliability::of(&answers(&list));
        assert!(calibrated.expected_calibration_error < 1e-6);
        assert_eq!(calibrated.bins.iter().map(|b| b.count).sum::<usize>(), 20);
        let overconfident = Reliability::of(&answers(&[(0.95, false), (0.95, true)]));
        assert!((overconfident.expected_calibration_error - 0.45).abs() < 1e-6);
    }

    #[test]
    fn the_runner_up_is_the_second_likeliest() {
        assert_eq!(top_two(&[0.1, 0.6, 0.3]), [(1, 0.6), (2, 0.3)]);
    }
}
