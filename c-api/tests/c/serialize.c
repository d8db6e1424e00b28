/* Serialization: wasm_module_serialize/deserialize and the cljit.h
 * artifact calls, into other stores and engines, from a file; damaged or
 * foreign artifacts are refused with a reason. */
#include "check.h"

static const char* WAT =
    "(module (func (export \"mul\") (param i64 i64) (result i64)\n"
    "  (i64.mul (local.get 0) (local.get 1))))";

static int64_t mul(wasm_store_t* store, const wasm_module_t* module, int64_t a, int64_t b) {
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  wasm_val_t args[2] = {WASM_I64_VAL(a), WASM_I64_VAL(b)};
  wasm_val_t out[1];
  wasm_val_vec_t argv = WASM_ARRAY_VEC(args), outv = WASM_ARRAY_VEC(out);
  CHECK(wasm_func_call(wasm_extern_as_func(exports.data[0]), &argv, &outv) == NULL);
  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  return out[0].of.i64;
}

int main(int argc, char** argv) {
  CHECK(argc == 2); /* a scratch file path */
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(store, WAT);

  /* Standard calls: the bytes load in another store of the engine. */
  wasm_byte_vec_t artifact;
  wasm_module_serialize(module, &artifact);
  CHECK(artifact.size > 8);
  wasm_store_t* other = wasm_store_new(engine);
  wasm_module_t* loaded = wasm_module_deserialize(other, &artifact);
  CHECK(loaded);
  CHECK_EQ_INT(mul(other, loaded, 6, 7), 42);
  /* A deserialized module serializes to the same artifact. */
  wasm_byte_vec_t again;
  wasm_module_serialize(loaded, &again);
  CHECK(again.size == artifact.size && memcmp(again.data, artifact.data, again.size) == 0);
  wasm_byte_vec_delete(&again);
  /* Its types survive. */
  wasm_exporttype_vec_t exports;
  wasm_module_exports(loaded, &exports);
  CHECK_EQ_INT(exports.size, 1);
  CHECK_EQ_INT(wasm_functype_params(wasm_externtype_as_functype_const(
                   wasm_exporttype_type(exports.data[0])))->size,
               2);
  wasm_exporttype_vec_delete(&exports);
  OK("standard");

  /* Another engine with the same settings accepts it too. */
  wasm_engine_t* engine2 = wasm_engine_new();
  wasm_store_t* store2 = wasm_store_new(engine2);
  wasm_module_t* loaded2 = wasm_module_deserialize(store2, &artifact);
  CHECK(loaded2);
  CHECK_EQ_INT(mul(store2, loaded2, -3, 5), -15);
  OK("other-engine");

  /* Damage is caught, with a reason. */
  artifact.data[artifact.size / 2] ^= 0x55;
  CHECK(wasm_module_deserialize(other, &artifact) == NULL);
  expect_last_error("");
  wasm_byte_vec_t junk;
  wasm_byte_vec_new(&junk, 5, "hello");
  CHECK(wasm_module_deserialize(other, &junk) == NULL);
  expect_last_error("artifact");
  wasm_byte_vec_delete(&junk);
  wasm_byte_vec_delete(&artifact);
  OK("refused");

  /* cljit.h: errors as values, and files. */
  wasm_byte_vec_t bytes;
  CHECK(cljit_module_serialize(module, &bytes) == NULL);
  FILE* file = fopen(argv[1], "wb");
  CHECK(file && fwrite(bytes.data, 1, bytes.size, file) == bytes.size);
  fclose(file);
  wasm_module_t* from_bytes = NULL;
  CHECK(cljit_module_deserialize(store, &bytes, &from_bytes) == NULL && from_bytes);
  CHECK_EQ_INT(mul(store, from_bytes, 1 << 20, 1 << 20), 1LL << 40);
  wasm_module_t* from_file = NULL;
  CHECK(cljit_module_deserialize_file(store, argv[1], &from_file) == NULL && from_file);
  CHECK_EQ_INT(mul(store, from_file, 9, 9), 81);
  wasm_module_t* missing = (wasm_module_t*)1;
  cljit_error_t* err = cljit_module_deserialize_file(store, "/nonexistent/artifact", &missing);
  CHECK(err && missing == NULL);
  wasm_name_t message;
  cljit_error_message(err, &message);
  CHECK_MESSAGE(message, "cannot read `/nonexistent/artifact`");
  wasm_byte_vec_delete(&message);
  cljit_error_delete(err);
  wasm_byte_vec_delete(&bytes);
  OK("cljit");

  /* An engine with other code settings refuses the artifact. */
  wasm_config_t* config = wasm_config_new();
  cljit_config_consume_fuel(config, true);
  wasm_engine_t* fuel_engine = wasm_engine_new_with_config(config);
  wasm_store_t* fuel_store = wasm_store_new(fuel_engine);
  wasm_module_t* refused = (wasm_module_t*)1;
  err = cljit_module_deserialize_file(fuel_store, argv[1], &refused);
  CHECK(err && refused == NULL);
  cljit_error_message(err, &message);
  CHECK_MESSAGE(message, "fuel");
  wasm_byte_vec_delete(&message);
  cljit_error_delete(err);
  OK("settings");

  wasm_module_delete(from_file);
  wasm_module_delete(from_bytes);
  wasm_module_delete(loaded2);
  wasm_module_delete(loaded);
  wasm_module_delete(module);
  wasm_store_delete(fuel_store);
  wasm_store_delete(store2);
  wasm_store_delete(other);
  wasm_store_delete(store);
  wasm_engine_delete(fuel_engine);
  wasm_engine_delete(engine2);
  wasm_engine_delete(engine);
  return 0;
}
