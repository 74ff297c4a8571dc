//! The one place that maps a backend name to the cargo feature that compiles it in and to a
//! Burn `Device`; `backends.txt` beside this crate's `Cargo.toml` is the same table for the
//! justfile, checked against this one by a test below.

use std::fmt;
use std::str::FromStr;

use burn::prelude::{Device, Tensor};

/// A Burn backend this program can train on, if its cargo feature was enabled at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Burn's ndarray CPU backend (feature `ndarray`).
    Ndarray,
    /// Burn's newer pure-Rust CPU backend (feature `flex`).
    Flex,
    /// wgpu: Vulkan, Metal or DirectX GPUs (feature `wgpu`).
    Wgpu,
    /// Burn's own CUDA backend on the first NVIDIA GPU, through CubeCL (feature `cuda`).
    Cuda,
    /// libtorch on the CPU (feature `tch`).
    Tch,
    /// libtorch on the first CUDA GPU (feature `tch`, or its alias `tch-cuda`).
    TchCuda,
}

/// A backend was asked for that this binary was not built with.
#[derive(Debug, thiserror::Error)]
#[error(
    "backend `{requested}` is not compiled into this binary (it has: {available}); \
     build with `--features {feature}` or run `just train backend={requested}`"
)]
pub struct NotCompiled {
    requested: BackendKind,
    feature: &'static str,
    available: String,
}

impl BackendKind {
    /// Every backend, in the order a caller who did not choose would prefer them: flex first,
    /// measured 1.5x faster than ndarray on this workload (docs/performance.md).
    pub const ALL: [Self; 6] = [
        Self::Flex,
        Self::Ndarray,
        Self::Cuda,
        Self::Wgpu,
        Self::Tch,
        Self::TchCuda,
    ];

