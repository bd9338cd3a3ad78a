//! Parameter initialisation: literal values where the program gives them, otherwise
//! He (ReLU layers) or Xavier/Glorot (others), from a seeded generator.

use nnc_lower::{Activation, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Initial values of every forward parameter (`w` then `b` per layer) of `model`.
pub fn initial_params(model: &Model, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = Vec::new();
    for (index, layer) in model.layers.iter().enumerate() {
        let (fan_in, fan_out) = (model.fan_in(index), layer.units);
        let weights = match &layer.weights {
            Some(literal) => literal.clone(),
            None => random_weights(&mut rng, layer.activation, fan_in, fan_out),
        };
        params.push(weights);
        params.push(layer.bias.clone().unwrap_or_else(|| vec![0.0; fan_out]));
    }
    params
}

fn random_weights(rng: &mut ChaCha8Rng, activation: Activation, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let count = fan_in * fan_out;
    match activation {
        // He: keeps the variance of ReLU activations constant across layers.
        Activation::Relu => {
            let normal = Normal::new(0.0, (2.0 / fan_in as f32).sqrt()).expect("positive standard deviation");
            (0..count).map(|_| normal.sample(rng)).collect()
        }
        // Xavier/Glorot uniform: for symmetric activations and linear outputs.
        Activation::Identity | Activation::Sigmoid | Activation::Tanh => {
            let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
            (0..count).map(|_| rng.random_range(-limit..=limit)).collect()
        }
    }
}
