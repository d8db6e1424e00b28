/* cljit.h: configuration (features, optimisation, memory layout, the
 * compile cache), fuel, epoch deadlines from another thread, and resource
 * caps. */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char* SPIN =
    "(module (memory 1)\n"
    "  (func (export \"spin\") (loop br 0))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0))))";

static wasm_trap_t* call_export(wasm_store_t* store, const wasm_module_t* module,
                                const char* name, int32_t arg, int32_t* result) {
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  const wasm_func_t* f = wasm_extern_as_func(export_named(module, &exports, name));
  wasm_val_t args[1] = {WASM_I32_VAL(arg)};
  wasm_val_t out[1] = {WASM_I32_VAL(0)};
  wasm_val_vec_t argv = {wasm_func_param_arity(f), args};
  wasm_val_vec_t outv = {wasm_func_result_arity(f), out};
  wasm_trap_t* trap = wasm_func_call(f, &argv, &outv);
  if (result) *result = out[0].of.i32;
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  return trap;
}

static void* tick(void* engine) {
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  cljit_engine_increment_epoch(engine);
  return NULL;
}

int main(int argc, char** argv) {
  CHECK(argc == 2); /* a scratch directory for the cache */
  cljit_trap_code_t code;

  /* Fuel. */
  wasm_config_t* config = wasm_config_new();
  cljit_config_consume_fuel(config, true);
  cljit_config_opt_level(config, CLJIT_OPT_LEVEL_SPEED_AND_SIZE);
  wasm_engine_t* engine = wasm_engine_new_with_config(config);
  CHECK(engine);
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* spin = compile_wat(store, SPIN);
  CHECK(cljit_store_set_fuel(store, 100000) == NULL);
  wasm_trap_t* trap = call_export(store, spin, "spin", 0, NULL);
  CHECK(trap && cljit_trap_code(trap, &code) && code == CLJIT_TRAP_OUT_OF_FUEL);
  expect_trap(trap, "fuel");
  uint64_t fuel = 1;
  CHECK(cljit_store_get_fuel(store, &fuel) == NULL);
  CHECK_EQ_INT(fuel, 0);
  /* Deadlines need an engine that checks epochs. */
  expect_error(cljit_store_set_epoch_deadline(store, 1), "epoch");
  wasm_module_delete(spin);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  OK("fuel");

  /* Epochs: another thread ends a runaway loop. */
  config = wasm_config_new();
  cljit_config_epoch_interruption(config, true);
  engine = wasm_engine_new_with_config(config);
  store = wasm_store_new(engine);
  spin = compile_wat(store, SPIN);
  CHECK(cljit_store_set_epoch_deadline(store, 1) == NULL);
  pthread_t ticker;
  CHECK(pthread_create(&ticker, NULL, tick, engine) == 0);
  trap = call_export(store, spin, "spin", 0, NULL);
  CHECK(pthread_join(ticker, NULL) == 0);
  CHECK(trap && cljit_trap_code(trap, &code) && code == CLJIT_TRAP_INTERRUPT);
  expect_trap(trap, "interrupt");
  /* Fuel needs an engine that consumes it. */
  expect_error(cljit_store_set_fuel(store, 1), "fuel");
  expect_error(cljit_store_get_fuel(store, &fuel), "fuel");
  OK("epoch");

  /* Caps: memory growth refused (-1), then trapping; instance count. */
  wasm_store_t* capped = wasm_store_new(engine);
  CHECK(cljit_store_set_epoch_deadline(capped, 1000) == NULL);
  cljit_store_limiter(capped, 4 * 65536, -1, 2, -1, -1, false);
  int32_t grown = 0;
  CHECK(call_export(capped, spin, "grow", 2, &grown) == NULL);
  CHECK_EQ_INT(grown, 1);
  CHECK(call_export(capped, spin, "grow", 4, &grown) == NULL);
  CHECK_EQ_INT(grown, -1);
  wasm_instance_t* one = wasm_instance_new(capped, spin, NULL, NULL);
  wasm_instance_t* two = wasm_instance_new(capped, spin, NULL, NULL);
  CHECK(one == NULL || two == NULL);
  expect_last_error("instance");
  wasm_instance_delete(one);
  wasm_instance_delete(two);
  wasm_store_delete(capped);
  capped = wasm_store_new(engine);
  CHECK(cljit_store_set_epoch_deadline(capped, 1000) == NULL);
  cljit_store_limiter(capped, 65536, -1, -1, -1, -1, true);
  trap = call_export(capped, spin, "grow", 1, NULL);
  CHECK(trap != NULL);
  wasm_trap_delete(trap);
  /* Memories made in C count too. */
  wasm_limits_t big = {2, wasm_limits_max_default};
  wasm_memorytype_t* big_type = wasm_memorytype_new(&big);
  CHECK(wasm_memory_new(capped, big_type) == NULL);
  expect_last_error("");
  wasm_memorytype_delete(big_type);
  wasm_store_delete(capped);
  wasm_module_delete(spin);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  OK("caps");

  /* Features by name. */
  config = wasm_config_new();
  expect_error(cljit_config_wasm_feature(config, "no-such-feature", true), "no-such-feature");
  CHECK(cljit_config_wasm_feature(config, "simd", false) == NULL);
  cljit_config_memory_reservation(config, 1 << 30);
  cljit_config_memory_guard_size(config, 1 << 16);
  cljit_config_max_wasm_stack(config, 512 * 1024);
  cljit_config_opt_level(config, CLJIT_OPT_LEVEL_NONE);
  engine = wasm_engine_new_with_config(config);
  CHECK(engine);
  store = wasm_store_new(engine);
  wasm_byte_vec_t text;
  const char* simd = "(module (func (result v128) (v128.const i64x2 0 0)))";
  wasm_byte_vec_new(&text, strlen(simd), simd);
  CHECK(wasm_module_new(store, &text) == NULL);
  expect_last_error("simd");
  wasm_byte_vec_delete(&text);
  /* The smaller reservation still runs code (with explicit bounds
   * checks). */
  spin = compile_wat(store, SPIN);
  int32_t size_before = 0;
  expect_error(cljit_store_set_epoch_deadline(store, 1), "epoch"); /* not configured */
  CHECK(call_export(store, spin, "grow", 3, &size_before) == NULL);
  CHECK_EQ_INT(size_before, 1);
  wasm_module_delete(spin);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  OK("config");

  /* The compile cache: the second engine loads what the first kept. */
  for (int round = 0; round < 2; round++) {
    config = wasm_config_new();
    cljit_config_cache(config, argv[1]);
    engine = wasm_engine_new_with_config(config);
    store = wasm_store_new(engine);
    spin = compile_wat(store, SPIN);
    int32_t r = 0;
    CHECK(call_export(store, spin, "grow", 0, &r) == NULL);
    CHECK_EQ_INT(r, 1);
    wasm_module_delete(spin);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
  }
  OK("cache");

  /* Lazy compilation with tier-up after two counts: the same results in
   * the fast tier, across the switch and in the optimised code. */
  config = wasm_config_new();
  cljit_config_lazy_compilation(config, true, 2);
  engine = wasm_engine_new_with_config(config);
  store = wasm_store_new(engine);
  spin = compile_wat(store, SPIN);
  for (int i = 0; i < 5; i++) {
    int32_t r = -1;
    CHECK(call_export(store, spin, "grow", 0, &r) == NULL);
    CHECK_EQ_INT(r, 1);
  }
  wasm_module_delete(spin);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  OK("lazy");

  /* A tight address space: 2 GiB above what the process already uses
   * (AddressSanitizer's shadow included) holds no 6 GiB reservation, so
   * the engine falls back to explicit checks and says why; with the
   * fallback off, the memory cannot be made and instantiation fails. */
  {
    unsigned long long pages = 0;
    FILE* statm = fopen("/proc/self/statm", "r");
    CHECK(statm);
    CHECK(fscanf(statm, "%llu", &pages) == 1);
    fclose(statm);
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_AS, &old) == 0);
    struct rlimit tight = old;
    tight.rlim_cur = (rlim_t)(pages * (unsigned long long)sysconf(_SC_PAGESIZE) + (2ull << 30));
    CHECK(setrlimit(RLIMIT_AS, &tight) == 0);

    engine = wasm_engine_new();
    const char* why = cljit_engine_memory_fallback(engine);
    CHECK(why != NULL);
    CHECK(strstr(why, "RLIMIT_AS") != NULL);
    store = wasm_store_new(engine);
    spin = compile_wat(store, SPIN);
    int32_t r = 0;
    CHECK(call_export(store, spin, "grow", 1, &r) == NULL);
    CHECK_EQ_INT(r, 1);
    wasm_module_delete(spin);
    wasm_store_delete(store);
    wasm_engine_delete(engine);

    config = wasm_config_new();
    cljit_config_memory_reservation_fallback(config, false);
    engine = wasm_engine_new_with_config(config);
    CHECK(cljit_engine_memory_fallback(engine) == NULL);
    store = wasm_store_new(engine);
    spin = compile_wat(store, SPIN);
    CHECK(wasm_instance_new(store, spin, NULL, NULL) == NULL);
    expect_last_error("address space");
    wasm_module_delete(spin);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
    CHECK(setrlimit(RLIMIT_AS, &old) == 0);

    /* Without the limit, the default engine keeps its guard pages. */
    engine = wasm_engine_new();
    CHECK(cljit_engine_memory_fallback(engine) == NULL);
    wasm_engine_delete(engine);
  }
  OK("address-space");
  return 0;
}