    /// The name used on the command line, in `just` and in the run record.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ndarray => "ndarray",
            Self::Flex => "flex",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
            Self::Tch => "tch",
            Self::TchCuda => "tch-cuda",
        }
    }

    /// What the backend is, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Ndarray => "Burn's ndarray CPU backend (feature `ndarray`)",
            Self::Flex => "Burn's newer pure-Rust CPU backend (feature `flex`)",
            Self::Wgpu => "wgpu: Vulkan, Metal or DirectX GPUs (feature `wgpu`)",
            Self::Cuda => "Burn's own CUDA backend on the first NVIDIA GPU (feature `cuda`)",
            Self::Tch => "libtorch on the CPU (feature `tch`)",
            Self::TchCuda => "libtorch on the first CUDA GPU (feature `tch`)",
        }
    }

    /// The cargo feature of the `mnist-train` crate that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Self::TchCuda => "tch",
            other => other.name(),
        }
    }

    /// Whether this binary was built with the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Flex => cfg!(feature = "flex"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Tch => cfg!(feature = "tch"),
            Self::TchCuda => cfg!(feature = "tch"),
        }
    }

    /// The backends compiled into this binary.
    pub fn compiled() -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|kind| kind.is_compiled())
            .collect()
    }

    /// The backend used when none is named: the first compiled one.
    pub fn preferred() -> Option<Self> {
        Self::compiled().into_iter().next()
    }

    /// The backend a command runs on: the one `named`, else the first compiled in.
    pub fn or_preferred(named: Option<Self>) -> anyhow::Result<Self> {
        match named {
            Some(backend) => Ok(backend),
            None => Self::preferred()
                .ok_or_else(|| anyhow::anyhow!("this binary was built without any backend")),
        }
    }

    /// The Burn device for this backend, or why it cannot be had.
    // Burn 0.22 deprecates ndarray and libtorch in favour of flex and CubeCL; both stay here
    // by the project's design (ndarray beside flex on the CPU, libtorch for CUDA through
    // PyTorch beside Burn's own `cuda`).
    #[allow(deprecated)]
    pub fn device(self) -> Result<Device, NotCompiled> {
        match self {
            #[cfg(feature = "ndarray")]
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "flex")]
            Self::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "tch")]
            Self::Tch => Ok(Device::libtorch()),
            #[cfg(feature = "tch")]
            Self::TchCuda => Ok(Device::libtorch_cuda(0)),
            #[allow(unreachable_patterns)]
            requested => Err(requested.not_compiled(&Self::compiled())),
        }
    }

    /// The error for this backend missing from a binary that has `compiled`.
    fn not_compiled(self, compiled: &[Self]) -> NotCompiled {
        NotCompiled {
            requested: self,
            feature: self.feature(),
            available: compiled
                .iter()
                .map(|kind| kind.name())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// A GPU backend was asked for on a machine where it finds no GPU.
#[derive(Debug, thiserror::Error)]
#[error("no {what} found for backend `{backend}` ({cause}); {instead}")]
pub struct Unavailable {
    backend: BackendKind,
    what: &'static str,
    cause: String,
    instead: &'static str,
}

impl BackendKind {
    /// Whether the backend computes away from the host (a GPU), so that reading a value back
    /// waits for its queue; on the CPU backends such a read costs nothing.
    pub fn is_device(self) -> bool {
        matches!(self, Self::Wgpu | Self::Cuda | Self::TchCuda)
    }

    /// Whether a second thread may compute on the backend beside training at no cost to it:
    /// Burn's Rust CPU backends run an op on the thread that calls it. libtorch gives every
    /// calling thread a team of OpenMP threads of its own, which then compete with training's
    /// for the cores (a seed epoch on tch took twice as long with evaluation batches built on
    /// a worker); a GPU's queue is best fed from one thread.
    pub fn shares_the_cpu_with_a_worker(self) -> bool {
        matches!(self, Self::Flex | Self::Ndarray)
    }

    /// [`device`](Self::device), checked to work: a GPU backend on a machine without a GPU
    /// is one line saying so and what to use instead, before anything is written.
    pub fn usable_device(self) -> anyhow::Result<Device> {
        let device = self.device()?;
        if !self.is_device() {
            return Ok(device);
        }
        // Without a driver the CUDA backends fail in a thread of their own, and the reason
        // that reaches this one is a closed channel: name the real one first. Where any file
        // of the driver is there, the backend's own error speaks.
        #[cfg(target_os = "linux")]
        if matches!(self, Self::Cuda | Self::TchCuda)
            && !nvidia_driver_present(std::path::Path::new("/"))
        {
            return Err(Unavailable {
                backend: self,
                what: "NVIDIA GPU",
                cause: format!(
                    "no NVIDIA driver: none of /{} exists",
                    NVIDIA_DRIVER_FILES.join(", /")
                ),
                instead: CUDA_INSTEAD,
            }
            .into());
        }
        let (what, instead) = match self {
            Self::Wgpu => (
                "GPU adapter",
                "install a Vulkan driver (`just vulkan`) or use --backend flex",
            ),
            _ => ("NVIDIA GPU", CUDA_INSTEAD),
        };
        probe(&device).map_err(|cause| Unavailable {
            backend: self,
            what,
            cause,
            instead,
        })?;
        Ok(device)
    }
}

/// What the NVIDIA driver leaves in a machine's file tree, from its root. Under gVisor's GPU
/// proxy only the device nodes (and /proc/driver/nvidia/params) exist, so any one will do.
#[cfg(any(target_os = "linux", test))]
const NVIDIA_DRIVER_FILES: [&str; 3] =
    ["dev/nvidiactl", "dev/nvidia0", "proc/driver/nvidia/version"];

/// Whether the file tree at `root` (`/` on a real machine) holds any of the driver's files.
#[cfg(any(target_os = "linux", test))]
fn nvidia_driver_present(root: &std::path::Path) -> bool {
    NVIDIA_DRIVER_FILES
        .iter()
        .any(|file| root.join(file).exists())
}

/// What to use instead of a CUDA backend that finds no GPU.
const CUDA_INSTEAD: &str = "use --backend wgpu on another GPU, or --backend flex on the CPU";

/// Puts one value on `device` and reads it back. The GPU backends panic when they find no
/// driver or adapter; the panic is caught (and its message kept, without the usual report).
fn probe(device: &Device) -> Result<(), String> {
    let device = device.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(move || {
        Tensor::<1>::from_floats([1.0], &device).into_data();
    });
    std::panic::set_hook(previous);
    outcome.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the backend failed to start");
        message
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    })
}

