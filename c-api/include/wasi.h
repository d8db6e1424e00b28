/*
 * wasi.h: WASI preview1 for programs using the standard C API, in the
 * style of Wasmer 3's wasi.h.
 *
 *   wasi_config_t* config = wasi_config_new("worker");
 *   wasi_config_capture_stdout(config);
 *   wasi_env_t* env = wasi_env_new(store, config);      // takes the config
 *   wasm_extern_vec_t imports;
 *   wasi_get_imports(store, env, module, &imports);      // in import order
 *   wasm_instance_t* instance = wasm_instance_new(store, module, &imports, &trap);
 *   wasm_func_t* start = wasi_get_start_function(instance);
 *   trap = wasm_func_call(start, &args, &results);       // "exit status N" on proc_exit
 *   wasi_env_read_stdout(env, buffer, sizeof buffer);
 *
 * A store has one WASI environment: wasi_env_new gives it the guest's
 * arguments, environment, standard streams and preopened directories.
 * Guests find their memory themselves (no "initialize instance" step is
 * needed). proc_exit never ends the host process: the call returns a trap
 * whose message is `exit status N`, and wasi_env_exit_code returns N.
 */

#ifndef WASI_H
#define WASI_H

#include "wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasi_config_t wasi_config_t;
typedef struct wasi_env_t wasi_env_t;

/* A configuration whose argv[0] is `program_name`, with no environment,
 * no preopens, and standard streams on /dev/null. */
WASM_API_EXTERN wasi_config_t* wasi_config_new(const char* program_name);

/* Appends an argument. */
WASM_API_EXTERN void wasi_config_arg(wasi_config_t*, const char* arg);
/* Sets `key=value` in the guest's environment. */
WASM_API_EXTERN void wasi_config_env(wasi_config_t*, const char* key, const char* value);
/* Preopens the host directory `dir` under its own name; false (and
 * cljit_last_error says why) if it cannot be opened. */
WASM_API_EXTERN bool wasi_config_preopen_dir(wasi_config_t*, const char* dir);
/* Preopens the host directory `dir` under the guest name `alias`. */
WASM_API_EXTERN bool wasi_config_mapdir(wasi_config_t*, const char* alias, const char* dir);

/* The host process's standard streams, environment and arguments (after
 * argv[0]). */
WASM_API_EXTERN void wasi_config_inherit_stdout(wasi_config_t*);
WASM_API_EXTERN void wasi_config_inherit_stderr(wasi_config_t*);
WASM_API_EXTERN void wasi_config_inherit_stdin(wasi_config_t*);
WASM_API_EXTERN void wasi_config_inherit_env(wasi_config_t*);
WASM_API_EXTERN void wasi_config_inherit_argv(wasi_config_t*);

/* stdout or stderr kept in memory (up to 16 MiB unless
 * cljit_wasi_config_capture_limit says otherwise; writes past the limit
 * fail with ENOSPC), read with wasi_env_read_stdout/stderr. */
WASM_API_EXTERN void wasi_config_capture_stdout(wasi_config_t*);
WASM_API_EXTERN void wasi_config_capture_stderr(wasi_config_t*);
/* The guest's stdin reads these bytes (copied), then end of file. */
WASM_API_EXTERN void wasi_config_set_stdin_bytes(wasi_config_t*, const wasm_byte_vec_t* bytes);

WASM_API_EXTERN void wasi_config_delete(wasi_config_t*);

/* The store's WASI environment, built from `config`, which it takes
 * (deleted even on failure). NULL (and cljit_last_error says why) if a
 * standard stream cannot be set up. */
WASM_API_EXTERN wasi_env_t* wasi_env_new(wasm_store_t* store, wasi_config_t* config);
WASM_API_EXTERN void wasi_env_delete(wasi_env_t*);

/* Moves up to `buffer_len` captured bytes into `buffer`, returning how
 * many (0 when none are left), or -1 if that stream is not captured. */
WASM_API_EXTERN intptr_t wasi_env_read_stdout(wasi_env_t*, char* buffer, uintptr_t buffer_len);
WASM_API_EXTERN intptr_t wasi_env_read_stderr(wasi_env_t*, char* buffer, uintptr_t buffer_len);

/* The status the guest passed to proc_exit, or -1 if it has not exited. */
WASM_API_EXTERN int32_t wasi_env_exit_code(const wasi_env_t*);

/* Fills `imports` with a definition for each of `module`'s imports, in
 * order. False (and cljit_last_error names it) if an import is not a WASI
 * function of wasi_snapshot_preview1 or wasi_unstable. */
WASM_API_EXTERN bool wasi_get_imports(
    const wasm_store_t* store, wasi_env_t* env, const wasm_module_t* module,
    wasm_extern_vec_t* imports /* out, owned by the caller */);

/* The instance's `_start` (the caller deletes it), or NULL. */
WASM_API_EXTERN wasm_func_t* wasi_get_start_function(wasm_instance_t*);

/* Accepted for Wasmer compatibility; never required (WASI finds the
 * guest's memory by itself). Returns true. */
WASM_API_EXTERN bool wasi_env_initialize_instance(wasi_env_t*, wasm_store_t*, wasm_instance_t*);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* WASI_H */
