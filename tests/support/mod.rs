//! Helpers for the end-to-end tests: the `mnist-burn` binary cargo builds for them, running
//! it with a deadline, reading a run folder.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub mod reference;
mod train_args;

pub use train_args::TrainArgs;

/// The repository root (configs live in `configs/` there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("crates/cli sits two folders below the repository root")
}

/// A config shipped in `configs/`.
pub fn config(name: &str) -> PathBuf {
    repo_root().join("configs").join(format!("{name}.toml"))
}

/// The binary under test: cargo builds it, with the features of the test build, before it
/// builds the tests (so a test never runs a stale binary).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mnist-burn"))
}

/// Starts `mnist-burn args...` in `cwd`, its output piped.
pub fn start(cwd: &Path, args: &[&str]) -> Running {
    Running::spawn(Command::new(binary()).args(args).current_dir(cwd))
}

/// Runs `mnist-burn args...` in `cwd` and returns what it did.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    run_with_env(cwd, args, &[])
}

/// How long one `mnist-burn` command of a test may take before it is killed and the test
/// fails: the longest (a sweep, a few epochs of the seed config) takes well under a minute.
pub const COMMAND_SECONDS: u64 = 300;

/// Runs `command` to its end with its output captured, at most `seconds`: past that it is
/// killed and the test fails.
pub fn output_within(command: Command, seconds: u64) -> Output {
    let what = format!("{command:?}");
    try_output_within(command, seconds)
        .unwrap_or_else(|error| panic!("{what} does not start: {error}"))
}

/// [`output_within`], or why the command could not start.
pub fn try_output_within(mut command: Command, seconds: u64) -> std::io::Result<Output> {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    Ok(Running::new(child).finish(seconds))
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One row of a run's `metrics.csv`, read by this reader of the file's format written from its
/// header, on purpose apart from the runs crate's own: a change to the format that both sides
/// of that crate agree on still fails here.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    /// With a validation split (`data.validation`).
    pub valid_loss: Option<f64>,
    pub valid_acc: Option<f64>,
    pub train_seconds: f64,
    pub test_seconds: f64,
}

/// Reads `metrics.csv`, checking its header.
pub fn read_metrics(run_dir: &Path) -> Vec<MetricsRow> {
    let csv = fs::read_to_string(run_dir.join("metrics.csv")).expect("metrics.csv exists");
    let mut lines = csv.lines();
    let validated = match lines.next() {
        Some("epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds") => false,
        Some(
            "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,train_seconds,\
             test_seconds",
        ) => true,
        header => panic!("unexpected metrics.csv header {header:?}"),
    };
    lines
        .map(|line| {
            let mut fields: Vec<f64> = line
                .split(',')
                .map(|field| field.parse().expect("numeric field"))
                .collect();
            let (valid_loss, valid_acc) = match validated {
                true => {
                    assert_eq!(fields.len(), 9, "{line}");
                    let valid: Vec<f64> = fields.drain(3..5).collect();
                    (Some(valid[0]), Some(valid[1]))
                }
                false => (None, None),
            };
            assert_eq!(fields.len(), 7, "{line}");
            MetricsRow {
                epoch: fields[0] as usize,
                train_loss: fields[1],
                train_acc: fields[2],
                test_loss: fields[3],
                test_acc: fields[4],
                valid_loss,
                valid_acc,
                train_seconds: fields[5],
                test_seconds: fields[6],
            }
        })
        .collect()
}

/// What a run learned, epoch by epoch: train loss and accuracy, test loss and accuracy
/// (`metrics.csv` without its timings, which differ from run to run).
pub fn learned(run_dir: &Path) -> Vec<[f64; 4]> {
    read_metrics(run_dir)
        .iter()
        .map(|row| [row.train_loss, row.train_acc, row.test_loss, row.test_acc])
        .collect()
}

