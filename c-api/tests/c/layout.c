/* Prints the layout and constants of wasm.h's types, so the test can
 * compare two headers: compiled against ours and against the standard
 * header, the outputs must be identical. Uses only standard names. */
#include <stddef.h>
#include <stdio.h>

#include "wasm.h"

#define SHOW(expr) printf("%s = %lld\n", #expr, (long long)(expr))

int main(void) {
  SHOW(sizeof(byte_t));
  SHOW(sizeof(float32_t));
  SHOW(sizeof(float64_t));
  SHOW(sizeof(wasm_byte_t));
  SHOW(sizeof(wasm_mutability_t));
  SHOW(sizeof(wasm_valkind_t));
  SHOW(sizeof(wasm_externkind_t));
  SHOW(sizeof(wasm_table_size_t));
  SHOW(sizeof(wasm_memory_pages_t));
  SHOW(sizeof(wasm_limits_t));
  SHOW(offsetof(wasm_limits_t, min));
  SHOW(offsetof(wasm_limits_t, max));
  SHOW(sizeof(wasm_val_t));
  SHOW(offsetof(wasm_val_t, kind));
  SHOW(offsetof(wasm_val_t, of));
  SHOW(sizeof(((wasm_val_t*)0)->of));
  SHOW(sizeof(wasm_byte_vec_t));
  SHOW(offsetof(wasm_byte_vec_t, size));
  SHOW(offsetof(wasm_byte_vec_t, data));
  SHOW(sizeof(wasm_val_vec_t));
  SHOW(sizeof(wasm_extern_vec_t));
  SHOW(sizeof(wasm_frame_vec_t));
  SHOW(sizeof(wasm_valtype_vec_t));
  SHOW(sizeof(wasm_importtype_vec_t));
  SHOW(sizeof(wasm_name_t));
  SHOW(sizeof(wasm_message_t));
  SHOW(WASM_CONST);
  SHOW(WASM_VAR);
  SHOW(WASM_I32);
  SHOW(WASM_I64);
  SHOW(WASM_F32);
  SHOW(WASM_F64);
  SHOW(WASM_EXTERNREF);
  SHOW(WASM_FUNCREF);
  SHOW(WASM_EXTERN_FUNC);
  SHOW(WASM_EXTERN_GLOBAL);
  SHOW(WASM_EXTERN_TABLE);
  SHOW(WASM_EXTERN_MEMORY);
  SHOW(wasm_limits_max_default);
  SHOW(MEMORY_PAGE_SIZE);
  wasm_val_t i = WASM_I32_VAL(-3), l = WASM_I64_VAL(1LL << 40), r = WASM_REF_VAL(NULL);
  wasm_val_t init = WASM_INIT_VAL;
  SHOW(i.kind);
  SHOW(i.of.i32);
  SHOW(l.kind);
  SHOW(l.of.i64);
  SHOW(r.kind);
  SHOW(init.kind);
  wasm_byte_vec_t empty = WASM_EMPTY_VEC;
  SHOW(empty.size);
  int three[3];
  struct {
    size_t size;
    int* data;
  } array = WASM_ARRAY_VEC(three);
  SHOW(array.size);
  return 0;
}
