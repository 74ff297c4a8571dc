//! The model in PyTorch's layout and names, as a safetensors file: what `torch`'s
//! `load_state_dict` takes for the tutorial's `LogisticRegression` (`linear.weight` `[10, 784]`,
//! `linear.bias` `[10]`). One writer for `mnist-burn export` and the browser's download.

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore, SafetensorsStoreError};

use crate::LogisticRegression;

impl LogisticRegression {
    /// The safetensors bytes through burn-store's PyTorch adapter (which transposes the
    /// linear weight), with `metadata` in the header.
    pub fn to_pytorch_safetensors(
        &self,
        metadata: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<u8>, SafetensorsStoreError> {
        let mut store = metadata.into_iter().fold(
            SafetensorsStore::from_bytes(None).with_to_adapter(BurnToPyTorchAdapter),
            |store, (key, value)| store.metadata(key, value),
        );
        self.save_into(&mut store)?;
        store.get_bytes()
    }
}
