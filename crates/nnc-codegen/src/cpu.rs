//! The instruction sets and threads nnc's code uses, chosen once per process: the best the
//! host has, or what the environment asks for, so that one machine can test and measure
//! every path:
//!
//! - `NNC_CPU=generic|avx2|avx512`: the class of CPU to generate code for. `generic` is
//!   baseline x86-64 (SSE2: no AVX, no FMA, no AVX-512), `avx2` adds AVX, AVX2 and FMA
//!   (Haswell and later, Zen 1 and later), `avx512` adds AVX-512 (Skylake-X, Ice Lake,
//!   Zen 4 and later). It decides the instructions Cranelift may use and nnc's own product
//!   kernels (`small_gemm.rs`). A class above the host's is lowered to the host's: code
//!   for a CPU the machine does not have would not run. The GEMM libraries that large
//!   products call choose their own kernels at run time, up to AVX2 unless nnc is built
//!   with the `library-avx512` feature (nnc-cli's default).
//! - `NNC_THREADS=N`: threads for products and for compiling (default: two, or one on a
//!   one-core machine). `NNC_THREADS=2` splits products over two threads even on one core,
//!   which is how the split is tested anywhere.
//!
//! A value that is neither (a misspelt class, `NNC_THREADS=0`) is refused by the command
//! line before it runs ([`requested_class`], [`requested_threads`]); here it counts as
//! unset.
//!
//! Off x86-64 the class is always `generic` (an aarch64 NEON class would slot in here).

use std::sync::OnceLock;

/// A class of CPU nnc generates code for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CpuClass {
    Generic,
    Avx2,
    Avx512,
}

impl CpuClass {
    pub fn name(self) -> &'static str {
        match self {
            CpuClass::Generic => "generic",
            CpuClass::Avx2 => "avx2",
            CpuClass::Avx512 => "avx512",
        }
    }

    /// Whether code for this class may use fused multiply-adds. Baseline x86-64 has none:
    /// Cranelift would call `fmaf` for every lane of every `fma` (see `Emitter::mul_add`).
    /// Other architectures' baselines (aarch64's NEON) have them.
    pub fn has_fma(self) -> bool {
        !cfg!(target_arch = "x86_64") || self >= CpuClass::Avx2
    }

    /// A class by its name, in any case (`AVX2` is `avx2`).
    fn parse(text: &str) -> Option<CpuClass> {
        let text = text.trim();
        [CpuClass::Generic, CpuClass::Avx2, CpuClass::Avx512].into_iter().find(|c| c.name().eq_ignore_ascii_case(text))
    }
}

/// The best class the host CPU supports.
pub fn host_class() -> CpuClass {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
        {
            return CpuClass::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return CpuClass::Avx2;
        }
    }
    CpuClass::Generic
}

/// The class code is generated for: `NNC_CPU` if set (and the host has it), else the
/// host's.
pub fn class() -> CpuClass {
    static CLASS: OnceLock<CpuClass> = OnceLock::new();
    *CLASS.get_or_init(|| {
        let requested = requested_class().ok().flatten();
        requested.map_or(host_class(), |r| r.min(host_class()))
    })
}

/// The class `NNC_CPU` asks for: none when it is unset or empty, an error naming the
/// classes when it is not one of them (the command line refuses to run then, so that a
/// misspelt switch never measures the wrong path).
pub fn requested_class() -> Result<Option<CpuClass>, String> {
    let Some(text) = variable("NNC_CPU") else { return Ok(None) };
    CpuClass::parse(&text)
        .map(Some)
        .ok_or_else(|| format!("NNC_CPU=`{text}` is not a class of CPU: use generic, avx2 or avx512"))
}

/// Threads for products and compiling: `NNC_THREADS` if set, else two (one on one core).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        let requested = requested_threads().ok().flatten();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        requested.unwrap_or(cores).clamp(1, crate::gemm::MAX_THREADS)
    })
}

/// The threads `NNC_THREADS` asks for: none when it is unset or empty, an error when it is
/// not a whole number of at least one.
pub fn requested_threads() -> Result<Option<usize>, String> {
    count_variable("NNC_THREADS")
}

/// What the command line says before it runs when `NNC_CPU` asks for more than the host
/// has (code is generated for the host's class then, and a measurement should say so).
pub fn lowered_class_note() -> Option<String> {
    let requested = requested_class().ok().flatten()?;
    (requested > host_class()).then(|| {
        format!(
            "NNC_CPU={} asks for more than this CPU has: code is generated for {}",
            requested.name(),
            class().name()
        )
    })
}

/// An environment variable's value, unless it is unset or blank (nnc's `NNC_*` variables
/// count a blank value as unset).
pub fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// A count an environment variable gives: none when it is unset or blank, an error naming
/// it when it is not a whole number of at least one.
pub fn count_variable(name: &str) -> Result<Option<usize>, String> {
    let Some(text) = variable(name) else { return Ok(None) };
    match text.trim().parse::<usize>() {
        Ok(count) if count >= 1 => Ok(Some(count)),
        _ => Err(format!("{name}=`{text}` is not a whole number of at least 1")),
    }
}

/// The best class the GEMM library for large products may use: it detects the host's
/// instructions itself, so `NNC_CPU` does not reach it; AVX-512 only in a build with the
/// `library-avx512` feature.
pub fn library_class() -> CpuClass {
    let ceiling = if cfg!(feature = "library-avx512") { CpuClass::Avx512 } else { CpuClass::Avx2 };
    host_class().min(ceiling)
}

/// "avx512, 2 threads, library avx512" for reports and benchmarks.
pub fn describe() -> String {
    let threads = threads();
    let plural = if threads == 1 { "" } else { "s" };
    format!("{}, {threads} thread{plural}, library {}", class().name(), library_class().name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_named_in_any_case_and_nothing_else_is_one() {
        assert_eq!(CpuClass::parse("avx2"), Some(CpuClass::Avx2));
        assert_eq!(CpuClass::parse(" AVX512 "), Some(CpuClass::Avx512));
        assert_eq!(CpuClass::parse("Generic"), Some(CpuClass::Generic));
        for wrong in ["avx9", "avx-2", "sse2", "", "none"] {
            assert_eq!(CpuClass::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_library_class_is_the_hosts_under_the_builds_ceiling() {
        let library = library_class();
        assert!(library <= host_class());
        if cfg!(feature = "library-avx512") {
            assert_eq!(library, host_class());
        } else {
            assert!(library <= CpuClass::Avx2);
        }
        assert!(describe().ends_with(&format!("library {}", library.name())));
    }
}
