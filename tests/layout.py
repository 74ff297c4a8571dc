"""The layout rules `just lint` keeps (docs/layout.md):

- clap is a dependency of `crates/cli` only: the libraries know no command line;
- `mnist-serve` links neither `mnist-train` nor Burn's `train` (burn-train);
- each folder of a crate's `src/` has a `mod.rs` whose `//!` comment says what it is for;
- no folder of a crate's `src/` imports from one that imports it (no cycles between folders);
- no source file holds more than 420 lines before its tests.
"""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINES = 420
problems = []

for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")):
    crate = manifest.parent
    dependencies = manifest.read_text().split("[dev-dependencies]")[0]
    if crate.name != "cli" and re.search(r"^clap\b", dependencies, re.MULTILINE):
        problems.append(f"{manifest.relative_to(ROOT)}: depends on clap (only crates/cli may)")

tree = subprocess.run(
    ["cargo", "tree", "--quiet", "--offline", "-p", "mnist-serve", "-e", "normal",
     "--prefix", "none", "--manifest-path", str(ROOT / "Cargo.toml")],
    capture_output=True, text=True, check=True,
).stdout
for crate in ("mnist-train", "burn-train"):
    if re.search(rf"^{crate} ", tree, re.MULTILINE):
        problems.append(f"crates/serve: links {crate} (cargo tree -p mnist-serve)")

for source in sorted(ROOT.glob("crates/*/src")):
    folders = sorted(path for path in source.iterdir() if path.is_dir() and path.name != "assets")
    for folder in folders:
        rs = list(folder.rglob("*.rs"))
        if not rs:
            continue
        module = folder / "mod.rs"
        if not module.is_file() or not module.read_text().startswith("//!"):
            problems.append(f"{folder.relative_to(ROOT)}: no mod.rs opening with a //! comment")
    # Which top-level module of the crate each folder's files name through `crate::`.
    names = {folder.name for folder in folders}
    uses = {name: set() for name in names}
    for name in names:
        for file in (source / name).rglob("*.rs"):
            for used in re.findall(r"\bcrate::(\w+)", file.read_text()):
                if used in names and used != name:
                    uses[name].add(used)
    for name in sorted(names):
        for used in sorted(uses[name]):
            if name in uses[used]:
                problems.append(
                    f"{source.relative_to(ROOT)}: {name}/ and {used}/ import from each other")

for file in sorted(ROOT.glob("crates/*/src/**/*.rs")):
    text = file.read_text()
    body = re.split(r"^#\[cfg\((all\()?test\b[^\n]*\n\s*mod \w+", text, flags=re.MULTILINE)[0]
    lines = body.count("\n")
    if lines > MAX_LINES:
        problems.append(f"{file.relative_to(ROOT)}: {lines} lines before its tests (at most {MAX_LINES})")

for problem in problems:
    print(f"layout: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
