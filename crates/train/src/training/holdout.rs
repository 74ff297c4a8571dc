//! One evaluation loader over two splits: Burn's `Learner` evaluates a single loader each
//! epoch, so with a validation split this yields every validation batch and then every test
//! batch, and reports progress over both. A metric tells the splits apart by the progress that
//! travels with each item ([`crate::training::device_metrics::Part`]): the first `validation` items are
//! the validation split's.

use std::sync::Arc;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::prelude::Device;

/// The validation loader, then the test loader.
pub struct Chained<O> {
    pub validation: Arc<dyn DataLoader<O>>,
    pub test: Arc<dyn DataLoader<O>>,
}

impl<O: Send + 'static> DataLoader<O> for Chained<O> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        Box::new(ChainedIterator {
            validation: Some(self.validation.iter()),
            test: self.test.iter(),
            validation_items: self.validation.num_items(),
            total: self.num_items(),
        })
    }

    fn num_items(&self) -> usize {
        self.validation.num_items() + self.test.num_items()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            validation: self.validation.to_device(device),
            test: self.test.to_device(device),
        })
    }

    /// Burn slices evaluation loaders only to share them among devices, which it does not
    /// do for evaluation; a slice here keeps both splits whole rather than cut one of them.
    fn slice(&self, _start: usize, _end: usize) -> Arc<dyn DataLoader<O>> {
        Arc::new(Self {
            validation: self.validation.clone(),
            test: self.test.clone(),
        })
    }
}

struct ChainedIterator<'a, O> {
    validation: Option<Box<dyn DataLoaderIterator<O> + 'a>>,
    test: Box<dyn DataLoaderIterator<O> + 'a>,
    validation_items: usize,
    total: usize,
}

impl<O> Iterator for ChainedIterator<'_, O> {
    type Item = Result<O, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(validation) = &mut self.validation {
            match validation.next() {
                Some(item) => return Some(item),
                None => self.validation = None,
            }
        }
        self.test.next()
    }
}

impl<O> DataLoaderIterator<O> for ChainedIterator<'_, O> {
    fn progress(&self) -> Progress {
        let processed = match &self.validation {
            Some(validation) => validation.progress().items_processed,
            None => self.validation_items + self.test.progress().items_processed,
        };
        Progress::new(processed, self.total, Some("items".to_string()))
    }
}
