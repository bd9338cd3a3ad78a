//! Generated programs for property tests: well-typed networks on inline tables, every
//! activation, loss, optimizer, schedule and batch split the language has.

use crate::fill;
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Task {
    Regression { outputs: usize, loss: &'static str },
    Binary { sigmoid: bool },
    Classes { classes: usize, softmax: bool },
}

#[derive(Clone, Debug)]
pub struct Net {
    pub inputs: usize,
    pub hidden: Vec<(usize, &'static str)>,
    pub task: Task,
    pub rows: usize,
    pub batch: usize,
    pub optimizer: String,
    pub schedule: Option<(u64, f32)>,
    pub epochs: u64,
    pub seed: u64,
}

const ACTIVATIONS: [&str; 5] = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"];

fn task() -> impl Strategy<Value = Task> {
    prop_oneof![
        (1..=2usize, prop_oneof![Just("mse"), Just("mae")])
            .prop_map(|(outputs, loss)| Task::Regression { outputs, loss }),
        any::<bool>().prop_map(|sigmoid| Task::Binary { sigmoid }),
        // From 5 classes a row of the softmax is a vector and a ragged rest (`loops.rs`).
        (2..=7usize, any::<bool>()).prop_map(|(classes, softmax)| Task::Classes { classes, softmax }),
    ]
}

fn optimizer() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("sgd(lr = 0.1)".to_string()),
        Just("sgd(lr = 0.05, momentum = 0.9)".to_string()),
        Just("sgd(lr = 0.05, momentum = 0.8, nesterov = true, weight_decay = 0.01)".to_string()),
        Just("adam(lr = 0.01)".to_string()),
        Just("adam(lr = 0.02, beta1 = 0.8, weight_decay = 0.001)".to_string()),
    ]
}

pub fn net() -> impl Strategy<Value = Net> {
    let hidden = prop::collection::vec((1..=6usize, prop::sample::select(&ACTIVATIONS[..])), 0..=2);
    (
        1..=4usize,
        hidden,
        task(),
        1..=9usize,
        optimizer(),
        prop::option::of((1..=2u64, 0.3f32..0.9)),
        1..=3u64,
        any::<u64>(),
    )
        .prop_flat_map(|(inputs, hidden, task, rows, optimizer, schedule, epochs, seed)| {
            (1..=rows).prop_map(move |batch| Net {
                inputs,
                hidden: hidden.clone(),
                task: task.clone(),
                rows,
                batch,
                optimizer: optimizer.clone(),
                schedule,
                epochs,
                seed,
            })
        })
}

impl Net {
    fn outputs(&self) -> usize {
        match self.task {
            Task::Regression { outputs, .. } => outputs,
            Task::Binary { .. } => 1,
            Task::Classes { classes, .. } => classes,
        }
    }

    /// The program: an inline table of deterministic values, the model, the training.
    pub fn source(&self) -> String {
        let xs = fill(self.rows * self.inputs, self.seed as u32);
        let ys = fill(self.rows * self.outputs(), self.seed as u32 ^ 0x5a5a);
        let columns = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(" ");
        let mut source = format!("data d {{\n  {} -> {}\n", columns("x", self.inputs), columns("y", self.outputs()));
        for row in 0..self.rows {
            let inputs = &xs[row * self.inputs..(row + 1) * self.inputs];
            let targets: Vec<f32> = match self.task {
                Task::Regression { outputs, .. } => ys[row * outputs..(row + 1) * outputs].to_vec(),
                Task::Binary { .. } => vec![f32::from(u8::from(ys[row] > 0.0))],
                Task::Classes { classes, .. } => {
                    let class = (ys[row * classes].abs() * 1000.0) as usize % classes;
                    (0..classes).map(|c| f32::from(u8::from(c == class))).collect()
                }
            };
            let text = |v: &[f32]| v.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(" ");
            source.push_str(&format!("  {} -> {}\n", text(inputs), text(&targets)));
        }
        source.push_str(&format!("}}\nmodel m {{\n  input {}\n", self.inputs));
        for (units, activation) in &self.hidden {
            source.push_str(&format!("  dense {units} {activation}\n"));
        }
        let (last, loss) = match self.task {
            Task::Regression { loss, .. } => ("", loss),
            Task::Binary { sigmoid } => (if sigmoid { " sigmoid" } else { "" }, "bce"),
            Task::Classes { softmax, .. } => (if softmax { " softmax" } else { "" }, "softmax_ce"),
        };
        source.push_str(&format!("  dense {}{last}\n}}\n", self.outputs()));
        let schedule = self
            .schedule
            .map_or(String::new(), |(every, factor)| format!("\n  schedule step(every = {every}, factor = {factor})"));
        source.push_str(&format!(
            "train m on d {{\n  loss {loss}\n  optimizer {}{schedule}\n  epochs {}\n  batch {}\n  seed {}\n}}\n",
            self.optimizer,
            self.epochs,
            self.batch,
            self.seed % 1000
        ));
        source
    }
}
