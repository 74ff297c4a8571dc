//! Models that travel: exports loaded by PyTorch (safetensors) and onnxruntime (ONNX) give
//! this project's predictions on all 10,000 test images, and a model trained in PyTorch and
//! imported here gives PyTorch's predictions. The Python side is `examples/python/`, the
//! same files docs/interchange.md shows.

use std::fs;
use std::path::{Path, PathBuf};

use mnist_data::{DatasetKind, IMAGE_PIXELS, ImageSet, Split};

use crate::support;

use support::{
    TrainArgs, assert_one_line_error, can_run, config, python_with, real_mnist_dir, run_in,
    run_python_example, succeed,
};

const MODULES: [&str; 5] = ["torch", "safetensors", "onnx", "onnxruntime", "numpy"];

/// Rows of a CSV of floats, skipping `header` lines and `skip_columns` leading columns.
pub(crate) fn float_rows(path: &Path, header: usize, skip_columns: usize) -> Vec<Vec<f64>> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(header)
        .map(|line| {
            line.split(',')
                .skip(skip_columns)
                .map(|cell| cell.trim().parse().unwrap())
                .collect()
        })
        .collect()
}

pub(crate) fn argmax(row: &[f64]) -> usize {
    (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}

/// Trains `config_name` briefly, exports it both ways, and compares the other runtimes'
/// probabilities with `eval --probabilities` image by image.
fn round_trip(python: &Path, config_name: &str, epochs: &str, deskews: bool) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    succeed(
        dir.path(),
        &TrainArgs::shipped(config_name)
            .set(epochs)
            .out("run")
            .plain()
            .list(),
    );
    succeed(dir.path(), &["eval", "run", "--probabilities"]);
    let ours = float_rows(&run.join("probabilities.csv"), 1, 1);
    assert_eq!(ours.len(), 10_000);
    let images = real_mnist_dir().join("test").join("t10k-images-idx3-ubyte");
    for (format, script) in [
        ("safetensors", "load_safetensors.py"),
        ("onnx", "load_onnx.py"),
    ] {
        succeed(dir.path(), &["export", "run", "--format", format]);
        let model = run.join(format!("model.{format}"));
        let sidecar: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(run.join(format!("model.{format}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(sidecar["input_shape"][1], "784");
        let steps = sidecar["preprocessing"].as_array().unwrap();
        assert_eq!(steps.len(), usize::from(deskews), "{steps:?}");
        let out = dir.path().join(format!("{format}.csv"));
        run_python_example(python, script, &[&model, &images, &out]);
        let theirs = float_rows(&out, 0, 0);
        assert_eq!(theirs.len(), ours.len());
        for (index, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!((a.len(), b.len()), (10, 10), "{format}: image {index}");
            assert_eq!(
                argmax(a),
                argmax(b),
                "{format}: image {index}: {a:?} vs {b:?}"
            );
            for (p, q) in a.iter().zip(b) {
                assert!(
                    (p - q).abs() < 1e-5,
                    "{format}: image {index}: {a:?} vs {b:?}"
                );
            }
        }
    }
}

/// The venv's Python, or `None` after printing why the test is skipped.
fn python(test: &str) -> Option<PathBuf> {
    python_with(&MODULES)
        .map_err(|reason| can_run(Err(reason), test))
        .ok()
}

/// The NumPy deskew a Python user runs before an exported model is the one this project
/// trains with: the same bytes for every pixel of the 10,000 test images.
#[test]
fn numpy_deskews_the_test_split_as_this_project_does() {
    let Some(python) = python("numpy_deskews_the_test_split_as_this_project_does") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let images = real_mnist_dir().join("test").join("t10k-images-idx3-ubyte");
    let out = dir.path().join("deskewed");
    run_python_example(python.as_path(), "deskew_idx.py", &[&images, &out]);
    let theirs = fs::read(&out).unwrap();
    let ours = ImageSet::load(DatasetKind::Mnist, Split::Test)
        .unwrap()
        .deskewed();
    assert_eq!(theirs.len(), 16 + ours.len() * IMAGE_PIXELS);
    let raw = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let mut changed = 0;
    for index in 0..ours.len() {
        let theirs = &theirs[16 + index * IMAGE_PIXELS..16 + (index + 1) * IMAGE_PIXELS];
        assert_eq!(ours.image(index), theirs, "test image {index}");
        changed += usize::from(ours.image(index) != raw.image(index));
    }
    // Nearly every handwritten digit leans a little.
    assert!(changed > 9_000, "{changed} of 10,000 images changed");
}

#[test]
fn default_model_runs_the_same_in_pytorch_and_onnxruntime() {
    if let Some(python) = python("default_model_runs_the_same_in_pytorch_and_onnxruntime") {
        round_trip(&python, "default", "epochs=3", true);
    }
}

/// The tutorial's config: a sigmoid on the outputs and no normalisation; both survive.
#[test]
fn sigmoid_and_unnormalised_inputs_survive_export() {
    if let Some(python) = python("sigmoid_and_unnormalised_inputs_survive_export") {
        round_trip(&python, "seed", "epochs=1", false);
    }
}

#[test]
fn a_model_trained_in_pytorch_evaluates_the_same_here() {
    let test = "a_model_trained_in_pytorch_evaluates_the_same_here";
    let Some(python) = python(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (checkpoint, predictions) = (dir.path().join("tutorial.pt"), dir.path().join("torch.txt"));
    run_python_example(
        &python,
        "train_tutorial.py",
        &[&real_mnist_dir(), &checkpoint, &predictions],
    );
    let seed = config("seed");
    succeed(
        dir.path(),
        &[
            "import",
            "tutorial.pt",
            "--config",
            seed.to_str().unwrap(),
            "--out",
            "imported",
        ],
    );
    let record = fs::read_to_string(dir.path().join("imported/run.toml")).unwrap();
    assert!(
        record.contains("imported_from") && record.contains("tutorial.pt"),
        "{record}"
    );
    succeed(dir.path(), &["eval", "imported"]);
    let torch: Vec<String> = fs::read_to_string(&predictions)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let ours: Vec<String> = fs::read_to_string(dir.path().join("imported/predictions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap().to_string())
        .collect();
    assert_eq!((torch.len(), ours.len()), (10_000, 10_000));
    let differing = torch.iter().zip(&ours).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing, 0,
        "PyTorch and mnist-burn disagree on {differing} test images"
    );
}

/// A safetensors file with the given tensors (all float32 zeros).
fn safetensors(tensors: &[(&str, &[usize])]) -> Vec<u8> {
    safetensors_of("F32", 4, tensors)
}

/// A safetensors file with the given tensors, zeros of `dtype` (`width` bytes each).
fn safetensors_of(dtype: &str, width: usize, tensors: &[(&str, &[usize])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut offset = 0;
    for (name, shape) in tensors {
        let bytes = width * shape.iter().product::<usize>();
        header.insert(
            name.to_string(),
            serde_json::json!({ "dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes] }),
        );
        offset += bytes;
    }
    let header = serde_json::to_vec(&header).unwrap();
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header);
    file.extend(vec![0u8; offset]);
    file
}

#[test]
fn bad_checkpoints_are_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let seed = config("seed");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "double.safetensors",
            safetensors_of(
                "F64",
                8,
                &[("linear.weight", &[10, 784]), ("linear.bias", &[10])],
            ),
            "expected float32",
        ),
        (
            "text.pt",
            b"definitely not a checkpoint".to_vec(),
            "not a PyTorch state_dict",
        ),
        (
            "names.safetensors",
            safetensors(&[("fc.weight", &[10, 784]), ("fc.bias", &[10])]),
            "no tensor `linear.weight`",
        ),
        (
            "shape.safetensors",
            safetensors(&[("linear.weight", &[10, 783]), ("linear.bias", &[10])]),
            "[10, 783], expected [10, 784]",
        ),
        (
            "extra.safetensors",
            safetensors(&[
                ("linear.weight", &[10, 784]),
                ("linear.bias", &[10]),
                ("x", &[1]),
            ]),
            "unexpected tensor `x`",
        ),
        (
            "cut.safetensors",
            safetensors(&[("linear.weight", &[10, 784]), ("linear.bias", &[10])])[..500].to_vec(),
            "cut.safetensors: not a PyTorch state_dict or a safetensors file (SafeTensors error: \
             incomplete metadata, file not fully covered)",
        ),
    ];
    for (name, bytes, needle) in cases {
        fs::write(dir.path().join(name), bytes).unwrap();
        let output = run_in(
            dir.path(),
            &[
                "import",
                name,
                "--config",
                seed.to_str().unwrap(),
                "--out",
                "out",
            ],
        );
        assert_one_line_error(&output, 1, needle);
        assert!(
            !dir.path().join("out").exists(),
            "{name}: something was written"
        );
        assert!(
            !dir.path().join("runs").exists(),
            "{name}: something was written"
        );
    }
}

/// docs/interchange.md shows these files as they are.
#[test]
fn the_docs_show_the_python_the_tests_run() {
    let root = support::repo_root();
    let page = fs::read_to_string(root.join("docs/interchange.md")).unwrap();
    for script in ["load_safetensors.py", "load_onnx.py"] {
        let text = fs::read_to_string(root.join("examples/python").join(script)).unwrap();
        assert!(
            page.contains(text.trim()),
            "docs/interchange.md lacks examples/python/{script} as it is"
        );
    }
}
