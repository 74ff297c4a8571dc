// Burn allocates and frees many small tensors every step; mimalloc keeps them in thread-local
// free lists instead of returning pages to the OS and faulting them back in (see README,
// Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mnist_train::cli::main()
}
