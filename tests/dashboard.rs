//! Burn's training dashboard in a real terminal (tmux): Ctrl-C and `q` then `s` stop a run
//! the way SIGINT does off a terminal, and the run resumes to the same metrics.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support;

use support::{
    TrainArgs, binary, can_run, learned, output_within, poll, program, read_metrics, run_in,
    succeed, text, try_output_within, wait_for,
};

/// A tmux server of its own (one socket per test), killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `program args...` in a detached 200x50 terminal, in `cwd`; the pane stays after
    /// it ends, to read what it printed last.
    fn start(name: &str, cwd: &Path, program: &Path, args: &[&str]) -> Self {
        let tmux = Self {
            socket: format!("mnist-burn-{name}-{}", std::process::id()),
        };
        let mut command = Command::new("tmux");
        command
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "200", "-y", "50", "-c"])
            .arg(cwd)
            // The shell ignores SIGINT (the program installs its own handler) and records
            // the program's exit status once it ends.
            .args([
                "sh",
                "-c",
                "trap '' INT; \"$0\" \"$@\"; echo $? > exit-status",
            ])
            .arg(program)
            .args(args)
            .args([";", "set-option", "-g", "remain-on-exit", "on"]);
        assert!(output_within(command, 30).status.success(), "tmux starts");
        tmux
    }

    /// The exit status of the program once it has ended, waiting at most `seconds`.
    fn exit_status(&self, cwd: &Path, seconds: u64) -> i32 {
        poll(
            seconds,
            || {
                fs::read_to_string(cwd.join("exit-status"))
                    .ok()
                    .and_then(|status| status.trim().parse().ok())
            },
            || format!("the run did not stop: {}", self.screen()),
        )
    }

    /// Types `keys` (tmux key names, e.g. `C-c`) into the terminal.
    fn keys(&self, keys: &[&str]) {
        let mut command = Command::new("tmux");
        command
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(keys);
        assert!(
            output_within(command, 30).status.success(),
            "tmux send-keys {keys:?}"
        );
    }

    /// What the terminal shows.
    fn screen(&self) -> String {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"]);
        String::from_utf8_lossy(&output_within(command, 30).stdout).into_owned()
    }

    /// What the terminal shows once it shows `needle`, waiting at most `seconds`.
    fn wait_for_screen(&self, needle: &str, seconds: u64) -> String {
        poll(
            seconds,
            || Some(self.screen()).filter(|screen| screen.contains(needle)),
            || format!("the terminal never showed {needle:?}: {}", self.screen()),
        )
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "kill-server"]);
        let _ = try_output_within(command, 30);
    }
}

/// `train` arguments for the default config cut to `epochs`, into `out`.
fn default_run(epochs: usize, out: &str, plain: bool) -> TrainArgs {
    let args = TrainArgs::shipped("default")
        .set(&format!("epochs={epochs}"))
        .out(out);
    if plain { args.plain() } else { args }
}

/// Trains the default config for 15 epochs into `run` in a terminal; once an epoch is done and
/// the dashboard is up, types each group of `keys` (waiting, where given, until the screen
/// shows a text first) and returns the program's exit status.
fn stop_in_dashboard(work: &Path, name: &str, keys: &[(&[&str], Option<&str>)]) -> i32 {
    let args = default_run(15, "run", false);
    let tmux = Tmux::start(name, work, &binary(), &args.list());
    wait_for(&work.join("run/metrics.csv"), "\n1,", 60);
    // Burn's dashboard has a Controls panel; plain lines would say "epoch  1/15".
    let screen = tmux.wait_for_screen("Controls", 30);
    assert!(
        !screen.contains("epoch  1/15"),
        "a dashboard, not plain lines: {screen}"
    );
    for (group, then_shows) in keys {
        tmux.keys(group);
        if let Some(needle) = then_shows {
            tmux.wait_for_screen(needle, 30);
        }
    }
    let code = tmux.exit_status(work, 60);
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

    let resumed = run_in(work, &TrainArgs::resume("run").plain().list());
    let (stdout, stderr) = text(&resumed);
    assert!(
        resumed.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    succeed(work, &default_run(15, "whole", true).list());
    assert_eq!(learned(&work.join("run")), learned(&work.join("whole")));
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
    let code = stop_in_dashboard(work.path(), "ctrl-c", &[(&["C-c"], None)]);
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
    let code = stop_in_dashboard(
        work.path(),
        "q",
        &[(&["q"], Some("Stop the training.")), (&["s"], None)],
    );
    assert_eq!(code, 130);
    let run = fs::read_to_string(work.path().join("run/run.toml")).unwrap();
    assert!(run.contains("status = \"interrupted\""), "{run}");
}
