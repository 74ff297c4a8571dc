//! The one place that maps a backend name to the cargo feature that compiles it in and to a
//! Burn `Device`.

use std::fmt;

use burn::prelude::Device;

/// A Burn backend this program can train on, if its cargo feature was enabled at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Burn's ndarray CPU backend (feature `ndarray`, the default).
    Ndarray,
    /// Burn's newer pure-Rust CPU backend (feature `flex`).
    Flex,
    /// wgpu: Vulkan, Metal or DirectX GPUs (feature `wgpu`).
    Wgpu,
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
    /// measured 1.5x faster than ndarray on this workload (README, Performance).
    pub const ALL: [Self; 5] = [
        Self::Flex,
        Self::Ndarray,
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
            Self::Tch => "tch",
            Self::TchCuda => "tch-cuda",
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

    /// The Burn device for this backend, or why it cannot be had.
    // Burn 0.22 deprecates ndarray and libtorch in favour of flex and CubeCL; both stay here
    // by the user's design (ndarray as the default, libtorch for CUDA through PyTorch).
    #[allow(deprecated)]
    pub fn device(self) -> Result<Device, NotCompiled> {
        match self {
            #[cfg(feature = "ndarray")]
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "flex")]
            Self::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(feature = "tch")]
            Self::Tch => Ok(Device::libtorch()),
            #[cfg(feature = "tch")]
            Self::TchCuda => Ok(Device::libtorch_cuda(0)),
            #[allow(unreachable_patterns)]
            requested => Err(NotCompiled {
                requested,
                feature: requested.feature(),
                available: Self::compiled()
                    .iter()
                    .map(|kind| kind.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
