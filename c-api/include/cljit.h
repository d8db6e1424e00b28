/*
 * cljit.h: what the standard C API lacks: errors that say why,
 * configuration, execution limits (fuel, deadlines, resource caps),
 * cljit artifacts, and what a trap was.
 *
 * Errors. Standard functions report failure with NULL or false; the
 * reason is kept for the calling thread and cljit_last_error() takes it.
 * cljit_* functions that can fail return an owned cljit_error_t* instead
 * (NULL on success).
 */

#ifndef CLJIT_H
#define CLJIT_H

#include "wasi.h"
#include "wasm.h"

/* The extern kind of an exception tag (WebAssembly 3.0), which wasm.h
 * predates: wasm_externtype_kind and wasm_extern_kind return it for
 * tags. */
#define CLJIT_EXTERN_TAG 4

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Errors
 */

typedef struct cljit_error_t cljit_error_t;

/* The reason the last standard call on this thread failed (the caller
 * owns it), or NULL if none failed since the last time it was taken. */
WASM_API_EXTERN cljit_error_t* cljit_last_error(void);
/* The error's message, NUL-terminated (the size counts the NUL). */
WASM_API_EXTERN void cljit_error_message(const cljit_error_t*, wasm_name_t* out);
WASM_API_EXTERN void cljit_error_delete(cljit_error_t*);

/* ------------------------------------------------------------------------
 * Configuration (before wasm_engine_new_with_config)
 */

typedef uint8_t cljit_opt_level_t;
enum cljit_opt_level_enum {
  CLJIT_OPT_LEVEL_NONE,            /* fastest compile */
  CLJIT_OPT_LEVEL_SPEED,           /* the default */
  CLJIT_OPT_LEVEL_SPEED_AND_SIZE,
};

WASM_API_EXTERN void cljit_config_opt_level(wasm_config_t*, cljit_opt_level_t);
/* Address space reserved per linear memory; below 4 GiB code checks
 * bounds explicitly. */
WASM_API_EXTERN void cljit_config_memory_reservation(wasm_config_t*, uint64_t bytes);
WASM_API_EXTERN void cljit_config_memory_guard_size(wasm_config_t*, uint64_t bytes);
WASM_API_EXTERN void cljit_config_max_wasm_stack(wasm_config_t*, size_t bytes);
/* Turns a proposal on or off by name ("simd", "bulk-memory", ...). */
WASM_API_EXTERN cljit_error_t* cljit_config_wasm_feature(wasm_config_t*, const char* name, bool enable);
/* Compiled code charges fuel (see cljit_store_set_fuel). */
WASM_API_EXTERN void cljit_config_consume_fuel(wasm_config_t*, bool);
/* Compiled code checks epoch deadlines (see cljit_store_set_epoch_deadline). */
WASM_API_EXTERN void cljit_config_epoch_interruption(wasm_config_t*, bool);
/* Functions compile when first called, in a fast tier, and hot ones are
 * recompiled with full optimisation after `tier_up_threshold` calls plus
 * loop iterations (0: never). Modules are still validated whole. */
WASM_API_EXTERN void cljit_config_lazy_compilation(wasm_config_t*, bool enable,
                                                   uint32_t tier_up_threshold);
/* wasm_module_new goes through the on-disk compile cache in `dir` (NULL:
 * the default directory); compiled modules are kept and reused. */
WASM_API_EXTERN void cljit_config_cache(wasm_config_t*, const char* dir);
/* Whether the engine gives up the configured reservation for explicit
 * bounds checks when the process cannot afford it (RLIMIT_AS holds fewer
 * than 8 reservations, or one cannot be made); on by default. Off, memories
 * that do not fit fail to instantiate. */
WASM_API_EXTERN void cljit_config_memory_reservation_fallback(wasm_config_t*, bool enable);
/* Why the engine checks memory accesses explicitly instead of reserving
 * the configured address space, or NULL when it does not. The string lives
 * as long as the engine. */
WASM_API_EXTERN const char* cljit_engine_memory_fallback(const wasm_engine_t*);

/* ------------------------------------------------------------------------
 * Limits
 */

/* Advances the engine's epoch; callable from any thread, also while wasm
 * runs. Stores whose deadline it reaches trap with an interrupt. */
WASM_API_EXTERN void cljit_engine_increment_epoch(wasm_engine_t*);

/* The store's fuel; fails if the engine does not consume fuel. */
WASM_API_EXTERN cljit_error_t* cljit_store_set_fuel(wasm_store_t*, uint64_t fuel);
WASM_API_EXTERN cljit_error_t* cljit_store_get_fuel(const wasm_store_t*, uint64_t* fuel);
/* The store's deadline, `ticks` epochs from now (a new store's has passed
 * already); fails if the engine does not check epochs. */
WASM_API_EXTERN cljit_error_t* cljit_store_set_epoch_deadline(wasm_store_t*, uint64_t ticks);
/* Caps for the store (a negative value: no cap, or the default count). A
 * refused memory.grow/table.grow returns -1, or traps with
 * `trap_on_grow_failure`; a refused creation fails. */
WASM_API_EXTERN void cljit_store_limiter(
    wasm_store_t*, int64_t memory_size, int64_t table_elements, int64_t instances,
    int64_t tables, int64_t memories, bool trap_on_grow_failure);

/* ------------------------------------------------------------------------
 * Artifacts (machine code: load only artifacts you made)
 */

/* The module as a cljit artifact (as `cljit compile` writes). */
WASM_API_EXTERN cljit_error_t* cljit_module_serialize(const wasm_module_t*, wasm_byte_vec_t* out);
/* A module from an artifact of this cljit build, target and settings. */
WASM_API_EXTERN cljit_error_t* cljit_module_deserialize(
    wasm_store_t*, const wasm_byte_vec_t* artifact, wasm_module_t** out);
WASM_API_EXTERN cljit_error_t* cljit_module_deserialize_file(
    wasm_store_t*, const char* path, wasm_module_t** out);

/* ------------------------------------------------------------------------
 * Traps and WASI
 */

typedef uint8_t cljit_trap_code_t;
enum cljit_trap_code_enum {
  CLJIT_TRAP_STACK_OVERFLOW,
  CLJIT_TRAP_MEMORY_OUT_OF_BOUNDS,
  CLJIT_TRAP_TABLE_OUT_OF_BOUNDS,
  CLJIT_TRAP_INDIRECT_CALL_OUT_OF_BOUNDS,
  CLJIT_TRAP_INDIRECT_CALL_TO_NULL,
  CLJIT_TRAP_BAD_SIGNATURE,
  CLJIT_TRAP_INTEGER_OVERFLOW,
  CLJIT_TRAP_INTEGER_DIVISION_BY_ZERO,
  CLJIT_TRAP_BAD_CONVERSION_TO_INTEGER,
  CLJIT_TRAP_UNREACHABLE,
  CLJIT_TRAP_INTERRUPT,
  CLJIT_TRAP_OUT_OF_FUEL,
  CLJIT_TRAP_HOST_ERROR,
};

/* What the trap is, when wasm raised it (false for a host error, an
 * exit, or a trap made with wasm_trap_new). */
WASM_API_EXTERN bool cljit_trap_code(const wasm_trap_t*, cljit_trap_code_t* code);
/* The status of a trap that is a WASI exit. */
WASM_API_EXTERN bool cljit_trap_exit_status(const wasm_trap_t*, int32_t* status);

/* The most a captured stream keeps (default 16 MiB). */
WASM_API_EXTERN void cljit_wasi_config_capture_limit(wasi_config_t*, size_t bytes);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* CLJIT_H */
