/* Host functions: a plain callback, one with an environment and its
 * finalizer, multiple values both ways, a trap raised by a callback, and
 * a callback that calls back into wasm. */
#include "check.h"

static int hello_calls = 0;

static wasm_trap_t* hello(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)args;
  (void)results;
  hello_calls++;
  printf("hello from C\n");
  return NULL;
}

struct counter {
  int calls;
  int finalized;
};

static wasm_trap_t* add_to_counter(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  struct counter* c = env;
  CHECK_EQ_INT(args->size, 1);
  CHECK_EQ_INT(args->data[0].kind, WASM_I32);
  c->calls += args->data[0].of.i32;
  CHECK_EQ_INT(results->size, 1);
  results->data[0].kind = WASM_I32;
  results->data[0].of.i32 = c->calls;
  return NULL;
}

static void finalize_counter(void* env) { ((struct counter*)env)->finalized++; }

/* (i32, i64, f32, f64) -> (f64, f32, i64, i32): reversed. */
static wasm_trap_t* reverse(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  CHECK_EQ_INT(args->size, 4);
  CHECK_EQ_INT(results->size, 4);
  for (size_t i = 0; i < 4; i++) results->data[i] = args->data[3 - i];
  return NULL;
}

static wasm_store_t* the_store;

static wasm_trap_t* fail(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  (void)results;
  char text[64];
  snprintf(text, sizeof text, "host says no to %d", args->data[0].of.i32);
  wasm_message_t message;
  wasm_name_new_from_string_nt(&message, text);
  wasm_trap_t* trap = wasm_trap_new(the_store, &message);
  wasm_byte_vec_delete(&message);
  return trap;
}

/* Calls the wasm function in env with args[0] + 1, returning its result. */
static wasm_trap_t* reenter(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
  const wasm_func_t* square = env;
  wasm_val_t in[1] = {WASM_I32_VAL(args->data[0].of.i32 + 1)};
  wasm_val_t out[1] = {WASM_INIT_VAL};
  wasm_val_vec_t in_vec = WASM_ARRAY_VEC(in);
  wasm_val_vec_t out_vec = WASM_ARRAY_VEC(out);
  wasm_trap_t* trap = wasm_func_call(square, &in_vec, &out_vec);
  if (trap) return trap;
  results->data[0] = out[0];
  return NULL;
}

