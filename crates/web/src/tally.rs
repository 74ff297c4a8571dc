//! Loss and accuracy summed over a pass as Burn's `LossMetric` and `AccuracyMetric` (and the
//! native run's device metrics) sum them, so the epoch's numbers are the native run's to the
//! bit: each batch's mean loss counts once (its tensor has one element), each batch's
//! accuracy by its size.

use burn::prelude::*;
use mnist_model::correct_predictions;
use wasm_bindgen::JsError;

/// The sums so far, and the batches whose numbers are still on the device: they are read
/// back together, once per call from the page, because on WebGPU every read waits for the
/// GPU (and cannot block).
#[derive(Default)]
pub struct Tally {
    pub loss: f64,
    pub batches: usize,
    pub accuracy: f64,
    pub items: usize,
    unread: Vec<(Tensor<1>, usize)>,
}

impl Tally {
    /// Adds a batch: its mean loss and the count of correct predictions, read later.
    pub fn add(&mut self, loss: Tensor<1>, output: Tensor<2>, targets: Tensor<1, Int>) {
        let [batch, _] = output.dims();
        let matches = correct_predictions(output, targets);
        self.unread
            .push((Tensor::cat(vec![loss.detach(), matches], 0), batch));
    }

    /// Reads the batches added since the last read, in one transfer, into the sums.
    pub async fn read(&mut self) -> Result<(), JsError> {
        if self.unread.is_empty() {
            return Ok(());
        }
        let (numbers, sizes): (Vec<_>, Vec<_>) = self.unread.drain(..).unzip();
        let read: Vec<f64> = Tensor::cat(numbers, 0)
            .into_data_async()
            .await
            .map_err(|error| JsError::new(&format!("cannot read the metrics: {error:?}")))?
            .iter::<f64>()
            .collect();
        for (batch, size) in read.chunks(2).zip(sizes) {
            self.loss += batch[0];
            self.batches += 1;
            self.accuracy += 100.0 * (batch[1] / size as f64) * size as f64;
            self.items += size;
        }
        Ok(())
    }

    /// The pass's mean loss and accuracy (of what has been read).
    pub fn means(&self) -> (f64, f64) {
        (
            self.loss / self.batches as f64,
            self.accuracy / self.items as f64,
        )
    }
}
