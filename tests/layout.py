"""The layout rules `just lint` keeps (docs/layout.md):

- clap is a dependency of `crates/cli` only: the libraries know no command line;
- `mnist-serve` links neither `mnist-train` nor Burn's `train` (burn-train);
- each folder of a crate's `src/` has a `mod.rs` whose `//!` comment says what it is for;
- no cycles between the folders of a crate's `src/`, however long (a/ uses b/, b/ uses c/, c/
  uses a/), the uses found through `crate::` paths, grouped ones (`crate::{a, b::c}`) and
  `super::` paths that climb to the crate's root, outside comments and strings;
- no source file holds more than 420 lines before its tests.

Every run first checks that the cycle finder finds a cycle in a fake crate (and none where there
is none); `python3 tests/layout.py --self-test` runs that check alone.
"""

import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINES = 420

# Comments, raw strings, strings and char literals: blanked before paths are looked for.
NOT_CODE = re.compile(r"//[^\n]*|/\*.*?\*/|\bb?r(#*)\".*?\"\1|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^\\'])'", re.S)
# A path from the crate's root or a module above: its anchor, the further `super`s, then a
# name or a `{` group.
PATH = re.compile(r"\b(crate|super|self)\b((?:\s*::\s*super\b)*)\s*::\s*(\{|\w+)")
INLINE_MODULE = re.compile(r"\bmod\s+\w+\s*\{")


def code_of(text):
    """`text` with its comments, strings and char literals blanked (positions kept)."""
    return NOT_CODE.sub(lambda found: re.sub(r"[^\n]", " ", found.group()), text)


def closing(code, start):
    """The index of the brace that closes the one at `start`."""
    depth = 0
    for index in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[index], 0)
        if depth == 0:
            return index
    return len(code)


def inline_depth(code):
    """For a position in `code`, how many inline `mod name { ... }` blocks enclose it (a `super`
    there first climbs out of them)."""
    blocks = [(found.end() - 1, closing(code, found.end() - 1)) for found in INLINE_MODULE.finditer(code)]
    return lambda position: sum(start < position < end for start, end in blocks)


def group_names(code, start):
    """The first name of each item of the `{...}` group opening at `start`."""
    inside, depth, item, names = code[start + 1:closing(code, start)], 0, "", []
    for char in inside + ",":
        if char == "," and depth == 0:
            first = re.match(r"\s*(\w+)", item)
            if first and first.group(1) not in ("self", "super"):
                names.append(first.group(1))
            item = ""
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        item += char
    return names


def top_modules_used(text, module):
    """The names that the paths in a file of `module` (its path from the crate's root, as a
    list) use at the crate's root: `crate::a`, `crate::{a, b::c}`, and `super::` (or `self::`)
    paths that climb there."""
    code = code_of(text)
    depth = inline_depth(code)
    used = set()
    for found in PATH.finditer(code):
        anchor, more, target = found.groups()
        supers = (anchor == "super") + more.count("super")
        if anchor == "crate" or len(module) + depth(found.start()) - supers <= 0:
            used.update(group_names(code, found.end() - 1) if target == "{" else [target])
    return used


def module_of(source, file):
    """A source file's module path from the crate's root: src/a/b.rs is [a, b], src/a/mod.rs [a]."""
    parts = list(file.relative_to(source).with_suffix("").parts)
    return parts[:-1] if parts[-1] in ("mod", "lib", "main") else parts


def folders_of(source):
    """The folders of a crate's src/ that are modules (its page's assets/ is not)."""
    return sorted(path for path in source.iterdir() if path.is_dir() and path.name != "assets")


def folder_uses(source):
    """Each folder of a crate's src/ (a top-level module) and the other folders it uses."""
    names = {folder.name for folder in folders_of(source)}
    uses = {name: set() for name in names}
    for name in names:
        for file in (source / name).rglob("*.rs"):
            uses[name] |= top_modules_used(file.read_text(), module_of(source, file)) & (names - {name})
    return uses


def cycles(uses):
    """The shortest cycle through each name of `uses` that leads back to itself (a list of names,
    the first again at the end), each set of names once."""
    found, seen = [], set()
    for start in sorted(uses):
        cycle = shortest_cycle(uses, start)
        if cycle and frozenset(cycle) not in seen:
            seen.add(frozenset(cycle))
            found.append(cycle)
    return found


