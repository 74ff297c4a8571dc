//! `[environment]` of run.toml: the facts a run needs to be reproduced or compared (this
//! program's build, Burn's version, the backend and machine, the data files and the config).

use serde::{Deserialize, Serialize};

/// `[environment]` of run.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub package: String,
    pub version: String,
    /// The commit the binary was built from, and whether the tree had uncommitted changes.
    pub git_commit: String,
    pub git_dirty: String,
    pub burn: String,
    /// The backends compiled into the binary.
    pub backends_compiled: Vec<String>,
    pub backend: String,
    pub device: String,
    pub cpu: String,
    pub threads: usize,
    pub os: String,
    /// SHA-256 of the config as the run recorded it (config.toml).
    pub config_sha256: String,
    /// Each data file read, with its SHA-256 (MNIST's are checked against these on load).
    pub data_files: Vec<DataFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    pub name: String,
    pub sha256: String,
}
