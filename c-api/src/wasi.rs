//! `wasi.h`: WASI preview1 for programs using the standard API.
//!
//! A configuration builds the store's [`WasiCtx`]; `wasi_get_imports`
//! resolves a module's imports against the WASI functions, which an engine
//! defines once (in a linker its stores share) and each store
//! materialises per import.

use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::sync::Arc;

use crate::env::{wasi_of, wasm_store_t};
use crate::r#extern::wasm_extern_vec_t;
use crate::obj::Obj;
use crate::r#ref::{wasm_func_t, wasm_instance_t, wasm_ref_t};
use crate::rt::Linker;
use crate::rt::wasi::{DEFAULT_CAPTURE_LIMIT, DirAccess, MemoryOutput, WasiCtxBuilder};
use crate::vec::wasm_byte_vec_t;

/// `wasi_config_t`: how to build a guest's WASI context.
#[derive(Debug)]
pub struct wasi_config_t {
    builder: WasiCtxBuilder,
    capture_stdout: bool,
    capture_stderr: bool,
    capture_limit: usize,
}

/// `wasi_env_t`: the embedder's side of a store's WASI context: the
/// captured streams and the store, for the exit status.
#[derive(Debug)]
pub struct wasi_env_t {
    store: *mut wasm_store_t,
    stdout: Option<MemoryOutput>,
    stderr: Option<MemoryOutput>,
}

/// `wasi_config_new`: `program_name` is the guest's `argv[0]`; no other
/// arguments, no environment, no preopens, standard streams on
/// `/dev/null`.
///
/// # Safety
///
/// `program_name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasi_config_new(program_name: *const c_char) -> Box<wasi_config_t> {
    let mut builder = WasiCtxBuilder::default();
    // SAFETY: NULL or NUL-terminated, per the contract.
    builder.arg(unsafe { bytes(program_name) }.unwrap_or(b""));
    Box::new(wasi_config_t {
        builder,
        capture_stdout: false,
        capture_stderr: false,
        capture_limit: DEFAULT_CAPTURE_LIMIT,
    })
}

/// A C string's bytes.
///
/// # Safety
///
/// `ptr` must be NULL or a NUL-terminated string valid for `'a`.
unsafe fn bytes<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    Some(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())
}

/// `wasi_config_delete`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_delete(_: Option<Box<wasi_config_t>>) {}

/// `wasi_config_arg`: appends an argument.
///
/// # Safety
///
/// `arg` must be NULL (ignored) or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasi_config_arg(config: &mut wasi_config_t, arg: *const c_char) {
    // SAFETY: NULL or NUL-terminated, per the contract.
    if let Some(arg) = unsafe { bytes(arg) } {
        config.builder.arg(arg);
    }
}

/// `wasi_config_env`: sets `key=value` in the guest's environment.
///
/// # Safety
///
/// `key` and `value` must be NULL (ignored) or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasi_config_env(
    config: &mut wasi_config_t,
    key: *const c_char,
    value: *const c_char,
) {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let (key, value) = unsafe { (bytes(key), bytes(value)) };
    if let (Some(key), Some(value)) = (key, value) {
        config.builder.env(key, value);
    }
}

fn preopen(config: &mut wasi_config_t, alias: &str, dir: &str) -> bool {
    crate::ok_or_record(
        config
            .builder
            .preopened_dir(dir, alias, DirAccess::ReadWrite)
            .map(|_| ())
            .map_err(|e| format!("cannot preopen `{dir}`: {e}")),
    )
    .is_some()
}

/// `wasi_config_preopen_dir`: the host directory `dir`, under its own
/// name; false (and `cljit_last_error` says why) if it cannot be opened.
///
/// # Safety
///
/// `dir` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasi_config_preopen_dir(
    config: &mut wasi_config_t,
    dir: *const c_char,
) -> bool {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let Some(dir) = (unsafe { crate::c_str(dir) }) else {
        crate::set_last_error("the directory name is NULL or not UTF-8");
        return false;
    };
    preopen(config, dir, dir)
}

