//! Burn's training dashboard in a real terminal (tmux): Ctrl-C and `q` then `s` stop a run
//! the way SIGINT does off a terminal, and the run resumes to the same metrics.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mnist_e2e::{binary, can_run, config, program, read_metrics, run_in, text, wait_for};

/// A tmux server of its own (one socket per test), killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached 200x50 terminal, in `cwd`.
    fn start(name: &str, cwd: &Path, command: &str) -> Self {
        let tmux = Self {
            socket: format!("mnist-burn-{name}-{}", std::process::id()),
        };
        let status = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
                "-c",
            ])
            .arg(cwd)
            .arg(command)
            .status()
            .unwrap();
        assert!(status.success(), "tmux starts");
        tmux
    }

    /// Types `keys` (tmux key names, e.g. `C-c`) into the terminal.
    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success(), "tmux send-keys {keys:?}");
    }

    /// What the terminal shows.
    fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Trains the default config for 15 epochs into `run` in a terminal; once an epoch is done and
/// the dashboard is up, types `keys` and returns the exit code the shell saw.
fn stop_in_dashboard(work: &Path, name: &str, keys: &[&[&str]]) -> i32 {
    let default = config("default");
    let command = format!(
        "{} train --config {} --set epochs=15 --out run; echo $? > exit-code; sleep 30",
        binary().display(),
        default.display()
    );
    let tmux = Tmux::start(name, work, &command);
    wait_for(&work.join("run/metrics.csv"), "\n1,", 60);
    let screen = tmux.screen();
    assert!(
        !screen.contains("epoch  1/15"),
        "a dashboard, not plain lines: {screen}"
    );
    for group in keys {
        tmux.keys(group);
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Ok(code) = fs::read_to_string(work.join("exit-code")) {
            break code.trim().parse().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the run did not stop: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let screen = tmux.screen();
    assert!(
        screen.contains("Resume with: mnist-burn train --resume run"),
        "the terminal is back to normal, with the resume command: {screen}"
    );
    code
}

/// The run was interrupted with complete epochs kept, and resumes to the metrics of an
/// uninterrupted run.
fn assert_interrupted_then_resumes(work: &Path) {
    let run = fs::read_to_string(work.join("run/run.toml")).unwrap();
    assert!(run.contains("status = \"interrupted\""), "{run}");
    let kept = read_metrics(&work.join("run"));
    assert!(!kept.is_empty() && kept.len() < 15, "{kept:?}");
    assert!(
        work.join(format!("run/checkpoint/model-{}.bpk", kept.len()))
            .is_file()
    );

    let resumed = run_in(work, &["train", "--resume", "run", "--plain"]);
    let (stdout, stderr) = text(&resumed);
    assert!(
        resumed.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let default = config("default");
    let whole = run_in(
        work,
        &[
            "train",
            "--config",
            default.to_str().unwrap(),
            "--set",
            "epochs=15",
            "--out",
            "whole",
            "--plain",
        ],
    );
    assert!(whole.status.success(), "{:?}", text(&whole));
    let values = |run: &str| -> Vec<[f64; 4]> {
        read_metrics(&work.join(run))
            .iter()
            .map(|row| [row.train_loss, row.train_acc, row.test_loss, row.test_acc])
            .collect()
    };
    assert_eq!(values("run"), values("whole"));
}

#[test]
fn ctrl_c_in_the_dashboard_stops_the_run_and_it_resumes() {
    if !can_run(
        program("tmux", &["-V"]),
        "ctrl_c_in_the_dashboard_stops_the_run_and_it_resumes",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let code = stop_in_dashboard(work.path(), "ctrl-c", &[&["C-c"]]);
    assert_eq!(code, 130);
    assert_interrupted_then_resumes(work.path());
}

#[test]
fn q_then_s_in_the_dashboard_stops_the_run_like_ctrl_c() {
    if !can_run(
        program("tmux", &["-V"]),
        "q_then_s_in_the_dashboard_stops_the_run_like_ctrl_c",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let code = stop_in_dashboard(work.path(), "q", &[&["q"], &["s"]]);
    assert_eq!(code, 130);
    let run = fs::read_to_string(work.path().join("run/run.toml")).unwrap();
    assert!(run.contains("status = \"interrupted\""), "{run}");
}
