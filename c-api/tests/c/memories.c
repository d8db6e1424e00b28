/* Memories made in C and imported, exported memories, data access on both
 * sides, growth from C and wasm, limits, and refusals. */
#include "check.h"

static const char* WAT =
    "(module\n"
    "  (import \"env\" \"mem\" (memory 1 4))\n"
    "  (func (export \"load\") (param i32) (result i32) (i32.load8_u (local.get 0)))\n"
    "  (func (export \"store\") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))\n"
    "  (func (export \"size\") (result i32) (memory.size))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0))))\n";

static const char* EXPORTER =
    "(module (memory (export \"mem\") 2) (data (i32.const 100) \"cljit\"))\n";

static int32_t call(const wasm_extern_vec_t* exports, const wasm_module_t* module,
                    const char* name, int32_t a, int32_t b, int nargs, wasm_trap_t** trap) {
  const wasm_func_t* f = wasm_extern_as_func(export_named(module, exports, name));
  wasm_val_t args[2] = {WASM_I32_VAL(a), WASM_I32_VAL(b)};
  wasm_val_t out[1] = {WASM_I32_VAL(0)};
  wasm_val_vec_t argv = {(size_t)nargs, args};
  wasm_val_vec_t outv = {wasm_func_result_arity(f), out};
  *trap = wasm_func_call(f, &argv, &outv);
  return out[0].of.i32;
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);

  wasm_limits_t limits = {1, 4};
  wasm_memorytype_t* type = wasm_memorytype_new(&limits);
  wasm_memory_t* mem = wasm_memory_new(store, type);
  CHECK(mem);
  CHECK_EQ_INT(wasm_memory_size(mem), 1);
  CHECK_EQ_INT(wasm_memory_data_size(mem), MEMORY_PAGE_SIZE);
  byte_t* data = wasm_memory_data(mem);
  CHECK(data);
  CHECK_EQ_INT(data[0], 0);
  CHECK_EQ_INT(data[MEMORY_PAGE_SIZE - 1], 0);
  OK("new");

  wasm_module_t* module = compile_wat(store, WAT);
  wasm_extern_t* imports[] = {wasm_memory_as_extern(mem)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  wasm_trap_t* trap;

  /* C writes, wasm reads; wasm writes, C reads. */
  data[1234] = 77;
  CHECK_EQ_INT(call(&exports, module, "load", 1234, 0, 1, &trap), 77);
  CHECK(!trap);
  call(&exports, module, "store", 4321, 99, 2, &trap);
  CHECK(!trap);
  CHECK_EQ_INT((unsigned char)wasm_memory_data(mem)[4321], 99);
  OK("shared-data");

  /* Growth from C, seen by wasm; from wasm, seen by C. */
  CHECK(wasm_memory_grow(mem, 1));
  CHECK_EQ_INT(wasm_memory_size(mem), 2);
  CHECK_EQ_INT(call(&exports, module, "size", 0, 0, 0, &trap), 2);
  CHECK_EQ_INT(call(&exports, module, "grow", 1, 0, 1, &trap), 2);
  CHECK_EQ_INT(wasm_memory_size(mem), 3);
  CHECK_EQ_INT(wasm_memory_data_size(mem), 3 * MEMORY_PAGE_SIZE);
  data = wasm_memory_data(mem);
  data[3 * MEMORY_PAGE_SIZE - 1] = 5;
  CHECK_EQ_INT(call(&exports, module, "load", 3 * MEMORY_PAGE_SIZE - 1, 0, 1, &trap), 5);
  /* Past the maximum: refused with a reason, size unchanged. */
  CHECK(!wasm_memory_grow(mem, 2));
  expect_last_error("grow");
  CHECK_EQ_INT(wasm_memory_size(mem), 3);
  CHECK_EQ_INT(call(&exports, module, "grow", 2, 0, 1, &trap), -1);
  OK("grow");

  /* Out of bounds from wasm is a trap, with its code. */
  call(&exports, module, "load", 3 * MEMORY_PAGE_SIZE, 0, 1, &trap);
  CHECK(trap);
  cljit_trap_code_t code;
  CHECK(cljit_trap_code(trap, &code));
  CHECK_EQ_INT(code, CLJIT_TRAP_MEMORY_OUT_OF_BOUNDS);
  expect_trap(trap, "out of bounds memory access");
  OK("bounds");

  /* Types: the limits, with the current size as the minimum. */
  wasm_memorytype_t* t = wasm_memory_type(mem);
  CHECK_EQ_INT(wasm_memorytype_limits(t)->min, 3);
  CHECK_EQ_INT(wasm_memorytype_limits(t)->max, 4);
  wasm_memorytype_delete(t);
  wasm_limits_t open = {0, wasm_limits_max_default};
  wasm_memorytype_t* open_type = wasm_memorytype_new(&open);
  wasm_memory_t* unbounded = wasm_memory_new(store, open_type);
  CHECK(unbounded);
  CHECK_EQ_INT(wasm_memory_size(unbounded), 0);
  t = wasm_memory_type(unbounded);
  CHECK_EQ_INT(wasm_memorytype_limits(t)->max, wasm_limits_max_default);
  wasm_memorytype_delete(t);
  CHECK(wasm_memory_grow(unbounded, 10));
  CHECK_EQ_INT(wasm_memory_data_size(unbounded), 10 * MEMORY_PAGE_SIZE);
  OK("type");

  /* A memory too small for the import is refused with a trap. */
  wasm_extern_t* wrong[] = {wasm_memory_as_extern(unbounded)};
  wasm_extern_vec_t wrong_vec = WASM_ARRAY_VEC(wrong);
  trap = NULL;
  CHECK(wasm_instance_new(store, module, &wrong_vec, &trap) == NULL);
  expect_trap(trap, "mem");
  OK("link-error");

  /* An exported memory with data segments. */
  wasm_module_t* exporter = compile_wat(store, EXPORTER);
  wasm_instance_t* ex = wasm_instance_new(store, exporter, NULL, NULL);
  CHECK(ex);
  wasm_extern_vec_t ex_exports;
  wasm_instance_exports(ex, &ex_exports);
  CHECK_EQ_INT(wasm_extern_kind(ex_exports.data[0]), WASM_EXTERN_MEMORY);
  wasm_memory_t* exported = wasm_extern_as_memory(ex_exports.data[0]);
  CHECK(memcmp(wasm_memory_data(exported) + 100, "cljit", 5) == 0);
  CHECK(wasm_memory_same(exported, wasm_extern_as_memory(ex_exports.data[0])));
  CHECK(!wasm_memory_same(exported, mem));
  OK("export");

  wasm_extern_vec_delete(&ex_exports);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(ex);
  wasm_instance_delete(instance);
  wasm_module_delete(exporter);
  wasm_module_delete(module);
  wasm_memory_delete(unbounded);
  wasm_memory_delete(mem);
  wasm_memorytype_delete(open_type);
  wasm_memorytype_delete(type);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
