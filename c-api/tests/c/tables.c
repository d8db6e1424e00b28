/* Tables made in C: host and wasm functions placed in them and called
 * indirectly from wasm, growth from C, bounds, externref tables holding
 * foreign objects. */
#include "check.h"

static wasm_trap_t* forty_two(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = 42;
  return NULL;
}

static const char* WAT =
    "(module\n"
    "  (import \"env\" \"table\" (table $t 2 funcref))\n"
    "  (import \"env\" \"refs\" (table $r 1 externref))\n"
    "  (type $ret (func (result i32)))\n"
    "  (func $seven (export \"seven\") (result i32) (i32.const 7))\n"
    "  (func (export \"call\") (param i32) (result i32) (call_indirect (type $ret) (local.get 0)))\n"
    "  (func (export \"size\") (result i32) (table.size $t))\n"
    "  (func (export \"get_ref\") (param i32) (result externref) (table.get $r (local.get 0)))\n"
    "  (func (export \"put_seven\") (param i32) (table.set $t (local.get 0) (ref.func $seven)))\n"
    "  (elem declare func $seven))\n";

static wasm_trap_t* call_i32(const wasm_func_t* f, int32_t arg, wasm_val_t* out) {
  wasm_val_t args[1] = {WASM_I32_VAL(arg)};
  wasm_val_vec_t argv = WASM_ARRAY_VEC(args);
  wasm_val_vec_t outv = {wasm_func_result_arity(f), out};
  return wasm_func_call(f, &argv, &outv);
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);

  wasm_limits_t limits = {2, 10};
  wasm_tabletype_t* type = wasm_tabletype_new(wasm_valtype_new_funcref(), &limits);
  wasm_table_t* table = wasm_table_new(store, type, NULL);
  CHECK(table);
  CHECK_EQ_INT(wasm_table_size(table), 2);
  CHECK(wasm_table_get(table, 0) == NULL);
  wasm_limits_t ref_limits = {1, wasm_limits_max_default};
  wasm_tabletype_t* ref_type = wasm_tabletype_new(wasm_valtype_new_externref(), &ref_limits);
  wasm_table_t* refs = wasm_table_new(store, ref_type, NULL);
  CHECK(refs);
  OK("new");

  wasm_module_t* module = compile_wat(store, WAT);
  wasm_extern_t* imports[] = {wasm_table_as_extern(table), wasm_table_as_extern(refs)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  const wasm_func_t* call = wasm_extern_as_func(export_named(module, &exports, "call"));
  wasm_val_t out[1];

  /* A host function and a wasm function, set from C, called by wasm. */
  wasm_functype_t* ret_type = wasm_functype_new_0_1(wasm_valtype_new_i32());
  wasm_func_t* host = wasm_func_new(store, ret_type, forty_two);
  CHECK(wasm_table_set(table, 0, wasm_func_as_ref(host)));
  wasm_func_t* seven = wasm_extern_as_func(export_named(module, &exports, "seven"));
  CHECK(wasm_table_set(table, 1, wasm_func_as_ref(seven)));
  CHECK(call_i32(call, 0, out) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 42);
  CHECK(call_i32(call, 1, out) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 7);
  /* Reading an element back gives the same function. */
  wasm_ref_t* got = wasm_table_get(table, 0);
  CHECK(got && wasm_ref_same(got, wasm_func_as_ref(host)));
  wasm_func_t* got_func = wasm_ref_as_func(got);
  CHECK(got_func && wasm_func_result_arity(got_func) == 1);
  wasm_ref_delete(got);
  OK("indirect");

  /* Growth from C fills with the given function; wasm sees the size. */
  CHECK(wasm_table_grow(table, 3, wasm_func_as_ref(host)));
  CHECK_EQ_INT(wasm_table_size(table), 5);
  const wasm_func_t* size = wasm_extern_as_func(export_named(module, &exports, "size"));
  wasm_val_vec_t none = WASM_EMPTY_VEC, outv = {1, out};
  CHECK(wasm_func_call(size, &none, &outv) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 5);
  CHECK(call_i32(call, 4, out) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 42);
  CHECK(call_i32(wasm_extern_as_func(export_named(module, &exports, "put_seven")), 4, out) == NULL);
  CHECK(call_i32(call, 4, out) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 7);
  /* Past the maximum: refused. */
  CHECK(!wasm_table_grow(table, 6, NULL));
  expect_last_error("grow");
  CHECK_EQ_INT(wasm_table_size(table), 5);
  wasm_tabletype_t* t = wasm_table_type(table);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_tabletype_element(t)), WASM_FUNCREF);
  CHECK_EQ_INT(wasm_tabletype_limits(t)->min, 5);
  CHECK_EQ_INT(wasm_tabletype_limits(t)->max, 10);
  wasm_tabletype_delete(t);
  OK("grow");

  /* Bounds and kinds: refused, not crashed. */
  CHECK(!wasm_table_set(table, 5, NULL));
  expect_last_error("out of bounds");
  CHECK(wasm_table_get(table, 99) == NULL);
  CHECK(wasm_table_set(table, 0, wasm_func_as_ref(host)));
  wasm_foreign_t* foreign = wasm_foreign_new(store);
  CHECK(!wasm_table_set(table, 0, wasm_foreign_as_ref(foreign)));
  expect_last_error("only functions");
  /* A null element traps when called. */
  CHECK(wasm_table_set(table, 2, NULL));
  wasm_trap_t* trap = call_i32(call, 2, out);
  cljit_trap_code_t code;
  CHECK(trap && cljit_trap_code(trap, &code) && code == CLJIT_TRAP_INDIRECT_CALL_TO_NULL);
  wasm_trap_delete(trap);
  trap = call_i32(call, 7, out);
  CHECK(trap && cljit_trap_code(trap, &code) && code == CLJIT_TRAP_INDIRECT_CALL_OUT_OF_BOUNDS);
  wasm_trap_delete(trap);
  OK("bounds");

  /* Foreign objects go into an externref table and come back as the same
   * object, through wasm. */
  CHECK(wasm_table_set(refs, 0, wasm_foreign_as_ref(foreign)));
  const wasm_func_t* get_ref = wasm_extern_as_func(export_named(module, &exports, "get_ref"));
  CHECK(call_i32(get_ref, 0, out) == NULL);
  CHECK_EQ_INT(out[0].kind, WASM_EXTERNREF);
  CHECK(out[0].of.ref && wasm_ref_same(out[0].of.ref, wasm_foreign_as_ref(foreign)));
  CHECK(wasm_ref_as_foreign(out[0].of.ref) != NULL);
  CHECK(wasm_ref_as_func(out[0].of.ref) == NULL);
  wasm_val_delete(&out[0]);
  CHECK(!wasm_table_set(refs, 0, wasm_func_as_ref(host)));
  expect_last_error("only foreign objects");
  OK("externref");

  wasm_foreign_delete(foreign);
  wasm_func_delete(host);
  wasm_functype_delete(ret_type);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(module);
  wasm_table_delete(table);
  wasm_table_delete(refs);
  wasm_tabletype_delete(type);
  wasm_tabletype_delete(ref_type);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
