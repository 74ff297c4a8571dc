//! Every config that passes validation trains: configs drawn at random from the valid space
//! each train a step or two on a small slice of the real MNIST files, and none may panic or
//! fail once its run folder exists.

use std::path::Path;

use burn::train::Interrupter;
use mnist_model::OutputActivation;
use mnist_runs::{RunRecord, RunStatus};
use mnist_train::{
    BackendKind, ExperimentConfig, LrSchedule, OptimizerKind, ProgressView, RunDir, RunEnd,
    RunRequest, TrainingLoop,
};
use proptest::prelude::*;

fn valid_config() -> impl Strategy<Value = ExperimentConfig> {
    (
        (
            0..=i64::MAX as u64,
            1usize..=2,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            1usize..=48,
            1usize..=3,
            1usize..=1500,
            any::<bool>(),
            0usize..=2,
        ),
        (-1.0f32..1.0, 0.1f32..3.0, 1usize..=300),
        (
            any::<bool>(),
            -5.0f64..0.0,
            0.0f64..0.99,
            any::<bool>(),
            0.0f64..0.01,
            any::<bool>(),
        ),
    )
        .prop_map(|(run, data, scale, optimizer)| {
            let (seed, epochs, sigmoid, deskew) = run;
            let (batch_size, batches, test_batch_size, shuffle, num_workers) = data;
            let (mean, std, test_limit) = scale;
            let (adam, log_lr, momentum, nesterov, weight_decay, cosine) = optimizer;
            let mut config = ExperimentConfig::new();
            config.seed = seed;
            config.epochs = epochs;
            config.model.activation = if sigmoid {
                OutputActivation::Sigmoid
            } else {
                OutputActivation::None
            };
            config.data.batch_size = batch_size;
            config.data.train_limit = Some(batch_size * batches);
            config.data.test_limit = Some(test_limit);
            config.data.test_batch_size = test_batch_size;
            config.data.shuffle = shuffle;
            config.data.deskew = deskew;
            config.data.num_workers = num_workers;
            config.data.mean = mean;
            config.data.std = std;
            let optimizer = &mut config.optimizer;
            optimizer.lr = 10f64.powf(log_lr);
            optimizer.weight_decay = weight_decay;
            optimizer.name = if adam {
                OptimizerKind::Adam
            } else {
                OptimizerKind::Sgd
            };
            if !adam {
                optimizer.momentum = momentum;
                optimizer.nesterov = nesterov && momentum > 0.0;
            }
            if cosine {
                optimizer.schedule = LrSchedule::Cosine;
                optimizer.min_lr = optimizer.lr / 10.0;
            }
            config
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_config_that_loads_trains(config in valid_config()) {
        let work = tempfile::tempdir().unwrap();
        let path = work.path().join("generated.toml");
        std::fs::write(&path, config.to_toml()).unwrap();
        let loaded = ExperimentConfig::load(&path, &[]);
        prop_assert!(loaded.is_ok(), "{:?} refused: {}", config, loaded.unwrap_err());
        let loaded = loaded.unwrap();
        prop_assert_eq!(&loaded, &config, "every key read back as written");
        let out = work.path().join("run");
        let outcome = mnist_train::train(&RunRequest {
            config: &loaded,
            config_path: &path,
            name: "generated",
            backend: BackendKind::Flex,
            run_dir: RunDir::New { out: Some(&out), force: false },
            progress: ProgressView::Plain,
            completed: Vec::new(),
            interrupter: Interrupter::new(),
            sync_every: None,
            debug_syncs: false,
            training_loop: TrainingLoop::Batched,
            epoch_gate: None,
        });
        prop_assert!(outcome.is_ok(), "{}: {:#}", loaded.to_toml(), outcome.unwrap_err());
        let outcome = outcome.unwrap();
        prop_assert_eq!(outcome.end, RunEnd::Finished);
        prop_assert_eq!(outcome.epochs.len(), loaded.epochs);
        for epoch in &outcome.epochs {
            let numbers = [epoch.train_loss, epoch.train_acc, epoch.test_loss, epoch.test_acc];
            prop_assert!(numbers.iter().all(|n| n.is_finite() && *n >= 0.0), "{:?}", epoch);
            prop_assert!(epoch.train_acc <= 100.0 && epoch.test_acc <= 100.0, "{:?}", epoch);
        }
        let record = RunRecord::read(Path::new(&out)).unwrap();
        prop_assert_eq!(record.status, RunStatus::Finished);
        let model = out.join(format!("{}.bpk", mnist_runs::MODEL_STEM));
        prop_assert!(model.is_file(), "{} is missing", model.display());
    }
}
