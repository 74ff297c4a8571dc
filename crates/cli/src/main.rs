// Burn allocates and frees many small tensors every step; mimalloc keeps them in thread-local
// free lists instead of returning pages to the OS and faulting them back in (see
// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[macro_use]
extern crate mnist_output;

mod cli;
mod commands;
mod values;

fn main() -> std::process::ExitCode {
    pin_default_device();
    cli::main()
}

/// Burn 0.22's `ModuleOptimizer::load_record` (burn-optim, `optim/module/module_optimizer.rs`)
/// creates a resumed run's optimiser state on `Device::default()`, the first compiled in of
/// CUDA, ..., wgpu, ..., flex, whatever device the run trains on: with cuda (or wgpu) compiled
/// in, resuming on a machine without that GPU panics there. The state follows the parameters
/// to their device at the first step, so a device that always works will do: flex, which
/// Burn's Learner always compiles in. `BURN_DEVICE` is Burn's way to choose it; a value the
/// user set is kept.
#[allow(unsafe_code)]
fn pin_default_device() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the first statement of `main`, before this process starts any thread, so no
        // other thread can be reading or writing the environment.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}
