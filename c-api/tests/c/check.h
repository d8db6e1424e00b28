/*
 * What the C API test programs share: checks that stop the program with
 * the failing line, section markers the Rust side matches in order (so a
 * program that stops early cannot pass), and small helpers.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cljit.h"

/* Prints the last error cljit recorded, if any. */
static inline void print_last_error(void) {
  cljit_error_t* e = cljit_last_error();
  if (e) {
    wasm_name_t m;
    cljit_error_message(e, &m);
    fprintf(stderr, "  last error: %s\n", m.data);
    wasm_byte_vec_delete(&m);
    cljit_error_delete(e);
  }
}

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      print_last_error();                                                 \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                \
  do {                                                                    \
    long long a_ = (long long)(a), b_ = (long long)(b);                   \
    if (a_ != b_) {                                                       \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,     \
              __LINE__, #a, a_, b_);                                      \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

/* A NUL-terminated message (trap or error) contains `text`. */
#define CHECK_MESSAGE(msg, text)                                          \
  do {                                                                    \
    CHECK((msg).size > 0 && (msg).data[(msg).size - 1] == '\0');          \
    if (!strstr((msg).data, (text))) {                                    \
      fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__,   \
              __LINE__, (msg).data, (text));                              \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

/* A section passed. */
#define OK(name) printf("ok: %s\n", name)

/* A module from WAT text (cljit's wasm_module_new also accepts text). */
static inline wasm_module_t* compile_wat(wasm_store_t* store, const char* wat) {
  wasm_byte_vec_t bytes;
  wasm_byte_vec_new(&bytes, strlen(wat), wat);
  wasm_module_t* module = wasm_module_new(store, &bytes);
  wasm_byte_vec_delete(&bytes);
  if (!module) {
    fprintf(stderr, "compiling failed\n");
    print_last_error();
    exit(1);
  }
  return module;
}

/* The trap's message contains `text`; the trap is deleted. */
static inline void expect_trap(wasm_trap_t* trap, const char* text) {
  CHECK(trap != NULL);
  wasm_message_t m;
  wasm_trap_message(trap, &m);
  CHECK_MESSAGE(m, text);
  wasm_byte_vec_delete(&m);
  wasm_trap_delete(trap);
}

/* `e` is an error whose message contains `text`; it is deleted. */
static inline void expect_error(cljit_error_t* e, const char* text) {
  CHECK(e != NULL);
  wasm_name_t m;
  cljit_error_message(e, &m);
  CHECK_MESSAGE(m, text);
  wasm_byte_vec_delete(&m);
  cljit_error_delete(e);
}

/* The last error's message contains `text`. */
static inline void expect_last_error(const char* text) { expect_error(cljit_last_error(), text); }

/* The export called `name` of an instance (the caller deletes `exports`). */
static inline wasm_extern_t* export_named(
    const wasm_module_t* module, const wasm_extern_vec_t* exports, const char* name) {
  wasm_exporttype_vec_t types;
  wasm_module_exports(module, &types);
  wasm_extern_t* found = NULL;
  for (size_t i = 0; i < types.size; i++) {
    const wasm_name_t* n = wasm_exporttype_name(types.data[i]);
    if (n->size == strlen(name) && memcmp(n->data, name, n->size) == 0) {
      found = exports->data[i];
    }
  }
  wasm_exporttype_vec_delete(&types);
  CHECK(found != NULL);
  return found;
}

#endif