impl BackendKind {
    /// `count` devices of this backend for multi-device training: the GPUs 0..count, or the
    /// one CPU device as many times (one training thread each).
    #[allow(deprecated)]
    pub fn devices(self, first: &Device, count: usize) -> Vec<Device> {
        if count == 1 {
            return vec![first.clone()];
        }
        (0..count)
            .map(|index| match self {
                #[cfg(feature = "cuda")]
                Self::Cuda => Device::cuda(index),
                #[cfg(feature = "tch")]
                Self::TchCuda => Device::libtorch_cuda(index),
                #[cfg(feature = "wgpu")]
                Self::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)),
                // The CPU backends have one device; each thread trains on it.
                _ => {
                    let _ = index;
                    first.clone()
                }
            })
            .collect()
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend name that is none of [`BackendKind::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown backend `{0}` (flex, ndarray, wgpu, cuda, tch or tch-cuda)")]
pub struct UnknownBackend(String);

impl FromStr for BackendKind {
    type Err = UnknownBackend;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownBackend(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::exit_status;

    /// Whatever this build has, a binary without a backend names the cargo feature and the
    /// recipe that build it, lists what it has instead, and exits with status 2.
    /// The justfile's table (name, feature, installing recipe) is `BackendKind`'s, and each
    /// feature is one of the binary's.
    #[test]
    fn the_justfiles_backend_table_is_this_one() {
        let table: Vec<Vec<&str>> = include_str!("../backends.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| line.split_whitespace().collect())
            .collect();
        let listed: Vec<(&str, &str)> = table.iter().map(|row| (row[0], row[1])).collect();
        let mut ours: Vec<(&str, &str)> = BackendKind::ALL
            .iter()
            .map(|kind| (kind.name(), kind.feature()))
            .collect();
        let mut theirs = listed.clone();
        ours.sort();
        theirs.sort();
        assert_eq!(theirs, ours);
        let binary = include_str!("../../cli/Cargo.toml");
        for (_, feature) in listed {
            assert!(
                binary.contains(&format!("\n{feature} = [\"mnist-train/{feature}\"]")),
                "crates/cli has no feature {feature}"
            );
        }
        let recipes = include_str!("../../../justfile");
        for row in &table {
            assert_eq!(row.len(), 3, "{row:?}");
            assert!(
                row[2] == "-" || recipes.contains(&format!("\n{}:", row[2])),
                "the justfile has no recipe {}",
                row[2]
            );
        }
    }

    #[test]
    fn a_backend_missing_from_a_binary_names_the_feature_that_builds_it() {
        for missing in BackendKind::ALL {
            let others: Vec<BackendKind> = BackendKind::ALL
                .into_iter()
                .filter(|&kind| kind != missing)
                .collect();
            let message = missing.not_compiled(&others).to_string();
            let feature = match missing {
                BackendKind::TchCuda => "tch",
                other => other.name(),
            };
            assert!(
                message.contains(&format!("build with `--features {feature}`"))
                    && message.contains(&format!("just train backend={missing}`")),
                "{message}"
            );
            let listed = message.split("it has: ").nth(1).unwrap();
            let listed: Vec<&str> = listed.split(')').next().unwrap().split(", ").collect();
            let expected: Vec<&str> = others.iter().map(|kind| kind.name()).collect();
            assert_eq!(listed, expected, "{message}");
            let error = anyhow::Error::from(missing.not_compiled(&others));
            assert_eq!(exit_status(&error), 2);
        }
    }

    /// The driver's device nodes alone are a driver, as under gVisor's GPU proxy, which has
    /// /proc/driver/nvidia/params but no /proc/driver/nvidia/version; without them, none.
    #[test]
    fn the_nvidia_driver_is_found_by_its_device_nodes_alone() {
        let root = tempfile::tempdir().unwrap();
        let proc = root.path().join("proc/driver/nvidia");
        std::fs::create_dir_all(&proc).unwrap();
        std::fs::write(proc.join("params"), "").unwrap();
        assert!(!nvidia_driver_present(root.path()));
        std::fs::create_dir_all(root.path().join("dev")).unwrap();
        std::fs::write(root.path().join("dev/nvidiactl"), "").unwrap();
        assert!(nvidia_driver_present(root.path()));
    }
}
