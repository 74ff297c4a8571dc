//! Criterion: one optimiser step (forward, backward, SGD update) of the logistic regression
//! on a batch of 32 real MNIST images, on every backend compiled in.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::train::TrainStep;
use criterion::{Criterion, criterion_group, criterion_main};
use mnist_data::{DatasetKind, ImageSet, MnistBatcher, PixelScaling, Split};
use mnist_model::{ModelConfig, OutputActivation};
use mnist_train::{BackendKind, OptimizerConfig};

fn one_step(c: &mut Criterion) {
    let train = ImageSet::load(DatasetKind::Mnist, Split::Train)
        .expect("MNIST files (just data)")
        .truncated(Some(32));
    let batcher = MnistBatcher::new(Arc::new(train), PixelScaling::new(0.0, 1.0));
    let mut group = c.benchmark_group("sgd_step_batch_32");
    for backend in BackendKind::compiled() {
        // Compiled in is not usable: the CUDA backends need a driver.
        let device = match backend.usable_device() {
            Ok(device) => device.autodiff(),
            Err(why) => {
                println!("{backend}: not measured ({why:#})");
                continue;
            }
        };
        let mut model = ModelConfig::new()
            .with_activation(OutputActivation::Sigmoid)
            .init(&device);
        let mut optimizer = OptimizerConfig::new().optimizer();
        group.bench_function(backend.name(), |bench| {
            bench.iter(|| {
                let batch = batcher.batch((0..32).collect(), &device);
                let output = TrainStep::step(&model, batch);
                model = optimizer.step(0.001, model.clone(), output.grads);
                device.sync().expect("device work completes");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_step);
criterion_main!(benches);
