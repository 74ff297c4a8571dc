fn main() -> std::process::ExitCode {
    mnist_train::cli::main()
}
