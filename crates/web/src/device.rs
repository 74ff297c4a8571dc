//! Where the browser build trains: Burn's flex on the CPU, or burn-wgpu on the browser's
//! WebGPU where it offers an adapter (the CPU otherwise, with a note saying why).

use std::cell::RefCell;

use burn::prelude::*;
use burn::tensor::wgpu::WgpuInitError;
use burn::tensor::wgpu::wgpu::DeviceType;

/// The device a run trains on, what to call it, and why it is not the one asked for.
pub struct Chosen {
    pub device: Device,
    pub name: String,
    pub notice: Option<String>,
}

thread_local! {
    /// WebGPU is set up once per worker (a second setup of the same device is refused).
    static WEBGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
}

/// `flex` or `wgpu`, as the page's backend choice names them.
pub async fn choose(backend: &str) -> Result<Chosen, String> {
    let cpu = |notice| Chosen {
        device: Device::flex(),
        name: "flex (Burn's CPU backend, in WebAssembly)".into(),
        notice,
    };
    match backend {
        "flex" => Ok(cpu(None)),
        "wgpu" => Ok(match webgpu().await {
            Ok((device, name)) => Chosen {
                device,
                name,
                notice: None,
            },
            Err(reason) => cpu(Some(format!(
                "WebGPU is not available here ({reason}): training on the CPU instead"
            ))),
        }),
        other => Err(format!("unknown backend `{other}` (flex or wgpu)")),
    }
}

async fn webgpu() -> Result<(Device, String), String> {
    if let Some(ready) = WEBGPU.with_borrow(Clone::clone) {
        return Ok(ready);
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|error| match error {
            WgpuInitError::AdapterUnavailable { .. } => {
                "the browser offers no WebGPU adapter".into()
            }
            other => other.to_string(),
        })?;
    let adapter = setup.adapter.get_info();
    let kind = match adapter.device_type {
        DeviceType::DiscreteGpu => "a discrete GPU",
        DeviceType::IntegratedGpu => "an integrated GPU",
        DeviceType::VirtualGpu => "a virtual GPU",
        DeviceType::Cpu => "a software adapter, on the CPU",
        DeviceType::Other => "an adapter of unknown kind",
    };
    // Browsers rarely tell a page the adapter's name.
    let name = if adapter.name.is_empty() {
        format!("wgpu (Burn's GPU backend, on WebGPU: {kind})")
    } else {
        format!(
            "wgpu (Burn's GPU backend, on WebGPU: {}, {kind})",
            adapter.name
        )
    };
    WEBGPU.set(Some((device.clone(), name.clone())));
    Ok((device, name))
}
