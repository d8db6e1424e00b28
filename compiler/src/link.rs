//! Linking: a [`CompiledModule`]'s functions laid out in one text section
//! with the calls between them resolved, ready to be copied into executable
//! memory as one block. This is what the runtime loads and what artifacts
//! hold: loading is then one copy and a handful of patches (library calls,
//! whose addresses only the loading process knows), whatever the number of
//! functions.

use std::collections::BTreeMap;

use cranelift_codegen::binemit::Reloc;
use cranelift_entity::PrimaryMap;
use serde::{Deserialize, Serialize};

use crate::abi::{AddressMap, HandlerTable, TrapTable, Tunables, VmOffsets};
use crate::compile::{CompiledFunction, CompiledModule, RelocTarget, Relocation};
use crate::error::{CompileError, CompileResult};
use crate::indices::{DefinedFuncIndex, TypeIndex};
use crate::module_info::ModuleInfo;
use crate::target::CodeTarget;

/// Where one function lies in the text, and its tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionLoc {
    /// Offset of its first byte in the text.
    pub start: u32,
    /// Length of its code in bytes.
    pub len: u32,
    /// Instructions that can trap, by offset from `start`.
    pub traps: TrapTable,
    /// Code offsets (from `start`) to wasm byte offsets, for backtraces.
    pub address_map: AddressMap,
    /// Exception handlers of its call sites, by offset from `start`.
    pub handlers: HandlerTable,
}

/// A module linked into one text section: what the runtime loads and what
/// an artifact holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkedModule {
    /// The module's declarations.
    pub info: ModuleInfo,
    /// The VMContext layout the code was compiled against.
    pub offsets: VmOffsets,
    /// The knobs the code was compiled with.
    pub tunables: Tunables,
    /// The machine and CPU features the code needs.
    pub target: CodeTarget,
    /// Defined functions.
    pub functions: PrimaryMap<DefinedFuncIndex, FunctionLoc>,
    /// Trampolines; see the two maps below.
    pub trampolines: Vec<FunctionLoc>,
    /// For each type of a defined function, its host-to-wasm trampoline (an
    /// index into `trampolines`).
    pub array_to_wasm: BTreeMap<TypeIndex, usize>,
    /// For each type of an imported function, its wasm-to-host trampoline.
    pub wasm_to_array: BTreeMap<TypeIndex, usize>,
    /// The patches left for load time (library calls only), at offsets in
    /// the text.
    pub relocations: Vec<Relocation>,
    /// Alignment the text must be placed at.
    pub text_alignment: u32,
    /// Length of the text in bytes.
    pub text_len: u64,
    /// The memory images an artifact stores (empty in freshly compiled
    /// modules, whose images the runtime builds itself).
    pub images: Vec<crate::data_image::StoredImage>,
    /// The machine code. Artifacts store it after the rest, unencoded, and
    /// loading borrows it from the artifact's bytes; it is empty in a
    /// decoded `LinkedModule`.
    #[serde(skip)]
    pub text: Vec<u8>,
}

/// Patches a call at `at` in `text` to reach `target` (both text offsets).
fn patch_call(text: &mut [u8], r: &Relocation, target: u64) -> CompileResult<()> {
    let at = r.offset as usize;
    let delta = (target as i64 + r.addend) - at as i64;
    let fail = |why: &str| Err(CompileError::Target(format!("cannot link a call: {why}")));
    match r.kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
            let Ok(rel) = i32::try_from(delta) else {
                return fail("the text exceeds 2 GiB");
            };
            text[at..at + 4].copy_from_slice(&rel.to_le_bytes());
        }
        Reloc::Arm64Call => {
            let words = delta >> 2;
            if !(-(1 << 25)..(1 << 25)).contains(&words) {
                return fail("the text exceeds aarch64's 128 MiB call range");
            }
            let mut inst = u32::from_le_bytes(text[at..at + 4].try_into().expect("4 bytes"));
            inst |= (words as u32) & 0x03ff_ffff;
            text[at..at + 4].copy_from_slice(&inst.to_le_bytes());
        }
        other => return fail(&format!("unexpected relocation kind {other:?}")),
    }
    Ok(())
}