/// Every bit of the weights and bias a `.bpk` file of a run holds, read as `eval` reads it
/// (the file's bytes say more: each holds its parameters' random ids).
pub fn weight_bits(file: &Path) -> Vec<u32> {
    let device = burn::prelude::Device::flex();
    let model = mnist_runs::TrainedModel::load(file, &device)
        .unwrap_or_else(|error| panic!("{}: {error:#}", file.display()))
        .model;
    let mut values: Vec<f32> = model.weights().into_data().try_to_vec().unwrap();
    values.extend(model.bias().into_data().try_to_vec::<f32>().unwrap());
    values.into_iter().map(f32::to_bits).collect()
}

/// `(train reads, test reads)` of each epoch, from the lines `train --debug-syncs` prints.
pub fn device_reads(stdout: &str) -> Vec<(usize, usize)> {
    stdout
        .lines()
        .filter_map(|line| {
            line.split_once("reads from the device (train ")?
                .1
                .strip_suffix(')')
        })
        .map(|counts| {
            let (train, test) = counts.split_once(", test ").unwrap();
            (train.parse().unwrap(), test.parse().unwrap())
        })
        .collect()
}

/// Runs `mnist-burn args...` in `cwd`, expects success and returns its standard output.
pub fn succeed(cwd: &Path, args: &[&str]) -> String {
    let output = run_in(cwd, args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

/// Runs `mnist-burn args...` in `cwd` with extra environment variables.
pub fn run_with_env(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(binary());
    command.args(args).current_dir(cwd);
    for (key, value) in env {
        command.env(key, value);
    }
    output_within(command, COMMAND_SECONDS)
}

/// Asserts a failure reported as one `error: ...` line containing `needle`, with `code`.
pub fn assert_one_line_error(output: &Output, code: i32, needle: &str) {
    let (stdout, stderr) = text(output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(needle),
        "{stderr:?} should contain {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The real MNIST cache folder, found the way the binary finds it (`just test` provisions it).
pub fn real_mnist_dir() -> PathBuf {
    let dir = mnist_data::provision::mnist_dir().expect("a cache folder");
    assert!(
        dir.join("train").join("train-images-idx3-ubyte").exists(),
        "{} has no MNIST files: run `just data`",
        dir.display()
    );
    dir
}

/// Whether the test can run; if not, prints the one-line reason it is skipped (and fails in
/// CI, see [`report_skip`]). A test that needs something a machine may lack calls this first
/// and returns when it says no.
pub fn can_run(requirement: Result<(), String>, test: &str) -> bool {
    match requirement {
        Ok(()) => true,
        Err(reason) => {
            report_skip(test, &reason);
            false
        }
    }
}

/// ndarray, when it is compiled in: the CPU backend beside the default (flex) for the tests
/// whose point is a run on another backend than the one a command falls back to. Without it
/// (`just test` after a flex-only `just train`) the test reports why it skips.
pub fn second_cpu_backend(test: &str) -> Option<&'static str> {
    if let Some(backend) = compiled_second_cpu_backend() {
        return Some(backend);
    }
    report_skip(
        test,
        "ndarray is not compiled in (`just test-backends`, or MNIST_BURN_FEATURES=ndarray just test)",
    );
    None
}

/// ndarray where it is compiled in, without a word where it is not.
pub fn compiled_second_cpu_backend() -> Option<&'static str> {
    mnist_train::BackendKind::Ndarray
        .is_compiled()
        .then_some("ndarray")
}

// The skip convention and the EXIF block, shared with the data crate's unit tests.
#[path = "../../crates/data/src/test_support.rs"]
mod shared;
pub use shared::{exif_orientation, report_skip};

/// Where Debian's Fashion-MNIST files are: `FASHION_MNIST_DIR`, or the package's folder.
pub fn fashion_dir() -> PathBuf {
    std::env::var_os("FASHION_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(mnist_data::FASHION_MNIST_DIR))
}

/// Debian's Fashion-MNIST files, where `FASHION_MNIST_DIR` or the default says.
pub fn fashion_mnist() -> Result<(), String> {
    let dir = fashion_dir();
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Ok(())
    } else {
        Err(format!(
            "no Fashion-MNIST in {} (`just fashion-data` installs Debian's dataset-fashion-mnist)",
            dir.display()
        ))
    }
}

/// Chromium, Node and Playwright, or why not.
pub fn browser() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "no Chromium at {} (`just browser-tools` installs Debian's chromium)",
            chromium.display()
        ));
    }
    program("node", &["--version"])?;
    let playwright = repo_root().join("tests/browser/node_modules/playwright-core");
    if !playwright.is_dir() {
        return Err("no tests/browser/node_modules (`just browser-tools` runs npm ci)".into());
    }
    Ok(chromium)
}

