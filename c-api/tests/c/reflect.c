/* Reflection: a module's import and export types of every kind; type
 * constructors, accessors, casts and copies; vectors of every kind;
 * validation and compile errors that say why. */
#include "check.h"

static const char* WAT =
    "(module\n"
    "  (import \"env\" \"f\" (func (param i32 f64) (result i64)))\n"
    "  (import \"env\" \"g\" (global (mut f32)))\n"
    "  (import \"env\" \"t\" (table 3 7 externref))\n"
    "  (func (export \"h\") (param funcref externref) (result i32 i32)\n"
    "    (i32.const 1) (i32.const 2))\n"
    "  (global (export \"k\") i64 (i64.const 3))\n"
    "  (table (export \"tt\") 0 funcref)\n"
    "  (memory (export \"mm\") 2 5))\n";

static int name_is(const wasm_name_t* n, const char* s) {
  return n->size == strlen(s) && memcmp(n->data, s, n->size) == 0;
}

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(store, WAT);

  wasm_importtype_vec_t imports;
  wasm_module_imports(module, &imports);
  CHECK_EQ_INT(imports.size, 3);
  const char* names[] = {"f", "g", "t"};
  wasm_externkind_t kinds[] = {WASM_EXTERN_FUNC, WASM_EXTERN_GLOBAL, WASM_EXTERN_TABLE};
  for (size_t i = 0; i < 3; i++) {
    CHECK(name_is(wasm_importtype_module(imports.data[i]), "env"));
    CHECK(name_is(wasm_importtype_name(imports.data[i]), names[i]));
    CHECK_EQ_INT(wasm_externtype_kind(wasm_importtype_type(imports.data[i])), kinds[i]);
  }
  const wasm_functype_t* f = wasm_externtype_as_functype_const(wasm_importtype_type(imports.data[0]));
  CHECK(f);
  CHECK_EQ_INT(wasm_functype_params(f)->size, 2);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_params(f)->data[0]), WASM_I32);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_params(f)->data[1]), WASM_F64);
  CHECK_EQ_INT(wasm_functype_results(f)->size, 1);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_results(f)->data[0]), WASM_I64);
  const wasm_globaltype_t* g =
      wasm_externtype_as_globaltype_const(wasm_importtype_type(imports.data[1]));
  CHECK(g && wasm_valtype_kind(wasm_globaltype_content(g)) == WASM_F32);
  CHECK_EQ_INT(wasm_globaltype_mutability(g), WASM_VAR);
  const wasm_tabletype_t* t =
      wasm_externtype_as_tabletype_const(wasm_importtype_type(imports.data[2]));
  CHECK(t && wasm_valtype_kind(wasm_tabletype_element(t)) == WASM_EXTERNREF);
  CHECK(wasm_valtype_is_ref(wasm_tabletype_element(t)));
  CHECK_EQ_INT(wasm_tabletype_limits(t)->min, 3);
  CHECK_EQ_INT(wasm_tabletype_limits(t)->max, 7);
  /* The wrong cast is NULL. */
  CHECK(wasm_externtype_as_memorytype_const(wasm_importtype_type(imports.data[2])) == NULL);
  OK("imports");

  wasm_exporttype_vec_t exports;
  wasm_module_exports(module, &exports);
  CHECK_EQ_INT(exports.size, 4);
  CHECK(name_is(wasm_exporttype_name(exports.data[0]), "h"));
  const wasm_functype_t* h = wasm_externtype_as_functype_const(wasm_exporttype_type(exports.data[0]));
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_params(h)->data[0]), WASM_FUNCREF);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_params(h)->data[1]), WASM_EXTERNREF);
  CHECK_EQ_INT(wasm_functype_results(h)->size, 2);
  CHECK(name_is(wasm_exporttype_name(exports.data[1]), "k"));
  CHECK_EQ_INT(wasm_globaltype_mutability(wasm_externtype_as_globaltype_const(
                   wasm_exporttype_type(exports.data[1]))),
               WASM_CONST);
  CHECK(name_is(wasm_exporttype_name(exports.data[3]), "mm"));
  const wasm_memorytype_t* m =
      wasm_externtype_as_memorytype_const(wasm_exporttype_type(exports.data[3]));
  CHECK(m && wasm_memorytype_limits(m)->min == 2);
  CHECK_EQ_INT(wasm_memorytype_limits(m)->max, 5);
  const wasm_tabletype_t* tt =
      wasm_externtype_as_tabletype_const(wasm_exporttype_type(exports.data[2]));
  CHECK(tt && wasm_tabletype_limits(tt)->min == 0);
  CHECK_EQ_INT(wasm_tabletype_limits(tt)->max, wasm_limits_max_default);
  OK("exports");

  /* Copies are deep: they outlive the originals. */
  wasm_importtype_vec_t imports_copy;
  wasm_importtype_vec_copy(&imports_copy, &imports);
  wasm_exporttype_t* export_copy = wasm_exporttype_copy(exports.data[0]);
  wasm_importtype_vec_delete(&imports);
  wasm_exporttype_vec_delete(&exports);
  CHECK(name_is(wasm_importtype_name(imports_copy.data[2]), "t"));
  CHECK(name_is(wasm_exporttype_name(export_copy), "h"));
  wasm_functype_t* h_copy =
      wasm_functype_copy(wasm_externtype_as_functype_const(wasm_exporttype_type(export_copy)));
  wasm_exporttype_delete(export_copy);
  CHECK_EQ_INT(wasm_functype_results(h_copy)->size, 2);
  wasm_functype_delete(h_copy);
  wasm_importtype_vec_delete(&imports_copy);
  OK("copies");

  /* Type constructors. */
  wasm_name_t module_name, field_name, export_name;
  wasm_name_new_from_string(&module_name, "mod");
  wasm_name_new_from_string(&field_name, "field");
  wasm_limits_t limits = {2, 3};
  wasm_importtype_t* it = wasm_importtype_new(
      &module_name, &field_name, wasm_memorytype_as_externtype(wasm_memorytype_new(&limits)));
  CHECK(name_is(wasm_importtype_module(it), "mod"));
  CHECK(name_is(wasm_importtype_name(it), "field"));
  CHECK_EQ_INT(wasm_memorytype_limits(wasm_externtype_as_memorytype_const(wasm_importtype_type(it)))->min, 2);
  wasm_name_new_from_string(&export_name, "out");
  wasm_exporttype_t* et = wasm_exporttype_new(
      &export_name,
      wasm_globaltype_as_externtype(wasm_globaltype_new(wasm_valtype_new_i64(), WASM_VAR)));
  CHECK_EQ_INT(wasm_externtype_kind(wasm_exporttype_type(et)), WASM_EXTERN_GLOBAL);
  wasm_importtype_delete(it);
  wasm_exporttype_delete(et);
  wasm_valtype_t* vt = wasm_valtype_new(WASM_F64);
  wasm_valtype_t* vt2 = wasm_valtype_copy(vt);
  CHECK_EQ_INT(wasm_valtype_kind(vt2), WASM_F64);
  CHECK(wasm_valtype_is_num(vt2));
  wasm_valtype_delete(vt);
  wasm_valtype_delete(vt2);
  CHECK(wasm_valtype_new(77) == NULL);
  expect_last_error("unknown value kind 77");
  wasm_functype_t* ft = wasm_functype_new_3_2(wasm_valtype_new_i32(), wasm_valtype_new_i64(),
                                              wasm_valtype_new_f32(), wasm_valtype_new_f64(),
                                              wasm_valtype_new_funcref());
  CHECK_EQ_INT(wasm_functype_params(ft)->size, 3);
  CHECK_EQ_INT(wasm_valtype_kind(wasm_functype_results(ft)->data[1]), WASM_FUNCREF);
  wasm_externtype_t* ext = wasm_functype_as_externtype(ft);
  CHECK(wasm_externtype_as_functype(ext) == ft);
  CHECK(wasm_externtype_as_globaltype(ext) == NULL);
  wasm_externtype_t* ext_copy = wasm_externtype_copy(ext);
  CHECK_EQ_INT(wasm_externtype_kind(ext_copy), WASM_EXTERN_FUNC);
  wasm_externtype_delete(ext_copy);
  wasm_functype_delete(ft);
  OK("constructors");

  /* Vectors of every kind: empty, uninitialized, from elements, copied. */
  wasm_byte_vec_t bytes, bytes2;
  wasm_byte_vec_new_empty(&bytes);
  CHECK_EQ_INT(bytes.size, 0);
  wasm_byte_vec_delete(&bytes);
  wasm_byte_vec_new_uninitialized(&bytes, 16);
  CHECK_EQ_INT(bytes.size, 16);
  memcpy(bytes.data, "0123456789abcdef", 16);
  wasm_byte_vec_copy(&bytes2, &bytes);
  wasm_byte_vec_delete(&bytes);
  CHECK(memcmp(bytes2.data, "0123456789abcdef", 16) == 0);
  wasm_byte_vec_delete(&bytes2);

  wasm_val_vec_t vals, vals2;
  wasm_val_t init[2] = {WASM_I32_VAL(1), WASM_F64_VAL(2.5)};
  wasm_val_vec_new(&vals, 2, init);
  wasm_val_vec_copy(&vals2, &vals);
  wasm_val_vec_delete(&vals);
  CHECK(vals2.data[1].kind == WASM_F64 && vals2.data[1].of.f64 == 2.5);
  wasm_val_vec_delete(&vals2);

  wasm_valtype_vec_t valtypes, valtypes2;
  wasm_valtype_vec_new_uninitialized(&valtypes, 2);
  CHECK(valtypes.data[0] == NULL);
  valtypes.data[0] = wasm_valtype_new_i64();
  valtypes.data[1] = wasm_valtype_new_externref();
  wasm_valtype_vec_copy(&valtypes2, &valtypes);
  wasm_valtype_vec_delete(&valtypes);
  CHECK_EQ_INT(wasm_valtype_kind(valtypes2.data[1]), WASM_EXTERNREF);
  wasm_valtype_vec_delete(&valtypes2);

  wasm_functype_vec_t fts;
  wasm_functype_t* fts_init[1] = {wasm_functype_new_0_0()};
  wasm_functype_vec_new(&fts, 1, fts_init);
  wasm_functype_vec_t fts2;
  wasm_functype_vec_copy(&fts2, &fts);
  wasm_functype_vec_delete(&fts);
  CHECK_EQ_INT(wasm_functype_params(fts2.data[0])->size, 0);
  wasm_functype_vec_delete(&fts2);

  wasm_globaltype_vec_t gts;
  wasm_globaltype_vec_new_empty(&gts);
  wasm_globaltype_vec_delete(&gts);
  wasm_tabletype_vec_t tts;
  wasm_tabletype_vec_new_uninitialized(&tts, 1);
  tts.data[0] = wasm_tabletype_new(wasm_valtype_new_funcref(), &limits);
  wasm_tabletype_vec_delete(&tts);
  wasm_memorytype_vec_t mts;
  wasm_memorytype_t* mts_init[2] = {wasm_memorytype_new(&limits), wasm_memorytype_new(&limits)};
  wasm_memorytype_vec_new(&mts, 2, mts_init);
  CHECK_EQ_INT(wasm_memorytype_limits(mts.data[1])->max, 3);
  wasm_memorytype_vec_delete(&mts);
  wasm_externtype_vec_t ets;
  wasm_externtype_vec_new_uninitialized(&ets, 3);
  wasm_externtype_vec_delete(&ets);
  wasm_extern_vec_t exts;
  wasm_extern_vec_new_empty(&exts);
  wasm_extern_vec_delete(&exts);
  wasm_frame_vec_t frames;
  wasm_frame_vec_new_uninitialized(&frames, 2);
  wasm_frame_vec_delete(&frames);
  wasm_importtype_vec_t its;
  wasm_importtype_vec_new_empty(&its);
  wasm_importtype_vec_delete(&its);
  wasm_exporttype_vec_t ets2;
  wasm_exporttype_vec_new_uninitialized(&ets2, 0);
  wasm_exporttype_vec_delete(&ets2);
  OK("vectors");

  /* Validation and compile errors. */
  wasm_byte_vec_t garbage;
  wasm_byte_vec_new(&garbage, 8, "\0asm\x01\0\0\x01");
  CHECK(!wasm_module_validate(store, &garbage));
  expect_last_error("offset");
  CHECK(wasm_module_new(store, &garbage) == NULL);
  expect_last_error("offset");
  wasm_byte_vec_delete(&garbage);
  wasm_byte_vec_t good;
  wasm_byte_vec_new(&good, 8, "\0asm\x01\0\0\0");
  CHECK(wasm_module_validate(store, &good));
  wasm_byte_vec_delete(&good);
  OK("validate");

  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
