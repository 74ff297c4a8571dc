//! How every file of a run (or an export) is written: to a temporary name beside its
//! destination, then renamed into place, so a crash or a full disk never leaves half of one.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// A file of a run (or an export) that could not be written: its path, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write", path.display())]
pub struct WriteError {
    path: PathBuf,
    #[source]
    cause: io::Error,
}

/// A folder for a command's files that could not be created: its path, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot create", path.display())]
pub struct CreateError {
    path: PathBuf,
    #[source]
    cause: io::Error,
}

/// Creates `folder` and its parents, where a command writes its files.
pub fn create_folder(folder: &Path) -> Result<(), CreateError> {
    std::fs::create_dir_all(folder).map_err(|cause| CreateError {
        path: folder.to_path_buf(),
        cause,
    })
}

/// [`write_atomic`], with the path in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic(path, bytes).map_err(|cause| WriteError {
        path: path.to_path_buf(),
        cause,
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut staged = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(folder)?;
    staged.write_all(bytes)?;
    staged.as_file().sync_all()?;
    staged.persist(path).map_err(|error| error.error)?;
    Ok(())
}