def shortest_cycle(uses, start):
    """The shortest chain of uses from `start` back to it (breadth first), or None."""
    parents, frontier = {start: None}, [start]
    while frontier:
        following = []
        for name in frontier:
            for used in sorted(uses[name]):
                if used == start:
                    chain = [name]
                    while parents[chain[-1]] is not None:
                        chain.append(parents[chain[-1]])
                    return chain[::-1] + [start]
                if used not in parents:
                    parents[used] = name
                    following.append(used)
        frontier = following
    return None


def cycle_problems(source):
    """The layout problems of the cycles between the folders of one crate's src/."""
    return [f"{source.relative_to(ROOT)}: the folders "
            f"{' -> '.join(name + '/' for name in cycle)} import from one another in a cycle"
            for cycle in cycles(folder_uses(source))]


def self_test():
    """The cycle finder on a fake crate whose folders use one another in a cycle, a/ -> b/
    (`crate::b`) -> c/ (`crate::{x, c::y}`) -> a/ (`super::super::a`), then on the same crate
    with c/'s use of a/ gone, where a comment, a string and an inline test module's
    `super::super::a` (c/'s own `a`) still name a/ but do not use it. Returns what failed."""
    files = {
        "lib.rs": "mod a;\nmod b;\nmod c;\nmod x;\n",
        "x.rs": "pub fn x() {}\n",
        "a/mod.rs": "//! a\nuse crate::b::thing;\n",
        "b/mod.rs": "//! b\nuse crate::{x::x, c::y};\nconst NOT_A_USE: &str = \"crate::a\";\n",
        "c/mod.rs": "//! c (not crate::a)\npub mod a;\npub mod inner;\npub fn y() {}\n",
        "c/a.rs": "pub fn helper() {}\n",
        "c/inner.rs": "use super::super::a::thing;\n#[cfg(test)]\nmod tests {\n    use super::super::a::helper;\n}\n",
    }
    with tempfile.TemporaryDirectory() as folder:
        source = pathlib.Path(folder) / "src"
        for name, text in files.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_text(text)
        with_cycle = cycles(folder_uses(source))
        (source / "c/inner.rs").write_text(files["c/inner.rs"].replace("super::super::a::thing", "super::y"))
        without = cycles(folder_uses(source))
    return ([f"found {with_cycle} in a fake crate with a/ -> b/ -> c/ -> a/"] if with_cycle != [["a", "b", "c", "a"]]
            else []) + ([f"found {without} in a fake crate without a cycle"] if without else [])


def problems():
    """Every layout problem of the repository."""
    found = []
    for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")):
        crate = manifest.parent
        dependencies = manifest.read_text().split("[dev-dependencies]")[0]
        if crate.name != "cli" and re.search(r"^clap\b", dependencies, re.MULTILINE):
            found.append(f"{manifest.relative_to(ROOT)}: depends on clap (only crates/cli may)")

    tree = subprocess.run(
        ["cargo", "tree", "--quiet", "--offline", "-p", "mnist-serve", "-e", "normal",
         "--prefix", "none", "--manifest-path", str(ROOT / "Cargo.toml")],
        capture_output=True, text=True, check=True,
    ).stdout
    for crate in ("mnist-train", "burn-train"):
        if re.search(rf"^{crate} ", tree, re.MULTILINE):
            found.append(f"crates/serve: links {crate} (cargo tree -p mnist-serve)")

    for source in sorted(ROOT.glob("crates/*/src")):
        for folder in folders_of(source):
            module = folder / "mod.rs"
            if any(folder.rglob("*.rs")) and (not module.is_file() or not module.read_text().startswith("//!")):
                found.append(f"{folder.relative_to(ROOT)}: no mod.rs opening with a //! comment")
        found += cycle_problems(source)

    for file in sorted(ROOT.glob("crates/*/src/**/*.rs")):
        text = file.read_text()
        body = re.split(r"^#\[cfg\((all\()?test\b[^\n]*\n\s*mod \w+", text, flags=re.MULTILINE)[0]
        lines = body.count("\n")
        if lines > MAX_LINES:
            found.append(f"{file.relative_to(ROOT)}: {lines} lines before its tests (at most {MAX_LINES})")
    return found


def main():
    found = [f"the cycle finder's self-test: {failure}" for failure in self_test()]
    if "--self-test" not in sys.argv[1:]:
        found += problems()
    for problem in found:
        print(f"layout: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
