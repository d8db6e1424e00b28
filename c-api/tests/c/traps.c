/* Traps: messages, codes, origin and trace frames (function index,
 * offset in the function, offset in the module), traps from start
 * functions and link errors, traps made by C, and trap references. */
#include "check.h"

/* Function 0 imports nothing; $inner is function 1, called by $middle (2),
 * called by $outer (3). Offsets are checked against the binary below. */
static const char* WAT =
    "(module\n"
    "  (func $zero)\n"
    "  (func $inner (param i32) (result i32)\n"
    "    (i32.div_s (i32.const 1) (local.get 0)))\n"
    "  (func $middle (param i32) (result i32) (call $inner (local.get 0)))\n"
    "  (func $outer (export \"outer\") (param i32) (result i32)\n"
    "    (call $middle (local.get 0)))\n"
    "  (func $deep (export \"deep\") (call $deep))\n"
    "  (func (export \"unreachable\") unreachable))\n";

int main(void) {
  wasm_engine_t* engine = wasm_engine_new();
  wasm_store_t* store = wasm_store_new(engine);
  wasm_module_t* module = compile_wat(store, WAT);
  wasm_instance_t* instance = wasm_instance_new(store, module, NULL, NULL);
  CHECK(instance);
  wasm_extern_vec_t exports;
  wasm_instance_exports(instance, &exports);

  /* A division by zero three frames deep. */
  const wasm_func_t* outer = wasm_extern_as_func(export_named(module, &exports, "outer"));
  wasm_val_t args[1] = {WASM_I32_VAL(0)};
  wasm_val_t out[1];
  wasm_val_vec_t argv = WASM_ARRAY_VEC(args), outv = WASM_ARRAY_VEC(out);
  wasm_trap_t* trap = wasm_func_call(outer, &argv, &outv);
  CHECK(trap);
  wasm_message_t message;
  wasm_trap_message(trap, &message);
  CHECK_MESSAGE(message, "wasm trap: integer divide by zero");
  CHECK_EQ_INT(strlen(message.data) + 1, message.size);
  wasm_byte_vec_delete(&message);
  cljit_trap_code_t code;
  CHECK(cljit_trap_code(trap, &code));
  CHECK_EQ_INT(code, CLJIT_TRAP_INTEGER_DIVISION_BY_ZERO);
  int32_t status;
  CHECK(!cljit_trap_exit_status(trap, &status));
  OK("message");

  wasm_frame_t* origin = wasm_trap_origin(trap);
  CHECK(origin);
  CHECK_EQ_INT(wasm_frame_func_index(origin), 1);
  CHECK(wasm_frame_instance(origin) == NULL);
  /* $inner's body: locals count (1 byte), i32.const 1 (2), local.get 0
   * (2), then i32.div_s at offset 5 from the body's start. */
  CHECK_EQ_INT(wasm_frame_func_offset(origin), 5);
  size_t inner_at = wasm_frame_module_offset(origin);
  CHECK(inner_at > 0);
  wasm_frame_vec_t trace;
  wasm_trap_trace(trap, &trace);
  CHECK_EQ_INT(trace.size, 3);
  CHECK_EQ_INT(wasm_frame_func_index(trace.data[0]), 1);
  CHECK_EQ_INT(wasm_frame_func_index(trace.data[1]), 2);
  CHECK_EQ_INT(wasm_frame_func_index(trace.data[2]), 3);
  CHECK_EQ_INT(wasm_frame_module_offset(trace.data[0]), inner_at);
  /* Each caller's frame is at its call: local.get 0 (2 bytes) after the
   * locals count, so offset 3. */
  CHECK_EQ_INT(wasm_frame_func_offset(trace.data[1]), 3);
  CHECK_EQ_INT(wasm_frame_func_offset(trace.data[2]), 3);
  CHECK(wasm_frame_module_offset(trace.data[1]) > inner_at);
  CHECK(wasm_frame_module_offset(trace.data[2]) > wasm_frame_module_offset(trace.data[1]));
  wasm_frame_t* copy = wasm_frame_copy(trace.data[2]);
  CHECK_EQ_INT(wasm_frame_func_index(copy), 3);
  CHECK_EQ_INT(wasm_frame_module_offset(copy), wasm_frame_module_offset(trace.data[2]));
  wasm_frame_delete(copy);
  wasm_frame_vec_t trace_copy;
  wasm_frame_vec_copy(&trace_copy, &trace);
  CHECK_EQ_INT(trace_copy.size, 3);
  CHECK_EQ_INT(wasm_frame_func_index(trace_copy.data[1]), 2);
  wasm_frame_vec_delete(&trace_copy);
  wasm_frame_vec_delete(&trace);
  wasm_frame_delete(origin);
  OK("frames");

  /* Trap references: copies are the same trap; host info on a trap. */
  wasm_trap_t* again = wasm_trap_copy(trap);
  CHECK(wasm_trap_same(trap, again));
  wasm_trap_set_host_info(again, (void*)0x1234);
  CHECK(wasm_trap_get_host_info(trap) == (void*)0x1234);
  CHECK(wasm_ref_as_trap(wasm_trap_as_ref(trap)) == trap);
  wasm_trap_delete(again);
  wasm_trap_delete(trap);
  OK("references");

  /* Other traps: unreachable, stack overflow. */
  const wasm_func_t* unreachable =
      wasm_extern_as_func(export_named(module, &exports, "unreachable"));
  wasm_val_vec_t none = WASM_EMPTY_VEC;
  trap = wasm_func_call(unreachable, &none, &none);
  CHECK(cljit_trap_code(trap, &code) && code == CLJIT_TRAP_UNREACHABLE);
  expect_trap(trap, "unreachable");
  const wasm_func_t* deep = wasm_extern_as_func(export_named(module, &exports, "deep"));
  trap = wasm_func_call(deep, &none, &none);
  CHECK(cljit_trap_code(trap, &code) && code == CLJIT_TRAP_STACK_OVERFLOW);
  wasm_frame_vec_t deep_trace;
  wasm_trap_trace(trap, &deep_trace);
  CHECK(deep_trace.size > 10);
  CHECK_EQ_INT(wasm_frame_func_index(deep_trace.data[deep_trace.size - 1]), 4);
  wasm_frame_vec_delete(&deep_trace);
  expect_trap(trap, "call stack exhausted");
  /* The store still works after traps. */
  args[0].of.i32 = 1;
  CHECK(wasm_func_call(outer, &argv, &outv) == NULL);
  CHECK_EQ_INT(out[0].of.i32, 1);
  OK("kinds");

  /* A trap in the start function fails the instantiation with it. */
  wasm_module_t* starter = compile_wat(
      store, "(module (func $s (call $t)) (func $t unreachable) (start $s))");
  trap = NULL;
  CHECK(wasm_instance_new(store, starter, NULL, &trap) == NULL);
  CHECK(trap && cljit_trap_code(trap, &code) && code == CLJIT_TRAP_UNREACHABLE);
  origin = wasm_trap_origin(trap);
  CHECK(origin && wasm_frame_func_index(origin) == 1);
  wasm_frame_delete(origin);
  expect_trap(trap, "unreachable executed");
  /* Without a place for the trap, the reason is still recorded. */
  CHECK(wasm_instance_new(store, starter, NULL, NULL) == NULL);
  expect_last_error("unreachable executed");
  OK("start");

  /* A link error: too few imports. */
  wasm_module_t* importer =
      compile_wat(store, "(module (import \"a\" \"b\" (func)) (import \"a\" \"c\" (global i32)))");
  trap = NULL;
  CHECK(wasm_instance_new(store, importer, NULL, &trap) == NULL);
  CHECK(trap && !cljit_trap_code(trap, &code));
  expect_trap(trap, "import");
  OK("link");

  /* A trap made by C keeps its message and has no frames. */
  wasm_message_t text;
  wasm_name_new_from_string_nt(&text, "made in C");
  trap = wasm_trap_new(store, &text);
  wasm_byte_vec_delete(&text);
  CHECK(wasm_trap_origin(trap) == NULL);
  wasm_frame_vec_t empty;
  wasm_trap_trace(trap, &empty);
  CHECK_EQ_INT(empty.size, 0);
  wasm_frame_vec_delete(&empty);
  wasm_trap_message(trap, &message);
  CHECK_EQ_INT(message.size, strlen("made in C") + 1);
  CHECK(strcmp(message.data, "made in C") == 0);
  wasm_byte_vec_delete(&message);
  wasm_trap_delete(trap);
  OK("new");

  wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasm_module_delete(importer);
  wasm_module_delete(starter);
  wasm_module_delete(module);
  wasm_store_delete(store);
  wasm_engine_delete(engine);
  return 0;
}
