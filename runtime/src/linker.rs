//! [`Linker`]: named definitions that resolve a module's imports.
//!
//! Definitions are either store-bound [`Extern`]s, or host functions, which
//! are independent of any store and become a store's function when an
//! instance that imports them is created.

use std::collections::HashMap;
use std::sync::Arc;

use cljit_compiler::types::FuncType;

use crate::engine::Engine;
use crate::error::{Error, MissingImport, Result};
use crate::externals::Extern;
use crate::func::{Caller, Func, HostFn, IntoFunc};
use crate::instance::Instance;
use crate::module::{ExternType, Module};
use crate::store::{AsContextMut, StoreContextMut};
use crate::values::Val;

/// The body of a function that stands in for an unknown import: it
/// writes the results, or fails.
type UnknownBody = Box<dyn Fn(&mut [Val]) -> Result<()> + Send + Sync>;

enum Definition<T> {
    Extern(Extern),
    HostFunc(FuncType, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(ty, f) => Definition::HostFunc(ty.clone(), Arc::clone(f)),
        }
    }
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T> {
    engine: Engine,
    definitions: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("definitions", &self.definitions.len())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for modules of `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            definitions: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// Whether a later definition may replace an earlier one of the same
    /// name (off by default: redefinition is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Linker<T> {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.definitions.contains_key(&key) {
            return Err(Error::msg(format!("`{module}::{name}` is already defined")));
        }
        self.definitions.insert(key, def);
        Ok(())
    }

    /// Defines `module::name` as `item`.
    ///
    /// # Errors
    ///
    /// If the name is taken and shadowing is off.
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Linker<T>> {
        self.insert(module, name, Definition::Extern(item.into()))?;
        Ok(self)
    }

    /// Defines a host function of type `ty`.
    ///
    /// # Errors
    ///
    /// If the name is taken and shadowing is off.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Linker<T>> {
        let ty2 = ty.clone();
        let host = crate::func::untyped_host_fn_arc(ty2, func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines a host function from a typed Rust closure.
    ///
    /// # Errors
    ///
    /// If the name is taken and shadowing is off.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Linker<T>> {
        let (ty, host) = func.into_host_fn();
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines every imported function of `module` that has no definition
    /// yet as a host function that fails, when called, with "unknown
    /// import: `module::name` has not been defined" (wasmtime's
    /// `-W unknown-imports-trap`).
    ///
    /// # Errors
    ///
    /// None in practice: only undefined names are defined.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_functions(module, |m, n, _| {
            let message = format!("unknown import: `{m}::{n}` has not been defined");
            Box::new(move |_: &mut [Val]| Err(Error::msg(message.clone())))
        })
    }

    /// Defines every imported function of `module` that has no definition
    /// yet as a host function that returns zeros (null for references) of
    /// its result types (wasmtime's `-W unknown-imports-default`).
    ///
    /// # Errors
    ///
    /// None in practice: only undefined names are defined.
    pub fn define_unknown_imports_as_default_values(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_functions(module, |_, _, ty| {
            let defaults: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
            Box::new(move |results: &mut [Val]| {
                results.copy_from_slice(&defaults);
                Ok(())
            })
        })
    }

    /// Defines each undefined imported function of `module` with a body
    /// made by `make` (from its module name, field name and type).
    fn define_unknown_functions(
        &mut self,
        module: &Module,
        make: impl Fn(&str, &str, &FuncType) -> UnknownBody,
    ) -> Result<()> {
        for (m, n, ty) in module.imports() {
            let ExternType::Func(ty) = ty else {
                continue;
            };
            if self
                .definitions
                .contains_key(&(m.to_string(), n.to_string()))
            {
                continue;
            }
            let body = make(m, n, &ty);
            self.func_new(m, n, ty, move |_, _, results| body(results))?;
        }
        Ok(())
    }

    /// Defines every export of `instance` under the module name `module`.
    ///
    /// # Errors
    ///
    /// If a name is taken and shadowing is off.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Linker<T>> {
        let cx = store.as_context_mut();
        for (name, ext) in instance.exports(&cx) {
            self.insert(module, &name, Definition::Extern(ext))?;
        }
        Ok(self)
    }

    /// The definition of `module::name` in `store`, if any.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self
            .definitions
            .get(&(module.to_string(), name.to_string()))?;
        Some(self.materialize(&mut store.as_context_mut(), def))
    }

    fn materialize(&self, cx: &mut StoreContextMut<'_, T>, def: &Definition<T>) -> Extern {
        match def {
            Definition::Extern(e) => *e,
            Definition::HostFunc(ty, host) => {
                Extern::Func(Func::from_host_fn(cx, ty.clone(), Arc::clone(host)))
            }
        }
    }

    /// Instantiates `module`, resolving each import by name.
    ///
    /// # Errors
    ///
    /// An import with no definition, and everything [`Instance::new`] can
    /// report.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut cx = store.as_context_mut();
        if !Engine::same(&self.engine, module.engine()) {
            return Err(Error::msg("linker and module belong to different engines"));
        }
        let mut imports = Vec::with_capacity(module.imports().len());
        let mut missing = Vec::new();
        for (m, n, ty) in module.imports() {
            let Some(def) = self.definitions.get(&(m.to_string(), n.to_string())) else {
                missing.push(MissingImport {
                    module: m.to_string(),
                    name: n.to_string(),
                    kind: ty.kind(),
                });
                continue;
            };
            if let (Definition::HostFunc(have, _), ExternType::Func(want)) = (def, &ty)
                && have != want
            {
                return Err(Error::incompatible_import(
                    m,
                    n,
                    format!("expected {want}, found {have}"),
                ));
            }
            if missing.is_empty() {
                imports.push(self.materialize(&mut cx, def));
            }
        }
        if !missing.is_empty() {
            return Err(Error::unknown_imports(missing));
        }
        Instance::new(&mut cx, module, &imports)
    }
}
