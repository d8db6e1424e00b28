//! The spec-script runner behind `cljit wast` and the spec test suite.
//!
//! A script is a list of directives: modules to instantiate, instances to
//! register, invocations, and assertions. [`WastContext::run`] executes them
//! in order against one store and reports every assertion it ran, counting
//! each `assert_*` directive once, and every failure with its line. Trap
//! messages are compared (as substrings); error texts of invalid or malformed
//! modules are not, since engines word them differently.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow, bail};
use cljit::{
    Config, Engine, Error, ExternRef, Instance, Linker, Module, Store, StoreLimits, Trap, Val,
};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{
    QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat,
};

use crate::spectest::link_spectest;

/// One failed directive.
#[derive(Debug, Clone)]
pub struct WastFailure {
    /// 1-based line of the directive.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

/// What running one script did.
#[derive(Debug, Clone, Default)]
pub struct WastReport {
    /// `assert_*` directives run (passed or failed).
    pub assertions: usize,
    /// All directives run.
    pub directives: usize,
    /// Directives that failed, assertions or not.
    pub failures: Vec<WastFailure>,
}

/// The state of one script: a store, a linker with `spectest` and registered
/// instances, and the named instances and module definitions.
pub struct WastContext {
    engine: Engine,
    store: Store<StoreLimits>,
    linker: Linker<StoreLimits>,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    externs: HashMap<u32, ExternRef>,
    via_artifact: bool,
}

/// The outcome of executing an action: its results, or the error it raised.
type Outcome = Result<Vec<Val>, Error>;

fn is_assertion(directive: &WastDirective<'_>) -> bool {
    use WastDirective::*;
    matches!(
        directive,
        AssertMalformed { .. }
            | AssertInvalid { .. }
            | AssertInvalidCustom { .. }
            | AssertMalformedCustom { .. }
            | AssertTrap { .. }
            | AssertReturn { .. }
            | AssertExhaustion { .. }
            | AssertUnlinkable { .. }
            | AssertException { .. }
            | AssertSuspension { .. }
    )
}

/// Counts the `assert_*` directives of a script without running it.
///
/// # Errors
///
/// If the script does not parse.
pub fn count_assertions(filename: &str, contents: &str) -> anyhow::Result<usize> {
    let contents = &*normalize(contents);
    let buffer = parse_buffer(filename, contents)?;
    let wast =
        parser::parse::<Wast<'_>>(&buffer).map_err(|e| parse_error(e, filename, contents))?;
    Ok(wast.directives.iter().filter(|d| is_assertion(d)).count())
}

/// Rewrites the legacy `assert_uninstantiable` directive (which `wast` no
/// longer parses) as the `assert_trap` on a module that the spec replaced it
/// with, padded to the same length so positions in messages stay right.
fn normalize(contents: &str) -> std::borrow::Cow<'_, str> {
    const LEGACY: &str = "(assert_uninstantiable";
    const CURRENT: &str = "(assert_trap          ";
    const _: () = assert!(LEGACY.len() == CURRENT.len());
    if contents.contains(LEGACY) {
        contents.replace(LEGACY, CURRENT).into()
    } else {
        contents.into()
    }
}

fn parse_buffer<'a>(filename: &str, contents: &'a str) -> anyhow::Result<ParseBuffer<'a>> {
    let mut lexer = Lexer::new(contents);
    lexer.allow_confusing_unicode(true);
    ParseBuffer::new_with_lexer(lexer).map_err(|e| parse_error(e, filename, contents))
}

fn parse_error(mut e: wast::Error, filename: &str, contents: &str) -> anyhow::Error {
    e.set_path(filename.as_ref());
    e.set_text(contents);
    anyhow!("{e}")
}

impl WastContext {
    /// A fresh context with `spectest` defined.
    ///
    /// # Errors
    ///
    /// If the engine cannot be created with `config`.
    pub fn new(config: &Config) -> anyhow::Result<WastContext> {
        let engine = Engine::new(config)?;
        let mut store = Store::new(&engine, StoreLimits::default());
        // Code with limit checks runs unbounded unless the caller sets
        // limits (see `apply_limits`).
        let tunables = *engine.config().tunables();
        if tunables.consume_fuel {
            store.set_fuel(u64::MAX)?;
        }
        if tunables.epoch_interruption {
            store.set_epoch_deadline(u64::MAX)?;
        }
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        link_spectest(&mut linker, &mut store)?;
        Ok(WastContext {
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            externs: HashMap::new(),
            via_artifact: false,
        })
    }

