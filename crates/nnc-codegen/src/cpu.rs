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

    fn parse(text: &str) -> Option<CpuClass> {
        [CpuClass::Generic, CpuClass::Avx2, CpuClass::Avx512].into_iter().find(|c| c.name() == text.trim())
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
        let requested = std::env::var("NNC_CPU").ok().and_then(|v| CpuClass::parse(&v));
        requested.map_or(host_class(), |r| r.min(host_class()))
    })
}

/// Threads for products and compiling: `NNC_THREADS` if set, else two (one on one core).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        let requested = std::env::var("NNC_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        requested.unwrap_or(cores).clamp(1, crate::gemm::MAX_THREADS)
    })
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