/// `wasi_config_mapdir`: the host directory `dir` under the guest name
/// `alias`; false (and `cljit_last_error` says why) if it cannot be
/// opened.
///
/// # Safety
///
/// `alias` and `dir` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasi_config_mapdir(
    config: &mut wasi_config_t,
    alias: *const c_char,
    dir: *const c_char,
) -> bool {
    // SAFETY: NULL or NUL-terminated, per the contract.
    let (alias, dir) = unsafe { (crate::c_str(alias), crate::c_str(dir)) };
    let (Some(alias), Some(dir)) = (alias, dir) else {
        crate::set_last_error("the alias or directory is NULL or not UTF-8");
        return false;
    };
    preopen(config, alias, dir)
}

/// `wasi_config_inherit_stdout`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_inherit_stdout(config: &mut wasi_config_t) {
    config.capture_stdout = false;
    config.builder.inherit_stdout();
}

/// `wasi_config_inherit_stderr`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_inherit_stderr(config: &mut wasi_config_t) {
    config.capture_stderr = false;
    config.builder.inherit_stderr();
}

/// `wasi_config_inherit_stdin`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_inherit_stdin(config: &mut wasi_config_t) {
    config.builder.inherit_stdin();
}

/// `wasi_config_inherit_env`: the host process's whole environment.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_inherit_env(config: &mut wasi_config_t) {
    config.builder.inherit_env();
}

/// `wasi_config_inherit_argv`: appends the host process's arguments after
/// its `argv[0]`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_inherit_argv(config: &mut wasi_config_t) {
    use std::os::unix::ffi::OsStrExt;
    for arg in std::env::args_os().skip(1) {
        config.builder.arg(arg.as_bytes());
    }
}

/// `wasi_config_capture_stdout`: stdout is kept in memory, for
/// `wasi_env_read_stdout`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_capture_stdout(config: &mut wasi_config_t) {
    config.capture_stdout = true;
}

/// `wasi_config_capture_stderr`: stderr is kept in memory, for
/// `wasi_env_read_stderr`.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_capture_stderr(config: &mut wasi_config_t) {
    config.capture_stderr = true;
}

/// `wasi_config_set_stdin_bytes`: stdin reads a copy of `bytes`, then end
/// of file.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_config_set_stdin_bytes(config: &mut wasi_config_t, input: &wasm_byte_vec_t) {
    config.builder.stdin_bytes(input.as_slice());
}

/// `cljit_wasi_config_capture_limit`: the most a captured stream keeps.
#[unsafe(no_mangle)]
pub extern "C" fn cljit_wasi_config_capture_limit(config: &mut wasi_config_t, bytes: usize) {
    config.capture_limit = bytes;
}

/// `wasi_env_new`: builds the store's WASI context from `config` (which it
/// takes). NULL (and `cljit_last_error` says why) on failure.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_new(
    store: &mut wasm_store_t,
    config: Box<wasi_config_t>,
) -> Option<Box<wasi_env_t>> {
    crate::guard(None, || {
        let mut config = config;
        let capture = |on: bool| on.then(|| MemoryOutput::new(config.capture_limit));
        let (stdout, stderr) = (
            capture(config.capture_stdout),
            capture(config.capture_stderr),
        );
        if let Some(out) = &stdout {
            config.builder.stdout_capture(out);
        }
        if let Some(err) = &stderr {
            config.builder.stderr_capture(err);
        }
        let ctx = crate::ok_or_record(config.builder.build())?;
        store.store.data_mut().wasi = ctx;
        Some(Box::new(wasi_env_t {
            store: std::ptr::from_mut(store),
            stdout,
            stderr,
        }))
    })
}

/// `wasi_env_delete`: the embedder's side goes; the store keeps the
/// guest's context.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_delete(_: Option<Box<wasi_env_t>>) {}