/// A program that answers `args` successfully.
pub fn program(name: &str, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(name);
    command.args(args);
    match try_output_within(command, 60) {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(format!(
            "`{name} {}` fails here: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => Err(format!("`{name}` cannot run here: {error}")),
    }
}

/// Unprivileged user and mount namespaces (to mount a small tmpfs without root).
pub fn namespaces() -> Result<(), String> {
    program("unshare", &["--user", "--map-root-user", "--mount", "true"])
}

/// A child process that is killed if the test fails before it ends.
pub struct Running(Option<Child>);

impl Running {
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// Starts `command` with its standard output and error piped.
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{command:?} does not start: {error}"));
        Self::new(child)
    }

    /// The process id, for signals.
    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    /// Sends the signal `name` (`INT`, `STOP`, `CONT`, ...) to the process.
    pub fn signal(&self, name: &str) {
        send_signal(self.id(), name);
    }

    /// Whether the process has ended (it is reaped then; [`Running::finish`] still reads it).
    pub fn has_ended(&mut self) -> bool {
        let child = self.0.as_mut().expect("running");
        child.try_wait().expect("child status").is_some()
    }

    /// Kills the process outright (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let child = self.0.as_mut().expect("running");
        child.kill().expect("the process can be killed");
        child.wait().expect("the killed process is reaped");
        self.0 = None;
    }

    /// The first line the process writes to its standard output (piped), waiting at most
    /// `seconds`; the pipe is closed after it, so later writes fail.
    pub fn first_line(&mut self, seconds: u64) -> String {
        use std::io::BufRead;
        let child = self.0.as_mut().expect("running");
        let stdout = child.stdout.take().expect("standard output is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        receiver
            .recv_timeout(Duration::from_secs(seconds))
            .unwrap_or_else(|_| panic!("no line on standard output within {seconds} s"))
    }

    /// Waits for the process to end, at most `seconds`, reading what it writes meanwhile (a
    /// full pipe would stall it); kills it and fails past that.
    pub fn finish(mut self, seconds: u64) -> Output {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let child = self.0.as_mut().expect("running");
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = loop {
            if let Some(status) = child.try_wait().expect("child status") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not end within {seconds} s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.0 = None;
        // A grandchild may still hold the pipes: wait for them no later than the deadline.
        let collect = |pipe: mpsc::Receiver<Vec<u8>>| {
            let left = deadline.saturating_duration_since(Instant::now());
            pipe.recv_timeout(left.max(Duration::from_secs(1)))
                .unwrap_or_else(|_| panic!("the process's output did not close within {seconds} s"))
        };
        Output {
            status,
            stdout: collect(stdout),
            stderr: collect(stderr),
        }
    }
}

/// Reads a pipe to its end on a thread; the bytes arrive on the receiver (none for no pipe).
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = sender.send(bytes);
    });
    receiver
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends the signal `name` (`INT`, `STOP`, `CONT`, ...) to process `pid`.
pub fn send_signal(pid: u32, name: &str) {
    let mut kill = Command::new("kill");
    kill.args(["-s", name, &pid.to_string()]);
    assert!(
        output_within(kill, 10).status.success(),
        "kill -s {name} {pid}"
    );
}

/// Holds the processes `pids` still (SIGSTOP) while `send` has something signal them, until
/// the kernel keeps `signal` (`INT`, `TERM`) pending for each (or the sender let it go on
/// itself, as Slurm's SIGCONT before SIGTERM does), then lets them go on (SIGCONT): each meets
/// the signal where it was stopped, however fast it runs and however long the sender (a sweep
/// forwarding Ctrl-C, Slurm's scancel) takes.
pub fn signal_while_held(pids: &[u32], signal: &str, send: impl FnOnce()) {
    let number = match signal {
        "INT" => 2,
        "TERM" => 15,
        other => panic!("no signal number for {other}"),
    };
    for &pid in pids {
        send_signal(pid, "STOP");
        poll(
            10,
            || held(pid).map(drop),
            || format!("process {pid} never stopped"),
        );
    }
    send();
    for &pid in pids {
        poll(
            60,
            || match held(pid) {
                Some(pending) => (pending & (1 << (number - 1)) != 0).then_some(()),
                None => Some(()),
            },
            || format!("process {pid} never had SIG{signal} pending"),
        );
    }
    pids.iter().for_each(|&pid| send_signal(pid, "CONT"));
}