    /// Applies the store-side limits of `options`: fuel (`-W fuel`), a
    /// deadline that `-W timeout` brings on, and the `-W max-*` caps.
    ///
    /// # Errors
    ///
    /// A limit too large for this machine.
    pub fn apply_limits(&mut self, options: &crate::flags::Options) -> anyhow::Result<()> {
        if let Some(fuel) = options.fuel {
            self.store.set_fuel(fuel)?;
        }
        if let Some(timeout) = options.timeout {
            self.store.set_epoch_deadline(1)?;
            let engine = self.engine.clone();
            std::thread::spawn(move || {
                std::thread::sleep(timeout);
                engine.increment_epoch();
            });
        }
        if let Some(limits) = options.store_limits()? {
            *self.store.data_mut() = limits;
            self.store.limiter(|limits| limits);
        }
        Ok(())
    }

    /// Loads every module of the script through an artifact (written by
    /// [`Engine::precompile_module`] and read back by
    /// [`Module::deserialize`]) instead of straight from the compiler: the
    /// AOT path's round trip.
    pub fn via_artifact(&mut self, enable: bool) -> &mut WastContext {
        self.via_artifact = enable;
        self
    }

    /// Compiles a binary module, through an artifact if so configured.
    fn load(&self, bytes: &[u8]) -> cljit::Result<Module> {
        if !self.via_artifact {
            return Module::from_binary(&self.engine, bytes);
        }
        let artifact = self.engine.precompile_module(bytes)?;
        // SAFETY: the artifact was written by this engine just now.
        #[allow(unsafe_code, reason = "loading an artifact this engine wrote")]
        unsafe {
            Module::deserialize(&self.engine, &artifact)
        }
    }

