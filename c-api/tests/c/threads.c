/* One module compiled once, shared with threads that each obtain it in
 * their own store and run it; sharing across engines is refused. */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 50

static wasm_engine_t* engine;
static wasm_shared_module_t* shared;

static const char* WAT =
    "(module (memory 1) (global $g (mut i32) (i32.const 0))\n"
    "  (func (export \"work\") (param i32) (result i32)\n"
    "    (global.set $g (i32.add (global.get $g) (local.get 0)))\n"
    "    (i32.store (i32.const 0) (global.get $g))\n"
    "    (i32.load (i32.const 0))))";

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = wasm_module_obtain(store, shared);
  CHECK(module);
  for (int round = 0; round < ROUNDS; round++) {
    wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
    CHECK(instance);
    wasm_extern_vec_t exports;
    wasm_instance_exports(instance, &exports);
    const wasm_func_t* work = wasm_extern_as_func(exports.data[0]);
    int32_t total = 0;
    for (int i = 1; i <= 10; i++) {
      wasm_val_t args[1] = {WASM_I32_VAL(id * i)};
      wasm_val_t out[1];
      wasm_val_vec_t argv = WASM_ARRAY_VEC(args), outv = WASM_ARRAY_VEC(out);
      CHECK(wasm_func_call(work, &argv, &outv) == NULL);
      total = out[0].of.i32;
    }
    CHECK_EQ_INT(total, id * 55);
    wasm_extern_vec_delete(&exports);
    wasm_instance_delete(instance);
  }
  wasm_module_delete(module);
  wasm_store_delete(store);
  return NULL;
}

int main(void) {
  engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(store, WAT);
  shared = wasm_module_share(module);
  CHECK(shared);
  /* The original can go: the shared module keeps the code. */
  wasm_module_delete(module);

  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_create(&threads[i], NULL, worker, (void*)(intptr_t)(i + 1)) == 0);
  }
  for (int i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
  OK("threads");

  /* Obtained twice, it is the same module. */
  wasm_module_t* a = wasm_module_obtain(store, shared);
  wasm_module_t* b = wasm_module_obtain(store, shared);
  CHECK(a && b && wasm_module_same(a, b));
  wasm_module_delete(a);
  wasm_module_delete(b);
  OK("same");

  /* Another engine's store cannot obtain it. */
  wasm_engine_t* other_engine = wasm_engine_new();
  wasm_store_t* other = wasm_store_new(other_engine);
  CHECK(wasm_module_obtain(other, shared) == NULL);
  expect_last_error("another engine");
  OK("other-engine");

  wasm_shared_module_delete(shared);
  wasm_store_delete(other);
  wasm_store_delete(store);
  wasm_engine_delete(other_engine);
  wasm_engine_delete(engine);
  return 0;
}
