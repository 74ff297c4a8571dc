//! One background thread building the training batches, handed over several at a time.
//!
//! Burn's `MultiThreadDataLoader` sends each batch through a `sync_channel(100)`. Its worker
//! builds a batch faster than a step trains on one, so the queue stays full and the worker
//! waits in `send`: every `recv` on the training thread then wakes it, a futex system call
//! each step (6% of the training thread's time under `perf` on the seed config, on a 2-core
//! VM where a wake-up is an inter-processor interrupt). [`SlabLoader`] runs Burn's own
//! single-thread loader on one worker thread and sends its batches a slab of
//! [`SLAB_IMAGES`] images at a time, so the threads meet once a slab. The batches, their order
//! and their progress are the loader's, so no number moves. The worker lives as long as the
//! loader (as Burn's does), so a GPU backend's worker keeps one stream across epochs.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::prelude::Device;

/// Images a slab holds (at least one batch): a few hundred microseconds of training.
const SLAB_IMAGES: usize = 1024;
/// Slabs built ahead of the one being trained on.
const SLABS_AHEAD: usize = 1;

/// Batches with the loader's progress after each.
type Slab<O> = Vec<(O, Progress)>;

/// What the worker sends in an epoch: slabs, then a failure if the dataset failed. The
/// epoch ends when the worker drops its sender.
enum Message<O> {
    Slab(Slab<O>),
    Failed(DatasetError),
}

/// A single-thread Burn loader run on a worker thread, handed over in slabs.
pub struct SlabLoader<O> {
    inner: Arc<dyn DataLoader<O>>,
    batches_per_slab: usize,
    worker: OnceLock<Worker<O>>,
}

impl<O: Send + 'static> SlabLoader<O> {
    /// `inner` (a loader that builds its batches where it is iterated) of batches of
    /// `batch_size` images, on a worker thread started at the first epoch.
    pub fn around(inner: Arc<dyn DataLoader<O>>, batch_size: usize) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            inner,
            batches_per_slab: (SLAB_IMAGES / batch_size.max(1)).max(1),
            worker: OnceLock::new(),
        })
    }

    /// This loader's slabs around `inner`, with a worker of its own.
    fn around_another(&self, inner: Arc<dyn DataLoader<O>>) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            inner,
            batches_per_slab: self.batches_per_slab,
            worker: OnceLock::new(),
        })
    }

    fn worker(&self) -> &Worker<O> {
        self.worker
            .get_or_init(|| Worker::start(self.inner.clone(), self.batches_per_slab))
    }
}

impl<O: Send + 'static> DataLoader<O> for SlabLoader<O> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        let (sender, receiver) = mpsc::sync_channel(SLABS_AHEAD);
        let epochs = self.worker().epochs.lock().expect("worker lock");
        let started = epochs
            .as_ref()
            .is_some_and(|epochs| epochs.send(sender).is_ok());
        drop(epochs);
        Box::new(SlabIterator {
            // A worker that is gone (it panicked) ends the epoch at once: nothing to train on.
            receiver: started.then_some(receiver),
            slab: Vec::new().into_iter(),
            progress: Progress::new(0, self.num_items(), Some("items".into())),
        })
    }

    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        self.around_another(self.inner.to_device(device))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<O>> {
        self.around_another(self.inner.slice(start, end))
    }
}

/// The thread that iterates the inner loader, one epoch per sender it is given.
struct Worker<O> {
    /// Taken when the loader is dropped, which ends the worker's loop.
    epochs: Mutex<Option<Sender<SyncSender<Message<O>>>>>,
    thread: Option<JoinHandle<()>>,
}

impl<O: Send + 'static> Worker<O> {
    fn start(inner: Arc<dyn DataLoader<O>>, batches_per_slab: usize) -> Self {
        let (epochs, requests) = mpsc::channel::<SyncSender<Message<O>>>();
        let thread = std::thread::Builder::new()
            .name("dataloader-slabs".into())
            .spawn(move || {
                while let Ok(sender) = requests.recv() {
                    send_epoch(inner.as_ref(), batches_per_slab, &sender);
                }
            })
            .expect("the loader's worker thread starts");
        Self {
            epochs: Mutex::new(Some(epochs)),
            thread: Some(thread),
        }
    }
}

