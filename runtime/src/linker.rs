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
    /// A host function, its type, and the type's id in the engine's
    /// signature registry (registered once, at definition).
    HostFunc(FuncType, u32, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(e.clone()),
            Definition::HostFunc(ty, id, f) => Definition::HostFunc(ty.clone(), *id, Arc::clone(f)),
        }
    }
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T> {
    engine: Engine,
    /// By module name, then field name (looked up without allocating).
    definitions: HashMap<String, HashMap<String, Definition<T>>>,
    allow_shadowing: bool,
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            definitions: self.definitions.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field(
                "definitions",
                &self.definitions.values().map(HashMap::len).sum::<usize>(),
            )
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
        if !self.allow_shadowing && self.lookup(module, name).is_some() {
            return Err(Error::msg(format!("`{module}::{name}` is already defined")));
        }
        self.definitions
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string(), def);
        Ok(())
    }

    fn lookup(&self, module: &str, name: &str) -> Option<&Definition<T>> {
        self.definitions.get(module)?.get(name)
    }

    fn host_func(&self, ty: FuncType, host: Arc<HostFn<T>>) -> Definition<T> {
        let id = self.engine.signatures().register(&ty);
        Definition::HostFunc(ty, id, host)
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
        let host = crate::func::untyped_host_fn_arc(ty.clone(), func);
        let def = self.host_func(ty, host);
        self.insert(module, name, def)?;
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
        let def = self.host_func(ty, host);
        self.insert(module, name, def)?;
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
            if self.lookup(m, n).is_some() {
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

    /// Whether `module::name` is defined.
    pub fn is_defined(&self, module: &str, name: &str) -> bool {
        self.lookup(module, name).is_some()
    }

    /// The definition of `module::name` in `store`, if any.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.lookup(module, name)?;
        Some(self.materialize(&mut store.as_context_mut(), def))
    }

    fn materialize(&self, cx: &mut StoreContextMut<'_, T>, def: &Definition<T>) -> Extern {
        match def {
            Definition::Extern(e) => e.clone(),
            // The id is the linker's engine's: a store of another engine
            // registers the type with its own.
            Definition::HostFunc(ty, id, host) if Engine::same(&self.engine, cx.engine()) => {
                Extern::Func(Func::from_registered_host_fn(
                    cx,
                    ty.clone(),
                    *id,
                    Arc::clone(host),
                ))
            }
            Definition::HostFunc(ty, _, host) => {
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
            let Some(def) = self.lookup(m, n) else {
                missing.push(MissingImport {
                    module: m.to_string(),
                    name: n.to_string(),
                    kind: ty.kind(),
                });
                continue;
            };
            if let (Definition::HostFunc(have, _, _), ExternType::Func(want)) = (def, &ty)
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
