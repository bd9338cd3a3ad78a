//! Optimizer updates, appended to a graph after its backward pass.
//!
//! The learning rate is an input (`lr`, a scalar fed each step) so that schedules and
//! Adam's bias correction need no recompilation. Optimizer state (velocities, moments)
//! is extra parameters updated alongside the weights.

use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId};

/// Which update rule to apply to every parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Optimizer {
    /// `w -= lr * g`, or with momentum `v = mu v + g; w -= lr * v` (Nesterov: `w -= lr (g + mu v)`).
    Sgd { momentum: f32, nesterov: bool, weight_decay: f32 },
    /// Adam; the runtime folds bias correction into the `lr` input.
    Adam { beta1: f32, beta2: f32, epsilon: f32, weight_decay: f32 },
}

impl Optimizer {
    pub fn sgd() -> Optimizer {
        Optimizer::Sgd { momentum: 0.0, nesterov: false, weight_decay: 0.0 }
    }

    /// The `lr` input for step `t` (1-based): Adam folds its bias correction
    /// `sqrt(1 - beta2^t) / (1 - beta1^t)` into the rate (Kingma & Ba, section 2);
    /// SGD uses the rate as it is. The correction is computed in f64: in f32, `1 - beta2^t`
    /// cancels to a few significant digits in the first steps (beta2 = 0.999).
    pub fn step_rate(&self, lr: f32, t: u64) -> f32 {
        match *self {
            Optimizer::Sgd { .. } => lr,
            Optimizer::Adam { beta1, beta2, .. } => {
                let t = t.min(i32::MAX as u64) as i32;
                let (beta1, beta2) = (f64::from(beta1), f64::from(beta2));
                (f64::from(lr) * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t))) as f32
            }
        }
    }
}

/// Appends the update of every trainable parameter given its gradient, reading the
/// learning rate from a new scalar input `lr`. Parameters without a gradient are left alone.
pub fn append_updates(graph: &mut Graph, grads: &[Option<ValueId>], optimizer: &Optimizer) {
    let lr = graph.add_input("lr", Shape::scalar(), update_origin("lr"));
    let trainable: Vec<(u32, ValueId, ValueId)> = graph
        .values()
        .filter_map(|value| match graph.inst(value).op {
            Op::Param(slot) => grads.get(slot as usize).copied().flatten().map(|g| (slot, value, g)),
            _ => None,
        })
        .collect();
    for (slot, param, grad) in trainable {
        let name = graph.params[slot as usize].name.clone();
        let shape = graph.shape(param).clone();
        // The update belongs to the layer that declares the parameter.
        let origin = Origin { span: graph.inst(param).origin.span, ..update_origin(&name) };
        let mut updater = Updater { graph: &mut *graph, shape, origin };
        let new_value = updater.update(&name, param, grad, lr, optimizer);
        graph.updates.push((slot, new_value));
    }
}

fn update_origin(label: &str) -> Origin {
    Origin { section: Some(Section::Update), label: label.into(), span: None }
}

struct Updater<'g> {
    graph: &'g mut Graph,
    shape: Shape,
    origin: Origin,
}

impl Updater<'_> {
    fn update(&mut self, name: &str, param: ValueId, grad: ValueId, lr: ValueId, optimizer: &Optimizer) -> ValueId {
        match *optimizer {
            Optimizer::Sgd { momentum, nesterov, weight_decay } => {
                let grad = self.decay(grad, param, weight_decay);
                let step = if momentum == 0.0 {
                    grad
                } else {
                    let velocity = self.state(&format!("{name}.velocity"));
                    let new_velocity = self.mix(momentum, velocity, 1.0, grad);
                    self.graph.updates.push((self.slot_of(velocity), new_velocity));
                    if nesterov { self.mix(1.0, grad, momentum, new_velocity) } else { new_velocity }
                };
                self.descend(param, lr, step)
            }
            Optimizer::Adam { beta1, beta2, epsilon, weight_decay } => {
                let grad = self.decay(grad, param, weight_decay);
                let m = self.state(&format!("{name}.m"));
                let v = self.state(&format!("{name}.v"));
                let new_m = self.mix(beta1, m, 1.0 - beta1, grad);
                let grad_sq = self.binary(Op::Mul, grad, grad);
                let new_v = self.mix(beta2, v, 1.0 - beta2, grad_sq);
                self.graph.updates.push((self.slot_of(m), new_m));
                self.graph.updates.push((self.slot_of(v), new_v));
                let root = self.graph.push(Op::Sqrt, vec![new_v], self.origin.clone());
                let eps = self.constant(epsilon);
                let denominator = self.binary(Op::Add, root, eps);
                let step = self.binary(Op::Div, new_m, denominator);
                self.descend(param, lr, step)
            }
        }
    }

    /// `g + wd * w` (L2 weight decay), or `g` when `wd` is zero.
    fn decay(&mut self, grad: ValueId, param: ValueId, weight_decay: f32) -> ValueId {
        if weight_decay == 0.0 { grad } else { self.mix(1.0, grad, weight_decay, param) }
    }

    /// `w - lr * step`.
    fn descend(&mut self, param: ValueId, lr: ValueId, step: ValueId) -> ValueId {
        let lr = self.graph.broadcast(lr, &self.shape, self.origin.clone());
        let scaled = self.binary(Op::Mul, lr, step);
        self.binary(Op::Sub, param, scaled)
    }

    /// `a * x + b * y`, skipping multiplications by one.
    fn mix(&mut self, a: f32, x: ValueId, b: f32, y: ValueId) -> ValueId {
        let x = self.scale(a, x);
        let y = self.scale(b, y);
        self.binary(Op::Add, x, y)
    }

    fn scale(&mut self, factor: f32, value: ValueId) -> ValueId {
        if factor == 1.0 {
            return value;
        }
        let factor = self.constant(factor);
        self.binary(Op::Mul, factor, value)
    }

    fn constant(&mut self, value: f32) -> ValueId {
        self.graph.constant(value, &self.shape, self.origin.clone())
    }

    fn binary(&mut self, op: Op, a: ValueId, b: ValueId) -> ValueId {
        self.graph.push(op, vec![a, b], self.origin.clone())
    }

    fn state(&mut self, name: &str) -> ValueId {
        self.graph.add_param(name, self.shape.clone(), self.origin.clone())
    }

    fn slot_of(&self, value: ValueId) -> u32 {
        match self.graph.inst(value).op {
            Op::Param(slot) => slot,
            ref op => unreachable!("optimizer state is a param, got {}", op.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Optimizer;

    /// The bias-corrected rate agrees with the f64 formula to f32 rounding; computed in f32,
    /// `1 - 0.999^t` keeps only about four digits and the rate is off by 2e-5 (relative).
    #[test]
    fn adam_rate_is_exact_to_f32_rounding() {
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weight_decay: 0.0 };
        for t in [1u64, 2, 10, 1000, 100_000] {
            let (b1, b2) = (f64::from(0.9f32), f64::from(0.999f32));
            let exact = 0.001f32 as f64 * (1.0 - b2.powi(t as i32)).sqrt() / (1.0 - b1.powi(t as i32));
            let got = f64::from(adam.step_rate(0.001, t));
            assert!((got - exact).abs() <= 1e-7 * exact, "t = {t}: {got} vs {exact}");
        }
    }
}