/// The signals pending for process `pid`, its own and its threads', while it is stopped
/// (`/proc/PID/status`); `None` once it runs again or has ended.
fn held(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| status.lines().find_map(|line| line.strip_prefix(name));
    if !field("State:")?.trim_start().starts_with('T') {
        return None;
    }
    ["ShdPnd:", "SigPnd:"].into_iter().try_fold(0, |all, name| {
        Some(all | u64::from_str_radix(field(name)?.trim(), 16).ok()?)
    })
}

/// The process that writes run (or sweep) folder `dir`: the id its lock file holds, once it
/// is there.
pub fn writer_of(dir: &Path) -> u32 {
    let lock = dir.join(".lock");
    poll(
        60,
        || fs::read_to_string(&lock).ok()?.trim().parse().ok(),
        || format!("{} never named its writer", lock.display()),
    )
}

/// The four raw files, as `split/name`.
pub const RAW_FILES: [&str; 4] = [
    "train/train-images-idx3-ubyte",
    "train/train-labels-idx1-ubyte",
    "test/t10k-images-idx3-ubyte",
    "test/t10k-labels-idx1-ubyte",
];

/// A cache folder (for `XDG_CACHE_HOME`) holding the real files, linked rather than copied,
/// except `damaged`, which is rewritten with `damage` applied to its bytes.
pub fn cache_with_damaged(damaged: &str, damage: impl FnOnce(&mut Vec<u8>)) -> tempfile::TempDir {
    let real = real_mnist_dir();
    let cache = tempfile::tempdir().expect("temp dir");
    let mnist = cache.path().join("burn-dataset").join("mnist");
    for file in RAW_FILES {
        let target = mnist.join(file);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        if file != damaged && fs::hard_link(real.join(file), &target).is_err() {
            fs::copy(real.join(file), &target).unwrap();
        }
    }
    let mut bytes = fs::read(real.join(damaged)).unwrap();
    damage(&mut bytes);
    fs::write(mnist.join(damaged), bytes).unwrap();
    cache
}

/// Waits (polling, at most `seconds`) until `path` holds `needle`.
pub fn wait_for(path: &Path, needle: &str, seconds: u64) {
    poll(
        seconds,
        || {
            fs::read_to_string(path)
                .is_ok_and(|text| text.contains(needle))
                .then_some(())
        },
        || format!("{} never contained {needle:?}", path.display()),
    )
}

/// Calls `ready` every 20 ms until it gives a value, for at most `seconds`; past that the test
/// fails with `why()`.
pub fn poll<T>(seconds: u64, mut ready: impl FnMut() -> Option<T>, why: impl Fn() -> String) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "{}", why());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Python that imports `modules`: `MNIST_BURN_PYTHON` (the venv `just test` prepares),
/// else `python3`.
pub fn python_with(modules: &[&str]) -> Result<PathBuf, String> {
    let python = std::env::var_os("MNIST_BURN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let imports = format!("import {}", modules.join(", "));
    let mut command = Command::new(&python);
    command.args(["-c", &imports]);
    match try_output_within(command, 120) {
        Ok(output) if output.status.success() => Ok(python),
        _ => Err(format!(
            "{} cannot `{imports}` (`just python-tools` installs them into the PyTorch venv)",
            python.display()
        )),
    }
}

/// Runs a script of `examples/python/` with `args`; panics with its output if it fails.
pub fn run_python_example(python: &Path, script: &str, args: &[&Path]) {
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(args)
        .current_dir(repo_root().join("examples").join("python"));
    let output = output_within(command, COMMAND_SECONDS);
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
