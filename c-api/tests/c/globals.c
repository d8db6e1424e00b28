/* Globals made in C, imported by wasm, exported back, read and written on
 * both sides; their types; what cannot be done is refused, not crashed. */
#include "check.h"

static const char* WAT =
    "(module\n"
    "  (import \"env\" \"counter\" (global $counter (mut i32)))\n"
    "  (import \"env\" \"pi\" (global $pi f64))\n"
    "  (global $big (export \"big\") (mut i64) (i64.const 0x100000000))\n"
    "  (global (export \"half\") f32 (f32.const 0.5))\n"
    "  (global (export \"counter_again\") (mut i32) (i32.const 0))\n"
    "  (func (export \"bump\") (result i32)\n"
    "    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))\n"
    "    (global.get $counter))\n"
    "  (func (export \"pi\") (result f64) (global.get $pi))\n"
    "  (func (export \"get_big\") (result i64) (global.get $big)))\n";

static wasm_val_t call0(const wasm_func_t* f) {
  wasm_val_t out[1];
  wasm_val_vec_t args = WASM_EMPTY_VEC, results = WASM_ARRAY_VEC(out);
  CHECK(wasm_func_call(f, &args, &results) == NULL);
  return out[0];
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);

  /* Made in C. */
  wasm_globaltype_t* counter_type = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_VAR);
  wasm_val_t forty = WASM_I32_VAL(40);
  wasm_global_t* counter = wasm_global_new(store, counter_type, &forty);
  CHECK(counter);
  wasm_globaltype_t* pi_type = wasm_globaltype_new(wasm_valtype_new_f64(), WASM_CONST);
  wasm_val_t pi_val = WASM_F64_VAL(3.25);
  wasm_global_t* pi = wasm_global_new(store, pi_type, &pi_val);
  CHECK(pi);
  /* A value of the wrong type is refused. */
  wasm_val_t wrong = WASM_I64_VAL(1);
  CHECK(wasm_global_new(store, counter_type, &wrong) == NULL);
  expect_last_error("i64");
  OK("new");

  wasm_module_t* module = compile_wat(store, WAT);
  wasm_extern_t* imports[] = {wasm_global_as_extern(counter), wasm_global_as_extern(pi)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);

  /* wasm writes the C global; C sees it, and C's writes reach wasm. */
  const wasm_func_t* bump = wasm_extern_as_func(export_named(module, &exports, "bump"));
  CHECK_EQ_INT(call0(bump).of.i32, 41);
  wasm_val_t v;
  wasm_global_get(counter, &v);
  CHECK(v.kind == WASM_I32 && v.of.i32 == 41);
  wasm_val_t hundred = WASM_I32_VAL(100);
  wasm_global_set(counter, &hundred);
  CHECK_EQ_INT(call0(bump).of.i32, 101);
  CHECK(call0(wasm_extern_as_func(export_named(module, &exports, "pi"))).of.f64 == 3.25);
  OK("import");

  /* Exports of every number type. */
  wasm_global_t* big = wasm_extern_as_global(export_named(module, &exports, "big"));
  CHECK(big);
  wasm_global_get(big, &v);
  CHECK(v.kind == WASM_I64 && v.of.i64 == 0x100000000LL);
  wasm_val_t bigger = WASM_I64_VAL(-5);
  wasm_global_set(big, &bigger);
  CHECK_EQ_INT(call0(wasm_extern_as_func(export_named(module, &exports, "get_big"))).of.i64, -5);
  wasm_global_t* half = wasm_extern_as_global(export_named(module, &exports, "half"));
  wasm_global_get(half, &v);
  CHECK(v.kind == WASM_F32 && v.of.f32 == 0.5f);
  OK("export");

  /* Refusals: an immutable global, a value of another type. */
  wasm_val_t one = WASM_F32_VAL(1.0f);
  wasm_global_set(half, &one);
  expect_last_error("immutable");
  wasm_global_get(half, &v);
  CHECK(v.of.f32 == 0.5f);
  wasm_val_t not_i64 = WASM_I32_VAL(3);
  wasm_global_set(big, &not_i64);
  expect_last_error("i32");
  wasm_global_get(big, &v);
  CHECK_EQ_INT(v.of.i64, -5);
  OK("refused");

  /* Types. */
  wasm_globaltype_t* t = wasm_global_type(big);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_globaltype_content(t)), WASM_I64);
  CHECK_EQ_INT(wasm_globaltype_mutability(t), WASM_VAR);
  wasm_globaltype_delete(t);
  t = wasm_global_type(pi);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_globaltype_content(t)), WASM_F64);
  CHECK_EQ_INT(wasm_globaltype_mutability(t), WASM_CONST);
  wasm_externtype_t* et = wasm_extern_type(wasm_global_as_extern(pi));
  CHECK_EQ_INT(wasm_externtype_kind(et), WASM_EXTERN_GLOBAL);
  CHECK(wasm_externtype_as_globaltype(et) != NULL);
  CHECK(wasm_externtype_as_functype(et) == NULL);
  wasm_externtype_delete(et);
  wasm_globaltype_delete(t);
  OK("type");

  /* Identity: two references to one global are the same; others are not. */
  wasm_global_t* counter_again = wasm_global_copy(counter);
  CHECK(wasm_global_same(counter, counter_again));
  CHECK(!wasm_global_same(counter, pi));
  CHECK(!wasm_global_same(counter, wasm_extern_as_global(export_named(module, &exports, "counter_again"))));
  wasm_global_delete(counter_again);
  OK("same");

  /* An import of the wrong type fails the instantiation with a trap. */
  wasm_extern_t* swapped[] = {wasm_global_as_extern(pi), wasm_global_as_extern(counter)};
  wasm_extern_vec_t swapped_vec = WASM_ARRAY_VEC(swapped);
  wasm_trap_t* trap = NULL;
  CHECK(wasm_instance_new(store, module, &swapped_vec, &trap) == NULL);
  expect_trap(trap, "counter");
  OK("link-error");

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_global_delete(counter);
  wasm_global_delete(pi);
  wasm_globaltype_delete(counter_type);
  wasm_globaltype_delete(pi_type);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
