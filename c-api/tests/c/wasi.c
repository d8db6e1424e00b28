/* wasi.h: guests' standard streams captured or inherited, stdin from
 * bytes, arguments and environment, preopened directories, proc_exit as a
 * trap with its status, and imports that are not WASI. */
#include <unistd.h>

#include "check.h"

#define WASI_IMPORTS                                                                   \
  "  (import \"wasi_snapshot_preview1\" \"fd_read\" (func $fd_read (param i32 i32 i32 i32) (result i32)))\n" \
  "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n" \
  "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $proc_exit (param i32)))\n"

/* Copies stdin to stdout, writes "done\n" to stderr. */
static const char* ECHO =
    "(module\n" WASI_IMPORTS
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 2000) \"done\\n\")\n"
    "  (func $write (param $fd i32) (param $ptr i32) (param $len i32) (result i32)\n"
    "    (i32.store (i32.const 16) (local.get $ptr))\n"
    "    (i32.store (i32.const 20) (local.get $len))\n"
    "    (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))\n"
    "  (func (export \"_start\") (local $n i32)\n"
    "    (i32.store (i32.const 0) (i32.const 64))\n"
    "    (i32.store (i32.const 4) (i32.const 1000))\n"
    "    (block $end (loop $more\n"
    "      (br_if $end (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))\n"
    "      (local.set $n (i32.load (i32.const 8)))\n"
    "      (br_if $end (i32.eqz (local.get $n)))\n"
    "      (drop (call $write (i32.const 1) (i32.const 64) (local.get $n)))\n"
    "      (br $more)))\n"
    "    (drop (call $write (i32.const 2) (i32.const 2000) (i32.const 5)))))\n";

/* Writes "bye\n", then exits with status 3. */
static const char* EXIT3 =
    "(module\n" WASI_IMPORTS
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 100) \"bye\\n\")\n"
    "  (func (export \"_start\")\n"
    "    (i32.store (i32.const 0) (i32.const 100))\n"
    "    (i32.store (i32.const 4) (i32.const 4))\n"
    "    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))\n"
    "    (call $proc_exit (i32.const 3))\n"
    "    unreachable))\n";

/* Writes 100-byte blocks until a write fails, then exits with its errno. */
static const char* FLOOD =
    "(module\n" WASI_IMPORTS
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"_start\") (local $e i32)\n"
    "    (i32.store (i32.const 0) (i32.const 100))\n"
    "    (i32.store (i32.const 4) (i32.const 100))\n"
    "    (loop $more\n"
    "      (local.set $e (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))\n"
    "      (br_if $more (i32.eqz (local.get $e))))\n"
    "    (call $proc_exit (local.get $e))))\n";

