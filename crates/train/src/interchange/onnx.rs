//! The model as an ONNX graph: `pixels [N, 784]` -> Gemm (+ Sigmoid) -> `scores [N, 10]`.
//!
//! Built with the `onnx-protobuf` message types (generated from ONNX's `onnx.proto`) and
//! serialised by the `protobuf` crate. Burn's own exporter (`burn-onnx` with its `export`
//! feature) needs Burn 0.23 (`burn = "=0.23.0-pre.1"`), so it cannot export a Burn 0.22
//! module; when the project moves to Burn 0.23 this file can become a call to it.

use anyhow::anyhow;
use mnist_data::{IMAGE_PIXELS, NUM_CLASSES};
use mnist_model::OutputActivation;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{Dimension, dimension};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto, type_proto,
};

use super::Sidecar;
use mnist_runs::TrainedModel;

/// Opset 17 and IR version 8: what onnxruntime and PyTorch's exporter both handle well.
const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;
pub const INPUT: &str = "pixels";
pub const OUTPUT: &str = "scores";

/// The serialised ONNX model of `trained`, with the sidecar's facts as metadata.
pub fn model_bytes(trained: &TrainedModel, sidecar: &Sidecar) -> anyhow::Result<Vec<u8>> {
    // Burn keeps the weight input-major [784, 10]; Gemm with transB takes PyTorch's [10, 784].
    let burn_weights = trained.model.weight_values();
    let weights: Vec<f32> = (0..NUM_CLASSES)
        .flat_map(|class| (0..IMAGE_PIXELS).map(move |pixel| (pixel, class)))
        .map(|(pixel, class)| burn_weights[pixel * NUM_CLASSES + class])
        .collect();
    let bias = trained.model.bias_values();

    let mut nodes = vec![node(
        "Gemm",
        &[INPUT, "linear.weight", "linear.bias"],
        "linear",
        vec![int_attribute("transB", 1)],
    )];
    let mut last = "linear".to_string();
    if sidecar.activation == OutputActivation::Sigmoid {
        nodes.push(node("Sigmoid", &["linear"], "sigmoid", Vec::new()));
        last = "sigmoid".into();
    }
    nodes.push(node("Identity", &[&last], OUTPUT, Vec::new()));

    let mut graph = GraphProto::new();
    graph.name = "mnist_burn_logistic_regression".into();
    graph.node = nodes;
    graph.initializer = vec![
        tensor("linear.weight", &[NUM_CLASSES, IMAGE_PIXELS], weights),
        tensor("linear.bias", &[NUM_CLASSES], bias),
    ];
    graph.input = vec![value_info(INPUT, IMAGE_PIXELS)];
    graph.output = vec![value_info(OUTPUT, NUM_CLASSES)];

    let mut model = ModelProto::new();
    model.ir_version = IR_VERSION;
    model.producer_name = "mnist-burn".into();
    model.producer_version = env!("CARGO_PKG_VERSION").into();
    let mut opset = OperatorSetIdProto::new();
    opset.version = OPSET;
    model.opset_import = vec![opset];
    model.doc_string = "Multinomial logistic regression on MNIST, trained with Burn. Input: \
                        (pixel / 255 - mean) / std of 28x28 row-major pictures; output: class \
                        scores (softmax gives probabilities)."
        .into();
    model.graph = Some(graph).into();
    model.metadata_props = [
        ("mnist_burn.sidecar", sidecar.to_json()),
        ("mnist_burn.mean", sidecar.normalization.mean.to_string()),
        ("mnist_burn.std", sidecar.normalization.std.to_string()),
        ("mnist_burn.classes", sidecar.classes.join(",")),
        ("mnist_burn.config", trained.config.to_toml()),
    ]
    .into_iter()
    .map(|(key, value)| {
        let mut entry = StringStringEntryProto::new();
        entry.key = key.into();
        entry.value = value;
        entry
    })
    .collect();
    model
        .write_to_bytes()
        .map_err(|error| anyhow!("cannot encode the ONNX model: {error}"))
}

fn node(op_type: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    let mut node = NodeProto::new();
    node.op_type = op_type.into();
    node.name = format!("{output}_{}", op_type.to_lowercase());
    node.input = inputs.iter().map(|input| input.to_string()).collect();
    node.output = vec![output.into()];
    node.attribute = attribute;
    node
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    let mut attribute = AttributeProto::new();
    attribute.name = name.into();
    attribute.type_ = attribute_proto::AttributeType::INT.into();
    attribute.i = value;
    attribute
}

fn tensor(name: &str, dims: &[usize], values: Vec<f32>) -> TensorProto {
    let mut tensor = TensorProto::new();
    tensor.name = name.into();
    tensor.dims = dims.iter().map(|&dim| dim as i64).collect();
    tensor.data_type = DataType::FLOAT as i32;
    tensor.float_data = values;
    tensor
}

/// A float tensor `[batch, width]` with a symbolic batch size.
fn value_info(name: &str, width: usize) -> ValueInfoProto {
    let dimension = |value| {
        let mut dimension = Dimension::new();
        dimension.value = Some(value);
        dimension
    };
    let mut shape = TensorShapeProto::new();
    shape.dim = vec![
        dimension(dimension::Value::DimParam("N".into())),
        dimension(dimension::Value::DimValue(width as i64)),
    ];
    let mut tensor_type = type_proto::Tensor::new();
    tensor_type.elem_type = DataType::FLOAT as i32;
    tensor_type.shape = Some(shape).into();
    let mut value_type = TypeProto::new();
    value_type.value = Some(type_proto::Value::TensorType(tensor_type));
    let mut info = ValueInfoProto::new();
    info.name = name.into();
    info.type_ = Some(value_type).into();
    info
}
