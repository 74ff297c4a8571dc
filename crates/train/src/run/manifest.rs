//! The facts a run needs to be reproduced or compared, gathered for `[environment]` in
//! run.toml: this program's build, Burn's version, the backend and machine, the data files and
//! the config.

use mnist_config::ExperimentConfig;
use mnist_runs::{DataFile, Environment};
use sha2::{Digest, Sha256};

use crate::backend::BackendKind;

/// The manifest of a run of `config` on `backend`'s `device`.
pub fn environment(config: &ExperimentConfig, backend: BackendKind, device: String) -> Environment {
    Environment {
        package: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("MNIST_BURN_GIT_COMMIT").into(),
        git_dirty: env!("MNIST_BURN_GIT_DIRTY").into(),
        burn: env!("MNIST_BURN_BURN_VERSION").into(),
        backends_compiled: BackendKind::compiled()
            .iter()
            .map(|kind| kind.name().to_string())
            .collect(),
        backend: backend.name().into(),
        device,
        cpu: cpu_model(),
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        os: os_name(),
        config_sha256: hex(&Sha256::digest(config.to_toml().as_bytes())),
        data_files: data_files(config),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The CPU's model name, from /proc/cpuinfo where there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The OS's own name (os-release's PRETTY_NAME), else Rust's.
fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|release| {
            release
                .lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string())
}

/// MNIST's four files with the digests they were verified against; Fashion-MNIST's hashed.
fn data_files(config: &ExperimentConfig) -> Vec<DataFile> {
    match config.data.dataset {
        mnist_data::DatasetKind::Mnist => mnist_data::provision::RAW_FILES
            .iter()
            .map(|file| DataFile {
                name: file.name.into(),
                sha256: file.sha256.into(),
            })
            .collect(),
        mnist_data::DatasetKind::FashionMnist => {
            let dir = mnist_data::fashion_dir();
            ["train-images", "train-labels", "t10k-images", "t10k-labels"]
                .iter()
                .map(|stem| {
                    let name = if stem.ends_with("images") {
                        format!("{stem}-idx3-ubyte.gz")
                    } else {
                        format!("{stem}-idx1-ubyte.gz")
                    };
                    let sha256 = std::fs::read(dir.join(&name))
                        .map_or("unreadable".into(), |bytes| hex(&Sha256::digest(&bytes)));
                    DataFile { name, sha256 }
                })
                .collect()
        }
    }
}
