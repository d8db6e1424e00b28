/* References: host info and finalizers on every kind of object, shared by
 * copies; foreign objects and functions round-tripping through wasm as
 * externref and funcref; conversions between reference kinds. */
#include "check.h"

static int finalized[16];

static void finalize(void* info) { finalized[(intptr_t)info]++; }

static const char* WAT =
    "(module\n"
    "  (global (export \"g\") (mut i32) (i32.const 0))\n"
    "  (table (export \"t\") 1 funcref)\n"
    "  (memory (export \"m\") 1)\n"
    "  (func (export \"id_extern\") (param externref) (result externref) (local.get 0))\n"
    "  (func (export \"id_func\") (param funcref) (result funcref) (local.get 0))\n"
    "  (func (export \"is_null\") (param externref) (result i32) (ref.is_null (local.get 0))))\n";

static wasm_val_t call1(const wasm_func_t* f, wasm_val_t arg) {
  wasm_val_t args[1] = {arg};
  wasm_val_t out[1];
  wasm_val_vec_t argv = WASM_ARRAY_VEC(args), outv = WASM_ARRAY_VEC(out);
  CHECK(wasm_func_call(f, &argv, &outv) == NULL);
  return out[0];
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(store, WAT);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  wasm_global_t* g = wasm_extern_as_global(export_named(module, &exports, "g"));
  wasm_table_t* t = wasm_extern_as_table(export_named(module, &exports, "t"));
  wasm_memory_t* m = wasm_extern_as_memory(export_named(module, &exports, "m"));
  const wasm_func_t* id_extern = wasm_extern_as_func(export_named(module, &exports, "id_extern"));
  const wasm_func_t* id_func = wasm_extern_as_func(export_named(module, &exports, "id_func"));
  const wasm_func_t* is_null = wasm_extern_as_func(export_named(module, &exports, "is_null"));
  wasm_foreign_t* foreign = wasm_foreign_new(store);

  /* Host info belongs to the object: a copy, or the same export fetched
   * again, sees it. */
  wasm_global_set_host_info_with_finalizer(g, (void*)1, finalize);
  wasm_table_set_host_info_with_finalizer(t, (void*)2, finalize);
  wasm_memory_set_host_info_with_finalizer(m, (void*)3, finalize);
  wasm_instance_set_host_info_with_finalizer(instance, (void*)4, finalize);
  wasm_foreign_set_host_info_with_finalizer(foreign, (void*)5, finalize);
  wasm_func_t* f_copy = wasm_func_copy(id_func);
  wasm_func_set_host_info_with_finalizer(f_copy, (void*)6, finalize);
  CHECK(wasm_func_get_host_info(id_func) == (void*)6);
  wasm_extern_vec_t exports_again;
  wasm_instance_exports(instance, &exports_again);
  CHECK(wasm_extern_get_host_info(export_named(module, &exports_again, "g")) == (void*)1);
  CHECK(wasm_memory_get_host_info(wasm_extern_as_memory(export_named(module, &exports_again, "m"))) == (void*)3);
  CHECK(wasm_ref_get_host_info(wasm_table_as_ref(t)) == (void*)2);
  wasm_extern_vec_delete(&exports_again);
  /* No info: NULL. Replacing info finalizes the old. */
  wasm_func_t* other_func = wasm_func_copy(id_extern);
  CHECK(wasm_func_get_host_info(other_func) == NULL);
  wasm_func_set_host_info_with_finalizer(other_func, (void*)7, finalize);
  wasm_func_set_host_info(other_func, (void*)8);
  CHECK_EQ_INT(finalized[7], 1);
  CHECK(wasm_func_get_host_info(id_extern) == (void*)8);
  wasm_func_delete(other_func);
  /* Deleting references finalizes nothing: the objects live on. */
  wasm_func_delete(f_copy);
  for (int i = 1; i <= 6; i++) CHECK_EQ_INT(finalized[i], 0);
  OK("host-info");

  /* A foreign object through wasm: the same object comes back. */
  wasm_val_t v = call1(id_extern, (wasm_val_t)WASM_REF_VAL(wasm_foreign_as_ref(foreign)));
  CHECK_EQ_INT(v.kind, WASM_EXTERNREF);
  CHECK(v.of.ref && wasm_ref_same(v.of.ref, wasm_foreign_as_ref(foreign)));
  CHECK(wasm_foreign_get_host_info(wasm_ref_as_foreign(v.of.ref)) == (void*)5);
  wasm_val_t copied;
  wasm_val_copy(&copied, &v);
  CHECK(copied.of.ref != v.of.ref && wasm_ref_same(copied.of.ref, v.of.ref));
  wasm_val_delete(&copied);
  wasm_val_delete(&v);
  /* Null stays null. */
  v = call1(id_extern, (wasm_val_t)WASM_REF_VAL(NULL));
  CHECK(v.kind == WASM_EXTERNREF && v.of.ref == NULL);
  CHECK_EQ_INT(call1(is_null, (wasm_val_t)WASM_REF_VAL(NULL)).of.i32, 1);
  CHECK_EQ_INT(call1(is_null, (wasm_val_t)WASM_REF_VAL(wasm_foreign_as_ref(foreign))).of.i32, 0);
  /* Two foreign objects are different. */
  wasm_foreign_t* foreign2 = wasm_foreign_new(store);
  CHECK(!wasm_foreign_same(foreign, foreign2));
  CHECK(wasm_foreign_get_host_info(foreign2) == NULL);
  wasm_foreign_delete(foreign2);
  OK("externref");

  /* A function through wasm as a funcref: the same function, callable. */
  wasm_val_t fv = {.kind = WASM_FUNCREF, .of = {.ref = wasm_func_as_ref((wasm_func_t*)is_null)}};
  v = call1(id_func, fv);
  CHECK(v.kind == WASM_FUNCREF && v.of.ref);
  wasm_func_t* back = wasm_ref_as_func(v.of.ref);
  CHECK(back && wasm_func_same(back, is_null));
  CHECK_EQ_INT(call1(back, (wasm_val_t)WASM_REF_VAL(NULL)).of.i32, 1);
  wasm_val_delete(&v);
  /* A foreign object is not a function. */
  wasm_val_t bad = {.kind = WASM_FUNCREF, .of = {.ref = wasm_foreign_as_ref(foreign)}};
  wasm_val_t args[1] = {bad};
  wasm_val_t out[1];
  wasm_val_vec_t argv = WASM_ARRAY_VEC(args), outv = WASM_ARRAY_VEC(out);
  expect_trap(wasm_func_call(id_func, &argv, &outv), "funcref");
  OK("funcref");

  /* Conversions: every kind to wasm_ref_t and back; the wrong kind is
   * NULL. */
  CHECK(wasm_ref_as_global(wasm_global_as_ref(g)) == g);
  CHECK(wasm_ref_as_table(wasm_table_as_ref(t)) == t);
  CHECK(wasm_ref_as_memory(wasm_memory_as_ref(m)) == m);
  CHECK(wasm_ref_as_instance(wasm_instance_as_ref(instance)) == instance);
  CHECK(wasm_ref_as_module(wasm_module_as_ref(module)) == module);
  CHECK(wasm_ref_as_extern(wasm_extern_as_ref(exports.data[0])) == exports.data[0]);
  CHECK(wasm_ref_as_table(wasm_global_as_ref(g)) == NULL);
  CHECK(wasm_ref_as_extern(wasm_instance_as_ref(instance)) == NULL);
  CHECK(wasm_ref_as_func_const(wasm_memory_as_ref_const(m)) == NULL);
  CHECK(wasm_ref_as_memory_const(wasm_memory_as_ref_const(m)) == m);
  CHECK(wasm_extern_as_table(wasm_memory_as_extern(m)) == NULL);
  CHECK(wasm_extern_as_memory_const(wasm_memory_as_extern_const(m)) == m);
  wasm_ref_t* r = wasm_ref_copy(wasm_global_as_ref(g));
  CHECK(wasm_ref_same(r, wasm_global_as_ref(g)));
  CHECK(!wasm_ref_same(r, wasm_table_as_ref(t)));
  wasm_ref_set_host_info_with_finalizer(r, (void*)9, finalize);
  CHECK_EQ_INT(finalized[1], 1); /* the global's old info went */
  CHECK(wasm_global_get_host_info(g) == (void*)9);
  wasm_ref_delete(r);
  OK("conversions");

  /* Modules and traps are not owned by the store: their finalizers run
   * when the last reference goes. */
  wasm_module_t* module_copy = wasm_module_copy(module);
  wasm_module_set_host_info_with_finalizer(module_copy, (void*)10, finalize);
  CHECK(wasm_module_get_host_info(module) == (void*)10);
  wasm_module_delete(module_copy);
  CHECK_EQ_INT(finalized[10], 0);
  wasm_message_t text;
  wasm_name_new_from_string_nt(&text, "t");
  wasm_trap_t* trap = wasm_trap_new(store, &text);
  wasm_byte_vec_delete(&text);
  wasm_trap_set_host_info_with_finalizer(trap, (void*)11, finalize);
  wasm_trap_t* trap_copy = wasm_trap_copy(trap);
  wasm_trap_delete(trap);
  CHECK_EQ_INT(finalized[11], 0);
  wasm_trap_delete(trap_copy);
  CHECK_EQ_INT(finalized[11], 1);
  OK("module-trap");

  /* The store's objects are finalized with it, once each. */
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_foreign_delete(foreign);
  wasm_store_delete(store);
  CHECK_EQ_INT(finalized[1], 1);
  for (int i = 2; i <= 6; i++) CHECK_EQ_INT(finalized[i], 1);
  CHECK_EQ_INT(finalized[9], 1);
  CHECK_EQ_INT(finalized[10], 0); /* the module outlives the store */
  wasm_module_delete(module);
  CHECK_EQ_INT(finalized[10], 1);
  wasm_engine_delete(engine);
  OK("finalizers");
  return 0;
}