/// Lays out `functions` in one text (each at its alignment, the gaps filled
/// with `pad`), returning the text, each function's start, and the largest
/// alignment.
fn lay_out<'a>(
    functions: impl Iterator<Item = &'a CompiledFunction>,
    pad: u8,
) -> CompileResult<(Vec<u8>, Vec<u32>, u32)> {
    let mut text = Vec::new();
    let mut starts = Vec::new();
    let mut alignment = 1u32;
    for f in functions {
        alignment = alignment.max(f.alignment.max(1));
        let start = text.len().next_multiple_of(f.alignment.max(1) as usize);
        text.resize(start, pad);
        text.extend_from_slice(&f.body);
        starts.push(
            u32::try_from(start)
                .map_err(|_| CompileError::Target("the module's code exceeds 4 GiB".into()))?,
        );
    }
    if u32::try_from(text.len()).is_err() {
        return Err(CompileError::Target(
            "the module's code exceeds 4 GiB".into(),
        ));
    }
    Ok((text, starts, alignment))
}

fn loc(start: u32, f: CompiledFunction) -> FunctionLoc {
    FunctionLoc {
        start,
        len: u32::try_from(f.body.len()).expect("placed in a text under 4 GiB"),
        traps: f.traps,
        address_map: f.address_map,
        handlers: f.handlers,
    }
}

/// The padding byte between functions: `int3` on x86-64, zeros elsewhere
/// (`udf` on aarch64). A stray jump into a gap faults.
fn pad_byte(target: &CodeTarget) -> u8 {
    if target.triple.starts_with("x86_64") {
        0xcc
    } else {
        0
    }
}

/// Links a compiled module: lays out its functions, then its trampolines,
/// and resolves the calls between functions.
///
/// # Errors
///
/// A call that cannot be encoded (code beyond the target's call range).
pub fn link(module: CompiledModule) -> CompileResult<LinkedModule> {
    let all = module.functions.values().chain(&module.trampolines);
    let (mut text, starts, text_alignment) = lay_out(all, pad_byte(&module.target))?;
    let mut relocations = Vec::new();
    let all = module.functions.values().chain(&module.trampolines);
    for (&start, f) in starts.iter().zip(all) {
        for r in &f.relocations {
            let at = Relocation {
                offset: start + r.offset,
                ..*r
            };
            match r.target {
                RelocTarget::Function(callee) => {
                    let def = module.info.defined_func_index(callee).ok_or_else(|| {
                        CompileError::Target(format!("a call to {callee:?}, which is imported"))
                    })?;
                    let target = starts[cranelift_entity::EntityRef::index(def)];
                    patch_call(&mut text, &at, u64::from(target))?;
                }
                RelocTarget::LibCall(_) => relocations.push(at),
            }
        }
    }
    let num_defined = module.functions.len();
    let mut functions = PrimaryMap::with_capacity(num_defined);
    for (&start, f) in starts
        .iter()
        .zip(module.functions.into_iter().map(|(_, f)| f))
    {
        functions.push(loc(start, f));
    }
    let trampolines = starts[num_defined..]
        .iter()
        .zip(module.trampolines)
        .map(|(&start, f)| loc(start, f))
        .collect();
    Ok(LinkedModule {
        info: module.info,
        offsets: module.offsets,
        tunables: module.tunables,
        target: module.target,
        functions,
        trampolines,
        array_to_wasm: module.array_to_wasm,
        wasm_to_array: module.wasm_to_array,
        relocations,
        text_alignment,
        text_len: text.len() as u64,
        images: Vec::new(),
        text,
    })
}

/// Links one function on its own (a trampoline made at run time). It may
/// not call other functions.
///
/// # Errors
///
/// The function calls another one.
pub fn link_function(
    f: CompiledFunction,
) -> CompileResult<(Vec<u8>, Vec<Relocation>, FunctionLoc)> {
    if f.relocations
        .iter()
        .any(|r| matches!(r.target, RelocTarget::Function(_)))
    {
        return Err(CompileError::Target("a lone function calls another".into()));
    }
    let relocations = f.relocations.clone();
    let text = f.body.clone();
    Ok((text, relocations, loc(0, f)))
}