    /// Runs a script.
    ///
    /// # Errors
    ///
    /// If the script does not parse. Failing directives are not errors: they
    /// are listed in the report.
    pub fn run(&mut self, filename: &str, contents: &str) -> anyhow::Result<WastReport> {
        let contents = &*normalize(contents);
        let buffer = parse_buffer(filename, contents)?;
        let wast =
            parser::parse::<Wast<'_>>(&buffer).map_err(|e| parse_error(e, filename, contents))?;
        let mut report = WastReport::default();
        for directive in wast.directives {
            let (line, column) = directive.span().linecol_in(contents);
            report.directives += 1;
            if is_assertion(&directive) {
                report.assertions += 1;
            }
            if let Err(e) = self.directive(directive) {
                report.failures.push(WastFailure {
                    line: line + 1,
                    column: column + 1,
                    message: format!("{e:#}"),
                });
            }
        }
        Ok(report)
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> anyhow::Result<()> {
        use WastDirective::*;
        match directive {
            Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = self.compile(&mut module)?;
                let instance = self.linker.instantiate(&mut self.store, &compiled)?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
            }
            ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions.insert(name, compiled.clone());
                }
                self.last_definition = Some(compiled);
            }
            ModuleInstance {
                instance, module, ..
            } => {
                let definition = match module {
                    Some(id) => self
                        .definitions
                        .get(id.name())
                        .cloned()
                        .ok_or_else(|| anyhow!("no module definition `{}`", id.name()))?,
                    None => self
                        .last_definition
                        .clone()
                        .ok_or_else(|| anyhow!("no module definition to instantiate"))?,
                };
                let inst = self.linker.instantiate(&mut self.store, &definition)?;
                self.current = Some(inst);
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_string(), inst);
                }
            }
            Register { name, module, .. } => {
                let instance = self.instance(module.map(|id| id.name()))?;
                self.linker.instance(&mut self.store, name, instance)?;
            }
            Invoke(invoke) => {
                self.invoke(&invoke)??;
            }
            AssertReturn { exec, results, .. } => {
                let values = self
                    .execute(exec)?
                    .map_err(|e| anyhow!("expected a return, got: {e}"))?;
                self.match_results(&values, &results)?;
            }
            AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(values) => bail!("expected trap `{message}`, got {values:?}"),
                Err(e) => match e.as_trap() {
                    Some(trap) if trap_matches(trap, message) => {}
                    _ => bail!("expected trap `{message}`, got: {e}"),
                },
            },
            AssertException { exec, .. } => match self.execute(exec)? {
                Ok(values) => bail!("expected an exception, got {values:?}"),
                Err(e) if e.as_exception().is_some() => {}
                Err(e) => bail!("expected an exception, got: {e}"),
            },
            AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(values) => bail!("expected stack exhaustion, got {values:?}"),
                Err(e) => match e.as_trap() {
                    Some(Trap::StackOverflow)
                        if Trap::StackOverflow.message().contains(message) => {}
                    _ => bail!("expected `{message}`, got: {e}"),
                },
            },
            AssertInvalid { mut module, .. } => {
                if let Ok(bytes) = module.encode()
                    && cljit::Module::from_binary(&self.engine, &bytes).is_ok()
                {
                    bail!("an invalid module was accepted");
                }
            }
            AssertMalformed { mut module, .. } => {
                let bytes = match module.to_test() {
                    Ok(QuoteWatTest::Binary(bytes)) => bytes,
                    Ok(QuoteWatTest::Text(text)) => match text_to_binary(&text) {
                        Some(bytes) => bytes,
                        None => return Ok(()),
                    },
                    Err(_) => return Ok(()),
                };
                if cljit::Module::from_binary(&self.engine, &bytes).is_ok() {
                    bail!("a malformed module was accepted");
                }
            }
            AssertUnlinkable { mut module, .. } => {
                let bytes = module.encode()?;
                let compiled = self.load(&bytes)?;
                if self.linker.instantiate(&mut self.store, &compiled).is_ok() {
                    bail!("an unlinkable module was instantiated");
                }
            }
            other => bail!("unsupported directive at {:?}", other.span()),
        }
        Ok(())
    }

    fn compile(&mut self, module: &mut QuoteWat<'_>) -> anyhow::Result<Module> {
        let bytes = module.encode().context("failed to encode the module")?;
        Ok(self.load(&bytes)?)
    }

    fn instance(&self, name: Option<&str>) -> anyhow::Result<Instance> {
        match name {
            Some(name) => self
                .instances
                .get(name)
                .copied()
                .ok_or_else(|| anyhow!("no instance named `{name}`")),
            None => self
                .current
                .ok_or_else(|| anyhow!("no module instantiated yet")),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> anyhow::Result<Outcome> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module.map(|id| id.name()))?;
                let global = instance
                    .get_global(&self.store, global)
                    .ok_or_else(|| anyhow!("no exported global `{global}`"))?;
                Ok(Ok(vec![global.get(&self.store)]))
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode()?;
                let module = self.load(&bytes)?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> anyhow::Result<Outcome> {
        let instance = self.instance(invoke.module.map(|id| id.name()))?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| anyhow!("no exported function `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(|a| self.arg(a))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    fn arg(&mut self, arg: &WastArg<'_>) -> anyhow::Result<Val> {
        let WastArg::Core(arg) = arg else {
            bail!("component-model arguments are not supported");
        };
        Ok(match arg {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
                ..
            })
            | WastArgCore::RefNull(HeapType::Concrete(_)) => Val::FuncRef(None),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
                ..
            }) => Val::ExternRef(None),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
                ..
            }) => Val::ExnRef(None),
            WastArgCore::RefNull(HeapType::Abstract {
                ty:
                    AbstractHeapType::Any
                    | AbstractHeapType::Eq
                    | AbstractHeapType::I31
                    | AbstractHeapType::Struct
                    | AbstractHeapType::Array
                    | AbstractHeapType::None,
                ..
            }) => Val::AnyRef(None),
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(self.extern_ref(*n))),
            // A host value seen as `any` (`any.convert_extern`).
            WastArgCore::RefHost(n) => Val::AnyRef(Some(self.extern_ref(*n).to_any())),
            other => bail!("unsupported argument {other:?}"),
        })
    }

    /// The `externref` standing for host value `n` (one per `n`).
    fn extern_ref(&mut self, n: u32) -> ExternRef {
        if let Some(r) = self.externs.get(&n) {
            return *r;
        }
        let r = ExternRef::new(&mut self.store, n);
        self.externs.insert(n, r);
        r
    }

    fn match_results(&self, values: &[Val], expected: &[WastRet<'_>]) -> anyhow::Result<()> {
        if values.len() != expected.len() {
            bail!("expected {} results, got {values:?}", expected.len());
        }
        for (i, (value, expected)) in values.iter().zip(expected).enumerate() {
            let WastRet::Core(expected) = expected else {
                bail!("component-model results are not supported");
            };
            if !self.matches(value, expected)? {
                bail!("result {i}: expected {expected:?}, got {value:?}");
            }
        }
        Ok(())
    }

    fn matches(&self, value: &Val, expected: &WastRetCore<'_>) -> anyhow::Result<bool> {
        Ok(match (value, expected) {
            (Val::I32(a), WastRetCore::I32(b)) => a == b,
            (Val::I64(a), WastRetCore::I64(b)) => a == b,
            (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
            (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
            (Val::V128(a), WastRetCore::V128(p)) => v128_matches(*a, p),
            (Val::FuncRef(f), WastRetCore::RefNull(_)) => f.is_none(),
            (Val::ExternRef(e), WastRetCore::RefNull(_)) => e.is_none(),
            (Val::ExnRef(e), WastRetCore::RefNull(_)) => e.is_none(),
            (Val::AnyRef(a), WastRetCore::RefNull(_)) => a.is_none(),
            (Val::AnyRef(a), WastRetCore::RefAny) => a.is_some(),
            (Val::AnyRef(a), WastRetCore::RefEq) => a.is_some_and(|a| a.is_eq()),
            (Val::AnyRef(a), WastRetCore::RefI31) => a.is_some_and(|a| a.is_i31()),
            (Val::AnyRef(a), WastRetCore::RefStruct) => a.is_some_and(|a| a.is_struct()),
            (Val::AnyRef(a), WastRetCore::RefArray) => a.is_some_and(|a| a.is_array()),
            (Val::AnyRef(Some(a)), WastRetCore::RefHost(n)) => {
                a.to_extern()
                    .data(&self.store)
                    .ok()
                    .and_then(|d| d.downcast_ref::<u32>())
                    == Some(n)
            }
            (Val::FuncRef(f), WastRetCore::RefFunc(None)) => f.is_some(),
            (Val::ExternRef(e), WastRetCore::RefExtern(None)) => e.is_some(),
            (Val::ExternRef(Some(e)), WastRetCore::RefExtern(Some(n))) => {
                // An externref made from a wasm anyref has no host data.
                e.data(&self.store)
                    .ok()
                    .and_then(|d| d.downcast_ref::<u32>())
                    == Some(n)
            }
            (_, WastRetCore::Either(options)) => {
                for option in options {
                    if self.matches(value, option)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => false,
        })
    }
}

/// Whether the bits of an `f32` match a pattern: a value (bit for bit), or
/// a canonical or arithmetic NaN of either sign.
fn f32_matches(bits: u32, pattern: &NanPattern<wast::token::F32>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(b) => bits == b.bits,
    }
}

/// As [`f32_matches`], for `f64`.
fn f64_matches(bits: u64, pattern: &NanPattern<wast::token::F64>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(b) => bits == b.bits,
    }
}

/// Whether a `v128` matches a pattern lane by lane; float lanes may each be
/// a NaN pattern.
fn v128_matches(value: u128, pattern: &V128Pattern) -> bool {
    let bytes = value.to_le_bytes();
    let lane = |i: usize, width: usize| -> u64 {
        let mut b = [0u8; 8];
        b[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
        u64::from_le_bytes(b)
    };
    match pattern {
        V128Pattern::I8x16(l) => (0..16).all(|i| lane(i, 1) as u8 == l[i] as u8),
        V128Pattern::I16x8(l) => (0..8).all(|i| lane(i, 2) as u16 == l[i] as u16),
        V128Pattern::I32x4(l) => (0..4).all(|i| lane(i, 4) as u32 == l[i] as u32),
        V128Pattern::I64x2(l) => (0..2).all(|i| lane(i, 8) == l[i] as u64),
        V128Pattern::F32x4(l) => (0..4).all(|i| f32_matches(lane(i, 4) as u32, &l[i])),
        V128Pattern::F64x2(l) => (0..2).all(|i| f64_matches(lane(i, 8), &l[i])),
    }
}

/// Whether `trap` is the trap a script expects with `expected`. The
/// scripts use the reference interpreter's wording, which sometimes appends
/// an operand (`uninitialized element 2`); our message is the wording
/// without operands, so it may equal, contain or begin the expected text.
pub fn trap_matches(trap: Trap, expected: &str) -> bool {
    let ours = trap.message();
    ours.contains(expected)
        || expected
            .strip_prefix(ours)
            .is_some_and(|rest| rest.starts_with(' '))
}

/// Parses a quoted text module; `None` if it is malformed text.
fn text_to_binary(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let buffer = ParseBuffer::new(text).ok()?;
    let mut wat = parser::parse::<Wat<'_>>(&buffer).ok()?;
    wat.encode().ok()
}