fn read(output: Option<&MemoryOutput>, buffer: *mut u8, len: usize) -> isize {
    let Some(output) = output else {
        return -1;
    };
    if buffer.is_null() || len == 0 {
        return 0;
    }
    // SAFETY: C passes a buffer of `len` writable bytes, per wasi.h.
    let buf = unsafe { std::slice::from_raw_parts_mut(buffer, len) };
    isize::try_from(output.read(buf)).unwrap_or(isize::MAX)
}

/// `wasi_env_read_stdout`: moves up to `len` captured bytes into `buffer`,
/// returning how many (0 when none are left), or -1 if stdout is not
/// captured.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_read_stdout(env: &wasi_env_t, buffer: *mut u8, len: usize) -> isize {
    read(env.stdout.as_ref(), buffer, len)
}

/// `wasi_env_read_stderr`: as `wasi_env_read_stdout`, for stderr.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_read_stderr(env: &wasi_env_t, buffer: *mut u8, len: usize) -> isize {
    read(env.stderr.as_ref(), buffer, len)
}

/// `wasi_env_exit_code`: the status the guest passed to `proc_exit`, or
/// -1. The store must still exist.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_exit_code(env: &wasi_env_t) -> i32 {
    // SAFETY: wasi.h requires the env's store to outlive its use here; C
    // uses a store from one thread at a time.
    let store = unsafe { &*env.store };
    store.store.data().wasi.exit_code().unwrap_or(-1)
}

/// `wasi_get_imports`: a definition for each of `module`'s imports, in
/// order. False (and `cljit_last_error` names the import) if one is not a
/// WASI function. (`wasi.h` declares the store `const`, as Wasmer does;
/// materialising functions in it is still a change to it, which C cannot
/// see.)
#[unsafe(no_mangle)]
pub extern "C" fn wasi_get_imports(
    store: &mut wasm_store_t,
    _env: &wasi_env_t,
    module: &wasm_ref_t,
    out: &mut MaybeUninit<wasm_extern_vec_t>,
) -> bool {
    let imports = crate::guard(None, || resolve(store, module));
    let ok = imports.is_some();
    crate::vec::write(out, imports.unwrap_or_default());
    ok
}

fn resolve(store: &mut wasm_store_t, module: &wasm_ref_t) -> Option<Vec<Option<Box<wasm_ref_t>>>> {
    let Some(data) = crate::module::module_of(module) else {
        crate::set_last_error("not a module");
        return None;
    };
    let linker = Arc::clone(&store.store.data().wasi_linker);
    let linker = linker.get_or_init(|| {
        let mut linker = Linker::new(store.store.engine());
        crate::rt::wasi::add_to_linker(&mut linker, wasi_of)
            .expect("the WASI functions are defined once, without clashes");
        linker
    });
    let store_ptr = std::ptr::from_mut(store);
    let mut imports = Vec::new();
    for (m, n, _) in data.module.imports() {
        let Some(ext) = linker.get(&mut store.store, m, n) else {
            crate::set_last_error(format!(
                "import `{m}::{n}` is not a WASI function (wasi_get_imports defines only those)"
            ));
            return None;
        };
        imports.push(wasm_ref_t::from_extern(store_ptr, ext));
    }
    Some(imports)
}

/// `wasi_get_start_function`: the instance's `_start`, or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_get_start_function(instance: &wasm_instance_t) -> Option<Box<wasm_func_t>> {
    let i = crate::instance::instance_of(instance)?;
    crate::guard(None, || {
        let func = i.get_func(&instance.store_mut().store, "_start")?;
        Some(wasm_ref_t::boxed(instance.store, Obj::Func(func)))
    })
}

/// `wasi_env_initialize_instance`: nothing to do (WASI finds the guest's
/// memory by itself); true.
#[unsafe(no_mangle)]
pub extern "C" fn wasi_env_initialize_instance(
    _env: &wasi_env_t,
    _store: &wasm_store_t,
    _instance: &wasm_instance_t,
) -> bool {
    true
}