static const char* WAT =
    "(module\n"
    "  (import \"host\" \"hello\" (func $hello))\n"
    "  (import \"host\" \"add\" (func $add (param i32) (result i32)))\n"
    "  (import \"host\" \"reverse\" (func $reverse (param i32 i64 f32 f64) (result f64 f32 i64 i32)))\n"
    "  (import \"host\" \"fail\" (func $fail (param i32)))\n"
    "  (import \"host\" \"reenter\" (func $reenter (param i32) (result i32)))\n"
    "  (func (export \"run\") (call $hello) (call $hello))\n"
    "  (func (export \"add\") (param i32) (result i32) (call $add (local.get 0)))\n"
    "  (func (export \"reverse\") (param i32 i64 f32 f64) (result f64 f32 i64 i32)\n"
    "    (call $reverse (local.get 0) (local.get 1) (local.get 2) (local.get 3)))\n"
    "  (func (export \"fail\") (param i32) (call $fail (local.get 0)))\n"
    "  (func (export \"square\") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))\n"
    "  (func (export \"reenter\") (param i32) (result i32) (call $reenter (local.get 0))))\n";

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  the_store = store;
  wasm_module_t* module = compile_wat(store, WAT);

  struct counter counter = {0, 0};
  wasm_functype_t* hello_type = wasm_functype_new_0_0();
  wasm_func_t* hello_func = wasm_func_new(store, hello_type, hello);
  wasm_functype_t* add_type = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
  wasm_func_t* add_func =
      wasm_func_new_with_env(store, add_type, add_to_counter, &counter, finalize_counter);

  wasm_valtype_t* ps[4] = {wasm_valtype_new_i32(), wasm_valtype_new_i64(), wasm_valtype_new_f32(),
                           wasm_valtype_new_f64()};
  wasm_valtype_t* rs[4] = {wasm_valtype_new_f64(), wasm_valtype_new_f32(), wasm_valtype_new_i64(),
                           wasm_valtype_new_i32()};
  wasm_valtype_vec_t params, results;
  wasm_valtype_vec_new(&params, 4, ps);
  wasm_valtype_vec_new(&results, 4, rs);
  wasm_functype_t* reverse_type = wasm_functype_new(&params, &results);
  wasm_func_t* reverse_func = wasm_func_new(store, reverse_type, reverse);
  wasm_functype_t* fail_type = wasm_functype_new_1_0(wasm_valtype_new_i32());
  wasm_func_t* fail_func = wasm_func_new(store, fail_type, fail);

  /* `reenter` needs `square`, which needs the instance: a first instance
   * provides it, with a placeholder for `reenter`. */
  wasm_func_t* placeholder = wasm_func_new_with_env(store, add_type, add_to_counter, &counter, NULL);
  wasm_extern_t* first_imports[] = {
      wasm_func_as_extern(hello_func), wasm_func_as_extern(add_func),
      wasm_func_as_extern(reverse_func), wasm_func_as_extern(fail_func),
      wasm_func_as_extern(placeholder)};
  wasm_extern_vec_t first_vec = WASM_ARRAY_VEC(first_imports);
  wasm_trap_t* trap = NULL;
  wasm_instance_t* first = wasm_instance_new(store, module, &first_vec, &trap);
  CHECK(first && !trap);
  wasm_extern_vec_t first_exports;
  wasm_instance_exports(first, &first_exports);
  const wasm_func_t* square = wasm_extern_as_func(export_named(module, &first_exports, "square"));
  wasm_func_t* reenter_func = wasm_func_new_with_env(store, add_type, reenter, (void*)square, NULL);

  wasm_extern_t* imports[] = {wasm_func_as_extern(hello_func), wasm_func_as_extern(add_func),
                              wasm_func_as_extern(reverse_func), wasm_func_as_extern(fail_func),
                              wasm_func_as_extern(reenter_func)};
  wasm_extern_vec_t import_vec = WASM_ARRAY_VEC(imports);
  wasm_instance_t* instance = wasm_instance_new(store, module, &import_vec, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);
  CHECK_EQ_INT(exports.size, 6);

  /* hello: the worker's sequence of calls. */
  wasm_func_t* run = wasm_extern_as_func(export_named(module, &exports, "run"));
  CHECK(run);
  CHECK_EQ_INT(wasm_func_param_arity(run), 0);
  CHECK_EQ_INT(wasm_func_result_arity(run), 0);
  wasm_val_vec_t no_args = WASM_EMPTY_VEC, no_results = WASM_EMPTY_VEC;
  CHECK(wasm_func_call(run, &no_args, &no_results) == NULL);
  CHECK_EQ_INT(hello_calls, 2);
  OK("hello");

  /* An environment sees every call. */
  wasm_func_t* add = wasm_extern_as_func(export_named(module, &exports, "add"));
  wasm_val_vec_t args, outs;
  wasm_val_vec_new_uninitialized(&args, 1);
  wasm_val_vec_new_uninitialized(&outs, 1);
  for (int i = 1; i <= 3; i++) {
    args.data[0].kind = WASM_I32;
    args.data[0].of.i32 = i * 10;
    CHECK(wasm_func_call(add, &args, &outs) == NULL);
  }
  CHECK_EQ_INT(outs.data[0].kind, WASM_I32);
  CHECK_EQ_INT(outs.data[0].of.i32, 60);
  CHECK_EQ_INT(counter.calls, 60);
  wasm_val_vec_delete(&args);
  wasm_val_vec_delete(&outs);
  OK("env");

  /* Four values in, four out, through wasm and C. */
  wasm_func_t* rev = wasm_extern_as_func(export_named(module, &exports, "reverse"));
  CHECK_EQ_INT(wasm_func_param_arity(rev), 4);
  CHECK_EQ_INT(wasm_func_result_arity(rev), 4);
  wasm_val_t in4[4] = {WASM_I32_VAL(-7), WASM_I64_VAL(1LL << 40), WASM_F32_VAL(1.5f),
                       WASM_F64_VAL(-2.25)};
  wasm_val_t out4[4];
  wasm_val_vec_t in4v = WASM_ARRAY_VEC(in4), out4v = WASM_ARRAY_VEC(out4);
  CHECK(wasm_func_call(rev, &in4v, &out4v) == NULL);
  CHECK(out4[0].kind == WASM_F64 && out4[0].of.f64 == -2.25);
  CHECK(out4[1].kind == WASM_F32 && out4[1].of.f32 == 1.5f);
  CHECK(out4[2].kind == WASM_I64 && out4[2].of.i64 == (1LL << 40));
  CHECK(out4[3].kind == WASM_I32 && out4[3].of.i32 == -7);
  /* Wrong arguments are a trap, not a crash. */
  wasm_val_t bad[1] = {WASM_I32_VAL(1)};
  wasm_val_vec_t badv = WASM_ARRAY_VEC(bad);
  expect_trap(wasm_func_call(rev, &badv, &out4v), "expected 4 arguments");
  wasm_val_t wrong[4] = {WASM_I64_VAL(1), WASM_I64_VAL(1), WASM_F32_VAL(1), WASM_F64_VAL(1)};
  wasm_val_vec_t wrongv = WASM_ARRAY_VEC(wrong);
  expect_trap(wasm_func_call(rev, &wrongv, &out4v), "argument 0 has type i64");
  OK("multi-value");

  /* A callback's trap ends the call with its message. */
  wasm_func_t* f = wasm_extern_as_func(export_named(module, &exports, "fail"));
  wasm_val_t seven[1] = {WASM_I32_VAL(7)};
  wasm_val_vec_t sevenv = WASM_ARRAY_VEC(seven);
  wasm_trap_t* host_trap = wasm_func_call(f, &sevenv, &no_results);
  CHECK(host_trap);
  cljit_trap_code_t code;
  CHECK(!cljit_trap_code(host_trap, &code));
  expect_trap(host_trap, "host says no to 7");
  OK("host-trap");

  /* A callback calls wasm in the same store. */
  wasm_func_t* re = wasm_extern_as_func(export_named(module, &exports, "reenter"));
  wasm_val_t five[1] = {WASM_I32_VAL(5)};
  wasm_val_t result[1];
  wasm_val_vec_t fivev = WASM_ARRAY_VEC(five), resultv = WASM_ARRAY_VEC(result);
  CHECK(wasm_func_call(re, &fivev, &resultv) == NULL);
  CHECK_EQ_INT(result[0].of.i32, 36);
  OK("reentry");

  /* Deleting references leaves the objects; deleting the store runs the
   * environment's finalizer, once. */
  wasm_extern_vec_delete(&exports);
  wasm_extern_vec_delete(&first_exports);
  wasm_func_delete(hello_func);
  wasm_func_delete(add_func);
  wasm_func_delete(reverse_func);
  wasm_func_delete(fail_func);
  wasm_func_delete(placeholder);
  wasm_func_delete(reenter_func);
  wasm_functype_delete(hello_type);
  wasm_functype_delete(add_type);
  wasm_functype_delete(reverse_type);
  wasm_functype_delete(fail_type);
  wasm_instance_delete(instance);
  wasm_instance_delete(first);
  wasm_module_delete(module);
  CHECK_EQ_INT(counter.finalized, 0);
  wasm_store_delete(store);
  CHECK_EQ_INT(counter.finalized, 1);
  wasm_engine_delete(engine);
  OK("finalizer");
  return 0;
}