impl<O> Drop for Worker<O> {
    fn drop(&mut self) {
        drop(self.epochs.get_mut().map(Option::take));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One epoch of `inner` into `sender`, a slab at a time; stops early when the receiver is
/// gone (the training stopped).
fn send_epoch<O>(
    inner: &dyn DataLoader<O>,
    batches_per_slab: usize,
    sender: &SyncSender<Message<O>>,
) {
    let mut iterator = inner.iter();
    let mut slab = Vec::with_capacity(batches_per_slab);
    loop {
        match iterator.next() {
            Some(Ok(batch)) => {
                slab.push((batch, iterator.progress()));
                if slab.len() < batches_per_slab {
                    continue;
                }
                let full = std::mem::replace(&mut slab, Vec::with_capacity(batches_per_slab));
                if sender.send(Message::Slab(full)).is_err() {
                    return;
                }
            }
            Some(Err(error)) => {
                // The batches before the failure first, in order.
                if sender.send(Message::Slab(slab)).is_ok() {
                    let _ = sender.send(Message::Failed(error));
                }
                return;
            }
            None => {
                if !slab.is_empty() {
                    let _ = sender.send(Message::Slab(slab));
                }
                return;
            }
        }
    }
}

/// An epoch's batches as the training thread takes them.
struct SlabIterator<O> {
    receiver: Option<Receiver<Message<O>>>,
    slab: std::vec::IntoIter<(O, Progress)>,
    progress: Progress,
}

impl<O> Iterator for SlabIterator<O> {
    type Item = Result<O, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((batch, progress)) = self.slab.next() {
                self.progress = progress;
                return Some(Ok(batch));
            }
            match self.receiver.as_ref()?.recv() {
                Ok(Message::Slab(slab)) => self.slab = slab.into_iter(),
                Ok(Message::Failed(error)) => {
                    self.receiver = None;
                    return Some(Err(error));
                }
                // The worker dropped its sender: the epoch is over.
                Err(_) => {
                    self.receiver = None;
                    return None;
                }
            }
        }
    }
}

impl<O> DataLoaderIterator<O> for SlabIterator<O> {
    fn progress(&self) -> Progress {
        self.progress.clone()
    }
}

#[cfg(test)]
mod tests {
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataloader::batcher::Batcher;
    use burn::data::dataset::Dataset;

    use super::*;

    /// Positions `0..len`, failing at `fail_at`.
    struct Positions {
        len: usize,
        fail_at: Option<usize>,
    }

    impl Dataset<usize> for Positions {
        fn get(&self, index: usize) -> Result<usize, DatasetError> {
            match self.fail_at {
                Some(at) if at == index => Err(DatasetError::new(std::io::Error::other(format!(
                    "position {index} is unreadable"
                )))),
                _ => Ok(index),
            }
        }

        fn len(&self) -> usize {
            self.len
        }
    }

    struct Gather;

    impl Batcher<usize, Vec<usize>> for Gather {
        fn batch(&self, items: Vec<usize>, _device: &Device) -> Vec<usize> {
            items
        }
    }

    fn loader(len: usize, fail_at: Option<usize>, batch: usize) -> Arc<dyn DataLoader<Vec<usize>>> {
        DataLoaderBuilder::new(Gather)
            .batch_size(batch)
            .build(Positions { len, fail_at })
    }

    /// Every item of an epoch, with the progress after it (errors as their text).
    fn epoch(
        loader: &dyn DataLoader<Vec<usize>>,
    ) -> Vec<(Result<Vec<usize>, String>, usize, usize)> {
        let mut iterator = loader.iter();
        let mut items = Vec::new();
        while let Some(item) = iterator.next() {
            let progress = iterator.progress();
            let item = item.map_err(|error| error.to_string());
            items.push((item, progress.items_processed, progress.items_total));
        }
        items
    }

    #[test]
    fn slabs_bring_the_inner_loaders_batches_and_progress_epoch_after_epoch() {
        // 100 batches of 32 and a short one: three full slabs and a partial one.
        let len = 100 * 32 + 7;
        let inner = loader(len, None, 32);
        let slabs = SlabLoader::around(inner.clone(), 32);
        let expected = epoch(inner.as_ref());
        assert_eq!(expected.len(), 101);
        for _ in 0..3 {
            assert_eq!(epoch(slabs.as_ref()), expected);
        }
        // A batch bigger than a slab is a slab of its own.
        let large = loader(5000, None, 2048);
        assert_eq!(
            epoch(SlabLoader::around(large.clone(), 2048).as_ref()),
            epoch(large.as_ref())
        );
    }

    #[test]
    fn an_epoch_left_early_does_not_hold_up_the_next() {
        let slabs = SlabLoader::around(loader(10_000, None, 32), 32);
        let mut first = slabs.iter();
        assert_eq!(first.next().unwrap().unwrap(), (0..32).collect::<Vec<_>>());
        drop(first);
        assert_eq!(epoch(slabs.as_ref()).len(), 10_000usize.div_ceil(32));
    }

    #[test]
    fn a_failing_item_ends_the_epoch_after_the_batches_before_it() {
        let slabs = SlabLoader::around(loader(3200, Some(2000), 32), 32);
        let items = epoch(slabs.as_ref());
        let failed = 2000 / 32;
        assert_eq!(items.len(), failed + 1);
        assert!(items[..failed].iter().all(|(item, ..)| item.is_ok()));
        let (error, ..) = &items[failed];
        assert_eq!(error.as_ref().unwrap_err(), "position 2000 is unreadable");
    }
}
