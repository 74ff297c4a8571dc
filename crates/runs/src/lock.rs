//! One process writes a run folder (or a sweep folder) at a time. The writer holds the
//! kernel's advisory lock on the folder's `.lock` file for as long as it lives: the kernel
//! releases it when the process ends, however it ends (a SIGKILL leaves no stale lock), and
//! readers (`runs`, `serve`, `eval`) never take it, so they are never blocked.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file inside a locked folder; it holds the writer's process id.
pub const LOCK_FILE: &str = ".lock";

/// A folder this process has locked for writing; the lock goes with the value.
#[derive(Debug)]
pub struct FolderLock {
    dir: PathBuf,
    _file: File,
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{}: another process{} is writing this folder; wait for it to end, or stop it first",
        dir.display(),
        holder.map_or(String::new(), |pid| format!(" (pid {pid})"))
    )]
    Held { dir: PathBuf, holder: Option<u32> },
    #[error("{}: cannot lock: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
}

impl FolderLock {
    /// Locks the existing folder `dir`, or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |cause| LockError::Io {
            path: path.clone(),
            cause,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    holder: holder(&mut file),
                });
            }
            Err(TryLockError::Error(cause)) => return Err(io_error(cause)),
        }
        // The holder's id is for a person reading a refusal; a failure to record it changes
        // nothing about the lock.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()));
        Ok(Self {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// The process writing `dir` (its id, when it wrote it), if any. Asked with a shared lock
/// taken and dropped at once, so checking keeps no writer out for longer than that.
pub fn writer_of(dir: &Path) -> Option<Option<u32>> {
    let mut file = File::open(dir.join(LOCK_FILE)).ok()?;
    match file.try_lock_shared() {
        Err(TryLockError::WouldBlock) => Some(holder(&mut file)),
        _ => None,
    }
}

/// The process id a lock's holder wrote into it (a short file; anything else is `None`).
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Whether `dir` holds nothing but (perhaps) a lock file.
pub fn is_empty_but_lock(dir: &Path) -> io::Result<bool> {
    Ok(fs::read_dir(dir)?
        .filter_map(Result::ok)
        .all(|entry| entry.file_name() == LOCK_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_is_refused_with_the_holders_pid_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path()).unwrap();
        let refused = FolderLock::acquire(dir.path()).unwrap_err();
        match &refused {
            LockError::Held { holder, .. } => assert_eq!(*holder, Some(std::process::id())),
            other => panic!("{other}"),
        }
        let message = refused.to_string();
        assert!(
            message.contains(&format!("(pid {})", std::process::id())),
            "{message}"
        );
        assert_eq!(writer_of(dir.path()), Some(Some(std::process::id())));
        drop(first);
        assert_eq!(writer_of(dir.path()), None);
        FolderLock::acquire(dir.path()).expect("free once the first is dropped");
        assert!(is_empty_but_lock(dir.path()).unwrap());
    }
}
