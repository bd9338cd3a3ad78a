//! Parameter initialisation: literal values where the program gives them, a layer's
//! `init`/`bias_init` where given, otherwise He (ReLU-like layers) or Xavier/Glorot
//! (others) for weights and zeros for biases, from a seeded generator. Batch norm starts
//! as the identity (γ = 1, β = 0, running mean 0 and variance 1); an embedding's table is
//! standard normal, as PyTorch's.

use nnc_check::{Activation, Init, Layer, LayerKind, Model};
use rand::distr::uniform::SampleRange;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Initial values of every forward parameter of `model`, layer by layer in the order of
/// `Layer::params`.
pub fn initial_params(model: &Model, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = Vec::new();
    for layer in &model.layers {
        params.extend(layer_params(layer, &mut rng));
    }
    params
}

fn layer_params(layer: &Layer, rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let specs = layer.params();
    let count = |i: usize| specs[i].shape.iter().product::<usize>();
    match layer.kind {
        LayerKind::Dense { .. } | LayerKind::Conv { .. } => {
            // Fans over the kernel's window, as Keras and PyTorch count them.
            let shape = &specs[0].shape;
            let (fan_in, fan_out) = match shape[..] {
                [kh, kw, c, f] => (kh * kw * c, kh * kw * f),
                [inputs, units] => (inputs, units),
                _ => unreachable!("weights are a matrix or a filter bank"),
            };
            let default = match layer.activation {
                // He keeps the variance of ReLU activations constant across layers.
                Activation::Relu | Activation::LeakyRelu => Init::He,
                Activation::Identity | Activation::Sigmoid | Activation::Tanh | Activation::Softmax => Init::Xavier,
            };
            let weights = match &layer.weights {
                Some(literal) => literal.clone(),
                None => sample(rng, layer.init.unwrap_or(default), fan_in, fan_out, count(0)),
            };
            let bias = match &layer.bias {
                Some(literal) => literal.clone(),
                None => sample(rng, layer.bias_init.unwrap_or(Init::Zeros), fan_in, fan_out, count(1)),
            };
            vec![weights, bias]
        }
        LayerKind::BatchNorm { .. } => {
            vec![vec![1.0; count(0)], vec![0.0; count(1)], vec![0.0; count(2)], vec![1.0; count(3)]]
        }
        LayerKind::Embedding { dim, .. } => {
            let rows = specs[0].shape[0];
            match &layer.weights {
                Some(literal) => vec![literal.clone()],
                None => vec![sample(rng, layer.init.unwrap_or(Init::Normal(0.0, 1.0)), rows, dim, count(0))],
            }
        }
        LayerKind::Pool { .. } | LayerKind::Flatten | LayerKind::Dropout { .. } | LayerKind::Join { .. } => Vec::new(),
    }
}

fn sample(rng: &mut ChaCha8Rng, init: Init, fan_in: usize, fan_out: usize, count: usize) -> Vec<f32> {
    match init {
        Init::Zeros => vec![0.0; count],
        Init::Constant(value) => vec![value; count],
        // Checking keeps the range non-empty and finite in f32; were it not, `low` is
        // the safest value.
        Init::Uniform(low, high) => (0..count).map(|_| (low..high).sample_single(rng).unwrap_or(low)).collect(),
        Init::Normal(mean, std) => normal(rng, mean, std, count),
        Init::Xavier => {
            let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
            (0..count).map(|_| rng.random_range(-limit..=limit)).collect()
        }
        Init::He => normal(rng, 0.0, (2.0 / fan_in as f32).sqrt(), count),
    }
}

fn normal(rng: &mut ChaCha8Rng, mean: f32, std: f32, count: usize) -> Vec<f32> {
    match Normal::new(mean, std) {
        Ok(distribution) => (0..count).map(|_| distribution.sample(rng)).collect(),
        // Checking keeps the deviation positive and finite in f32, so this is unreachable;
        // the mean is the safest value if it ever is not.
        Err(_) => vec![mean; count],
    }
}