/* Writes its arguments and environment (each NUL-terminated) to stdout. */
static const char* ARGS =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $args_sizes (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_get\" (func $args_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_sizes_get\" (func $env_sizes (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_get\" (func $env_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func $out (param $ptr i32) (param $len i32)\n"
    "    (i32.store (i32.const 16) (local.get $ptr))\n"
    "    (i32.store (i32.const 20) (local.get $len))\n"
    "    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))\n"
    "  (func (export \"_start\")\n"
    "    (drop (call $args_sizes (i32.const 0) (i32.const 4)))\n"
    "    (drop (call $args_get (i32.const 1024) (i32.const 4096)))\n"
    "    (call $out (i32.const 4096) (i32.load (i32.const 4)))\n"
    "    (drop (call $env_sizes (i32.const 0) (i32.const 4)))\n"
    "    (drop (call $env_get (i32.const 1024) (i32.const 8192)))\n"
    "    (call $out (i32.const 8192) (i32.load (i32.const 4)))))\n";

/* Creates `made-by-guest.txt` in the first preopened directory (fd 3). */
static const char* CREATE =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $proc_exit (param i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 100) \"made-by-guest.txt\")\n"
    "  (data (i32.const 200) \"written by wasm\")\n"
    "  (func (export \"_start\") (local $e i32)\n"
    "    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 17)\n"
    "      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 0)))\n"
    "    (if (local.get $e) (then (call $proc_exit (local.get $e))))\n"
    "    (i32.store (i32.const 8) (i32.const 200))\n"
    "    (i32.store (i32.const 12) (i32.const 15))\n"
    "    (call $proc_exit (call $fd_write (i32.load (i32.const 0)) (i32.const 8) (i32.const 1)\n"
    "      (i32.const 16)))))\n";

struct run {
  wasm_store_t* store;
  wasi_env_t* env;
  wasm_module_t* module;
  wasm_instance_t* instance;
};

/* Compiles `wat`, gives it WASI from `config`, instantiates it. */
static struct run setup(wasm_engine_t* engine, const char* wat, wasi_config_t* config) {
  struct run r;
  r.store = wasm_store_new(engine);
  r.module = compile_wat(r.store, wat);
  r.env = wasi_env_new(r.store, config);
  CHECK(r.env);
  wasm_extern_vec_t imports;
  CHECK(wasi_get_imports(r.store, r.env, r.module, &imports));
  wasm_trap_t* trap = NULL;
  r.instance = wasm_instance_new(r.store, r.module, &imports, &trap);
  CHECK(r.instance && !trap);
  CHECK(wasi_env_initialize_instance(r.env, r.store, r.instance));
  wasm_extern_vec_delete(&imports);
  return r;
}

static wasm_trap_t* start(struct run* r) {
  wasm_func_t* start = wasi_get_start_function(r->instance);
  CHECK(start);
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  wasm_trap_t* trap = wasm_func_call(start, &none, &none);
  wasm_func_delete(start);
  return trap;
}

static void teardown(struct run* r) {
  wasm_instance_delete(r->instance);
  wasm_module_delete(r->module);
  wasi_env_delete(r->env);
  wasm_store_delete(r->store);
}

/* Everything captured from one stream, NUL-terminated. */
static char* drain(wasi_env_t* env, int err, size_t chunk) {
  static char all[1 << 16];
  size_t used = 0;
  intptr_t n;
  while ((n = (err ? wasi_env_read_stderr : wasi_env_read_stdout)(env, all + used, chunk)) > 0) {
    used += (size_t)n;
  }
  CHECK(n == 0);
  all[used] = '\0';
  return all;
}

int main(int argc, char** argv) {
  CHECK(argc >= 2); /* a scratch directory, then arguments for the guest */
  wasm_engine_t* engine = wasm_engine_new();

  /* Captured output, stdin from bytes, read back in small pieces. */
  wasi_config_t* config = wasi_config_new("echo");
  wasi_config_capture_stdout(config);
  wasi_config_capture_stderr(config);
  wasm_byte_vec_t input;
  wasm_name_new_from_string(&input, "line one\nline two\n");
  wasi_config_set_stdin_bytes(config, &input);
  wasm_byte_vec_delete(&input);
  struct run r = setup(engine, ECHO, config);
  CHECK(start(&r) == NULL);
  CHECK_EQ_INT(wasi_env_exit_code(r.env), -1);
  CHECK(strcmp(drain(r.env, 0, 3), "line one\nline two\n") == 0);
  CHECK(strcmp(drain(r.env, 1, 100), "done\n") == 0);
  char buf[8];
  CHECK_EQ_INT(wasi_env_read_stdout(r.env, buf, sizeof buf), 0);
  teardown(&r);
  OK("capture");

  /* proc_exit: a trap saying the status, and the host goes on. */
  config = wasi_config_new("exit");
  wasi_config_capture_stdout(config);
  r = setup(engine, EXIT3, config);
  wasm_trap_t* trap = start(&r);
  CHECK(trap);
  int32_t status = -1;
  CHECK(cljit_trap_exit_status(trap, &status));
  CHECK_EQ_INT(status, 3);
  cljit_trap_code_t code;
  CHECK(!cljit_trap_code(trap, &code));
  expect_trap(trap, "exit status 3");
  CHECK_EQ_INT(wasi_env_exit_code(r.env), 3);
  CHECK(strcmp(drain(r.env, 0, 100), "bye\n") == 0);
  /* Streams that are not captured cannot be read. */
  CHECK_EQ_INT(wasi_env_read_stderr(r.env, buf, sizeof buf), -1);
  teardown(&r);
  OK("exit");

  /* A capture limit: the guest's writes fail with ENOSPC (51), the
   * embedder gets what fit. */
  config = wasi_config_new("flood");
  wasi_config_capture_stdout(config);
  cljit_wasi_config_capture_limit(config, 250);
  r = setup(engine, FLOOD, config);
  trap = start(&r);
  CHECK(trap && cljit_trap_exit_status(trap, &status));
  CHECK_EQ_INT(status, 51);
  wasm_trap_delete(trap);
  size_t total = 0;
  char block[64];
  intptr_t got;
  while ((got = wasi_env_read_stdout(r.env, block, sizeof block)) > 0) total += (size_t)got;
  CHECK_EQ_INT(total, 250);
  teardown(&r);
  OK("limit");

  /* Arguments (given and inherited) and environment. */
  config = wasi_config_new("args");
  wasi_config_arg(config, "--given");
  wasi_config_inherit_argv(config);
  wasi_config_env(config, "GREETING", "hi");
  wasi_config_capture_stdout(config);
  r = setup(engine, ARGS, config);
  CHECK(start(&r) == NULL);
  char out[4096];
  intptr_t n = wasi_env_read_stdout(r.env, out, sizeof out);
  CHECK(n > 0);
  /* args\0--given\0<dir>\0<extra...>\0GREETING=hi\0 */
  const char* p = out;
  CHECK(strcmp(p, "args") == 0);
  p += strlen(p) + 1;
  CHECK(strcmp(p, "--given") == 0);
  p += strlen(p) + 1;
  for (int i = 1; i < argc; i++) {
    CHECK(strcmp(p, argv[i]) == 0);
    p += strlen(p) + 1;
  }
  CHECK(strcmp(p, "GREETING=hi") == 0);
  p += strlen(p) + 1;
  CHECK_EQ_INT(p - out, n);
  teardown(&r);
  OK("args");

  /* A preopened directory under an alias: the guest creates a file. */
  config = wasi_config_new("create");
  CHECK(wasi_config_mapdir(config, "/sandbox", argv[1]));
  CHECK(!wasi_config_preopen_dir(config, "/nonexistent/dir"));
  expect_last_error("/nonexistent/dir");
  r = setup(engine, CREATE, config);
  trap = start(&r);
  CHECK(trap && cljit_trap_exit_status(trap, &status));
  CHECK_EQ_INT(status, 0);
  wasm_trap_delete(trap);
  teardown(&r);
  char path[4096];
  snprintf(path, sizeof path, "%s/made-by-guest.txt", argv[1]);
  FILE* made = fopen(path, "r");
  CHECK(made);
  char content[64] = {0};
  CHECK(fread(content, 1, sizeof content - 1, made) == 15);
  fclose(made);
  CHECK(strcmp(content, "written by wasm") == 0);
  OK("preopen");

  /* Inherited stdout: the guest writes to this process's stdout. */
  printf("before the guest\n");
  fflush(stdout);
  config = wasi_config_new("inherit");
  wasi_config_inherit_stdout(config);
  wasi_config_inherit_stderr(config);
  wasi_config_inherit_stdin(config);
  wasi_config_inherit_env(config);
  r = setup(engine, EXIT3, config);
  trap = start(&r);
  CHECK(trap && cljit_trap_exit_status(trap, &status) && status == 3);
  wasm_trap_delete(trap);
  CHECK_EQ_INT(wasi_env_read_stdout(r.env, buf, sizeof buf), -1);
  teardown(&r);
  OK("inherit");

  /* Imports that are not WASI, and modules without _start. */
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(
      store, "(module (import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32 i32 i32 i32) (result i32)))"
             " (import \"env\" \"mystery\" (func)))");
  wasi_env_t* env = wasi_env_new(store, wasi_config_new("x"));
  wasm_extern_vec_t imports;
  CHECK(!wasi_get_imports(store, env, module, &imports));
  expect_last_error("env::mystery");
  CHECK_EQ_INT(imports.size, 0);
  wasm_extern_vec_delete(&imports);
  wasm_module_delete(module);
  module = compile_wat(store, "(module (memory (export \"memory\") 1))");
  CHECK(wasi_get_imports(store, env, module, &imports));
  CHECK_EQ_INT(imports.size, 0);
  wasm_instance_t* instance = wasm_instance_new(store, module, &imports, NULL);
  CHECK(wasi_get_start_function(instance) == NULL);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasi_env_delete(env);
  wasm_store_delete(store);
  OK("errors");

  wasm_engine_delete(engine);
  return 0;
}
