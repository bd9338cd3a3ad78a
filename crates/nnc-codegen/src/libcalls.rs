//! Host functions that compiled code calls for ops Cranelift has no instruction for.

/// `(symbol, function)` pairs registered with the JIT.
pub(crate) const LIBCALLS: &[(&str, extern "C" fn(f32) -> f32)] =
    &[("nnc_expf", nnc_expf), ("nnc_logf", nnc_logf), ("nnc_tanhf", nnc_tanhf)];

extern "C" fn nnc_expf(x: f32) -> f32 {
    x.exp()
}

extern "C" fn nnc_logf(x: f32) -> f32 {
    x.ln()
}

extern "C" fn nnc_tanhf(x: f32) -> f32 {
    x.tanh()
}
