//! Build facts a run's manifest records (`[environment]` in run.toml): the git commit this
//! binary was built from, whether the tree had uncommitted changes then, and Burn's version
//! as Cargo.lock pins it.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .map_or("unknown".into(), |changes| {
            (!changes.is_empty()).to_string()
        });
    let lock = std::fs::read_to_string("../../Cargo.lock").unwrap_or_default();
    let burn = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"burn\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = "))
        })
        .map_or("unknown".into(), |version| {
            version.trim_matches('"').to_string()
        });
    println!("cargo:rustc-env=MNIST_BURN_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=MNIST_BURN_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=MNIST_BURN_BURN_VERSION={burn}");
    for watched in [
        "../../.git/HEAD",
        "../../.git/index",
        "../../Cargo.lock",
        "src",
        "../data/src",
        "../model/src",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
}
