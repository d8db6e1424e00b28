//! Which machine code is compiled for, and what a compiled module records
//! about it so that it is never run on a machine that cannot execute it.
//!
//! Code generation uses every CPU feature Cranelift detects on the host
//! (`cranelift-native`: SSE4.1, AVX, AVX2, FMA, BMI, LZCNT, POPCNT on x86-64;
//! LSE and the like on aarch64), and relaxed SIMD operators may even give
//! different answers with and without some of them. A compiled module
//! therefore carries its [`CodeTarget`]: the triple and the features its
//! code may use. Loading checks both against the loading engine.

use cranelift_codegen::isa::TargetIsa;

use crate::error::{CompileError, CompileResult};

/// Which machine to compile for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The machine this process runs on, with its CPU features.
    Host,
    /// A target triple such as `aarch64-unknown-linux-gnu`, with baseline
    /// CPU features.
    Triple(String),
}

/// The machine a compiled module's code runs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CodeTarget {
    /// The target triple, such as `x86_64-unknown-linux-gnu`.
    pub triple: String,
    /// The CPU features the code may use: the names of Cranelift's ISA
    /// flags that are on (`has_avx2`, ...), and `name=value` for the few
    /// that are not on/off, sorted.
    pub cpu_features: Vec<String>,
}

impl CodeTarget {
    /// The target of code compiled by `isa`.
    pub fn of_isa(isa: &dyn TargetIsa) -> CodeTarget {
        let mut cpu_features: Vec<String> = isa
            .isa_flags()
            .iter()
            .filter_map(|v| match v.as_bool() {
                Some(true) => Some(v.name.to_string()),
                Some(false) => None,
                None => Some(v.to_string()),
            })
            .collect();
        cpu_features.sort();
        CodeTarget {
            triple: isa.triple().to_string(),
            cpu_features,
        }
    }

    /// Checks that code compiled for `code` runs on `self`: the same
    /// triple, and every feature `code` uses is one `self` has.
    ///
    /// # Errors
    ///
    /// [`CompileError::Target`] naming what differs.
    pub fn check_runs(&self, code: &CodeTarget) -> CompileResult<()> {
        if code.triple != self.triple {
            return Err(CompileError::Target(format!(
                "code compiled for {}, but this machine is {}",
                code.triple, self.triple
            )));
        }
        if let Some(missing) = code
            .cpu_features
            .iter()
            .find(|f| !self.cpu_features.contains(f))
        {
            return Err(CompileError::Target(format!(
                "code compiled to use the CPU feature `{missing}`, which this machine lacks"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> CodeTarget {
        let isa = cranelift_native::builder()
            .unwrap()
            .finish(cranelift_codegen::settings::Flags::new(
                cranelift_codegen::settings::builder(),
            ))
            .unwrap();
        CodeTarget::of_isa(&*isa)
    }

    #[test]
    fn host_runs_its_own_code() {
        let host = host();
        assert!(!host.triple.is_empty());
        host.check_runs(&host).unwrap();
        // Fewer features is fine.
        let mut baseline = host.clone();
        baseline.cpu_features.clear();
        host.check_runs(&baseline).unwrap();
    }

    #[test]
    fn refuses_other_triples_and_missing_features() {
        let host = host();
        let mut other = host.clone();
        other.triple = "riscv64gc-unknown-linux-gnu".into();
        let e = host.check_runs(&other).unwrap_err().to_string();
        assert!(e.contains("riscv64gc-unknown-linux-gnu"), "{e}");

        let mut more = host.clone();
        more.cpu_features.push("has_imaginary_unit".into());
        let e = host.check_runs(&more).unwrap_err().to_string();
        assert!(e.contains("`has_imaginary_unit`"), "{e}");
    }
}
