/*
 * A function-as-a-service worker on cljit's C API.
 *
 * It reads one JSON job per line on stdin,
 *
 *     {"fn":"hello","payload":"world"}
 *
 * runs FUNCTIONS/NAME/code.wasm (a WASI command, compiled the first time
 * it is asked for and kept) in a fresh store and instance, with the
 * payload on its stdin, its stdout and stderr captured, and a time, fuel
 * and memory limit, then writes one JSON reply per job:
 *
 *     {"ok":true,"output":"Hello, world!\n"}
 *     {"ok":false,"error":"wasm trap: integer divide by zero","output":""}
 *
 * A bad module, a trap, a guest that loops or one that writes megabytes
 * gets an error reply; the worker goes on with the next job.
 *
 * Usage: worker [--functions DIR] [--timeout-ms N] [--fuel N]
 *               [--max-output BYTES] [--max-memory BYTES] [--stats]
 *
 * --stats prints, at the end, the jobs run and the jobs per second (on
 * stderr), for the benchmark.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cljit.h"
#include "wasi.h"
#include "wasm.h"

/* The epoch advances every TICK_MS milliseconds. */
#define TICK_MS 10

static const char* functions_dir = "functions";
static long timeout_ms = 1000;
static unsigned long long fuel = 200ULL * 1000 * 1000;
static size_t max_output = 1 << 20;
static long long max_memory = 64LL << 20;

static wasm_engine_t* engine;
/* The store modules are compiled in (modules are not tied to a store:
 * every store of the engine can instantiate them). */
static wasm_store_t* compile_store;

/* ------------------------------------------------------------------------
 * Growable byte buffers
 */

struct buf {
  char* data;
  size_t len, cap;
};

static void buf_reserve(struct buf* b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  char* data = realloc(b->data, cap);
  if (!data) {
    fprintf(stderr, "worker: out of memory\n");
    exit(2);
  }
  b->data = data;
  b->cap = cap;
}

static void buf_add(struct buf* b, const char* s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

static void buf_str(struct buf* b, const char* s) { buf_add(b, s, strlen(s)); }

/* ------------------------------------------------------------------------
 * JSON: the request's string members, and escaped replies
 */

static void skip_space(const char** p) {
  while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n') (*p)++;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool hex4(const char** p, unsigned* out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int d = hex_digit((*p)[i]);
    if (d < 0) return false;
    v = v * 16 + (unsigned)d;
  }
  *p += 4;
  *out = v;
  return true;
}

static void add_utf8(struct buf* b, unsigned cp) {
  char s[4];
  size_t n;
  if (cp < 0x80) {
    s[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    s[0] = (char)(0xc0 | (cp >> 6));
    s[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    s[0] = (char)(0xe0 | (cp >> 12));
    s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    s[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    s[0] = (char)(0xf0 | (cp >> 18));
    s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    s[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  buf_add(b, s, n);
}

/* Parses a JSON string at *p (at its opening quote) into `out`. */
static bool parse_string(const char** p, struct buf* out) {
  if (**p != '"') return false;
  (*p)++;
  for (;;) {
    unsigned char c = (unsigned char)**p;
    if (c == '"') {
      (*p)++;
      return true;
    }
    if (c < 0x20) return false; /* also the end of the line */
    (*p)++;
    if (c != '\\') {
      buf_add(out, (const char*)&c, 1);
      continue;
    }
    char e = *(*p)++;
    switch (e) {
      case '"': buf_add(out, "\"", 1); break;
      case '\\': buf_add(out, "\\", 1); break;
      case '/': buf_add(out, "/", 1); break;
      case 'b': buf_add(out, "\b", 1); break;
      case 'f': buf_add(out, "\f", 1); break;
      case 'n': buf_add(out, "\n", 1); break;
      case 'r': buf_add(out, "\r", 1); break;
      case 't': buf_add(out, "\t", 1); break;
      case 'u': {
        unsigned cp, low;
        if (!hex4(p, &cp)) return false;
        if (cp >= 0xd800 && cp < 0xdc00) {
          if ((*p)[0] != '\\' || (*p)[1] != 'u') return false;
          *p += 2;
          if (!hex4(p, &low) || low < 0xdc00 || low >= 0xe000) return false;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
          return false;
        }
        add_utf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
}

/* Skips a JSON value of any kind; nesting deeper than 64 is refused. */
static bool skip_value(const char** p, int depth) {
  skip_space(p);
  if (depth > 64) return false;
  if (**p == '"') {
    struct buf ignored = {0};
    bool ok = parse_string(p, &ignored);
    free(ignored.data);
    return ok;
  }
  if (**p == '{' || **p == '[') {
    char close = **p == '{' ? '}' : ']';
    (*p)++;
    skip_space(p);
    if (**p == close) return (*p)++, true;
    for (;;) {
      if (close == '}') {
        struct buf key = {0};
        bool ok = parse_string(p, &key);
        free(key.data);
        skip_space(p);
        if (!ok || *(*p)++ != ':') return false;
      }
      if (!skip_value(p, depth + 1)) return false;
      skip_space(p);
      if (**p == ',') {
        (*p)++;
        skip_space(p);
        continue;
      }
      return *(*p)++ == close;
    }
  }
  /* A number, true, false or null. */
  const char* start = *p;
  while (**p && strchr(",}] \t\r\n", **p) == NULL) (*p)++;
  return *p > start;
}

/* Reads {"fn": "...", "payload": "..."} (other members are ignored). */
static bool parse_request(const char* line, struct buf* fn, struct buf* payload,
                          const char** why) {
  const char* p = line;
  bool have_fn = false;
  skip_space(&p);
  if (*p++ != '{') return *why = "a job is a JSON object", false;
  skip_space(&p);
  if (*p == '}') return *why = "the job has no \"fn\"", false;
  for (;;) {
    struct buf key = {0};
    skip_space(&p);
    if (!parse_string(&p, &key)) return free(key.data), *why = "bad member name", false;
    skip_space(&p);
    if (*p++ != ':') return free(key.data), *why = "expected ':'", false;
    skip_space(&p);
    bool is_fn = key.len == 2 && memcmp(key.data, "fn", 2) == 0;
    bool is_payload = key.len == 7 && memcmp(key.data, "payload", 7) == 0;
    free(key.data);
    if (is_fn || is_payload) {
      struct buf* target = is_fn ? fn : payload;
      target->len = 0;
      if (!parse_string(&p, target)) {
        return *why = is_fn ? "\"fn\" must be a string" : "\"payload\" must be a string", false;
      }
      have_fn |= is_fn;
    } else if (!skip_value(&p, 0)) {
      return *why = "bad value", false;
    }
    skip_space(&p);
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p++ != '}') return *why = "expected ',' or '}'", false;
    skip_space(&p);
    if (*p) return *why = "text after the job", false;
    if (!have_fn) return *why = "the job has no \"fn\"", false;
    return true;
  }
}

/* The length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_length(const unsigned char* s, size_t left) {
  size_t n;
  unsigned min;
  if (s[0] < 0x80) return 1;
  if ((s[0] & 0xe0) == 0xc0) n = 2, min = 0x80;
  else if ((s[0] & 0xf0) == 0xe0) n = 3, min = 0x800;
  else if ((s[0] & 0xf8) == 0xf0) n = 4, min = 0x10000;
  else return 0;
  if (n > left) return 0;
  unsigned cp = s[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return 0;
  return n;
}

/* Appends `s` as a JSON string; invalid UTF-8 becomes U+FFFD. */
static void add_json_string(struct buf* b, const char* s, size_t n) {
  buf_reserve(b, n + 2);
  buf_add(b, "\"", 1);
  const unsigned char* u = (const unsigned char*)s;
  size_t i = 0;
  while (i < n) {
    unsigned char c = u[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      buf_add(b, esc, 2);
      i++;
    } else if (c == '\n') {
      buf_add(b, "\\n", 2), i++;
    } else if (c == '\t') {
      buf_add(b, "\\t", 2), i++;
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      buf_add(b, esc, 6);
      i++;
    } else {
      size_t len = utf8_length(u + i, n - i);
      if (len == 0) {
        buf_add(b, "\\ufffd", 6);
        i++;
      } else {
        buf_add(b, s + i, len);
        i += len;
      }
    }
  }
  buf_add(b, "\"", 1);
}

/* ------------------------------------------------------------------------
 * Functions: compiled once, kept by name
 */

struct function {
  char* name;
  wasm_module_t* module;
  struct function* next;
};

static struct function* functions;

/* The reason cljit gave for the last failure, into `out`. */
static void last_error(struct buf* out, const char* fallback) {
  cljit_error_t* e = cljit_last_error();
  if (!e) {
    buf_str(out, fallback);
    return;
  }
  wasm_name_t m;
  cljit_error_message(e, &m);
  buf_add(out, m.data, m.size - 1);
  wasm_byte_vec_delete(&m);
  cljit_error_delete(e);
}

static bool valid_name(const char* name, size_t len) {
  if (len == 0 || len > 64) return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

/* Function `name`, its module compiled the first time; NULL with the
 * reason in `error`. */
static struct function* find_function(const char* name, size_t len, struct buf* error) {
  if (!valid_name(name, len)) {
    buf_str(error, "a function name is 1 to 64 letters, digits, '-' or '_'");
    return NULL;
  }
  for (struct function* f = functions; f; f = f->next) {
    if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) return f;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%.*s/code.wasm", functions_dir, (int)len, name);
  FILE* file = fopen(path, "rb");
  if (!file) {
    buf_str(error, "no function `");
    buf_add(error, name, len);
    buf_str(error, "` (");
    buf_str(error, path);
    buf_str(error, ": ");
    buf_str(error, strerror(errno));
    buf_str(error, ")");
    return NULL;
  }
  /* The module's bytes, read straight into a vector of the file's size. */
  wasm_byte_vec_t binary;
  long size = fseek(file, 0, SEEK_END) == 0 ? ftell(file) : -1;
  if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
    fclose(file);
    buf_str(error, "cannot read ");
    buf_str(error, path);
    return NULL;
  }
  wasm_byte_vec_new_uninitialized(&binary, (size_t)size);
  size_t got = size ? fread(binary.data, 1, (size_t)size, file) : 0;
  fclose(file);
  if (got != (size_t)size) {
    wasm_byte_vec_delete(&binary);
    buf_str(error, "cannot read ");
    buf_str(error, path);
    return NULL;
  }
  wasm_module_t* module = wasm_module_new(compile_store, &binary);
  wasm_byte_vec_delete(&binary);
  if (!module) {
    buf_str(error, "cannot compile `");
    buf_add(error, name, len);
    buf_str(error, "`: ");
    last_error(error, "invalid module");
    return NULL;
  }
  struct function* f = malloc(sizeof *f);
  f->name = strndup(name, len);
  f->module = module;
  f->next = functions;
  functions = f;
  return f;
}

/* ------------------------------------------------------------------------
 * One job
 */

/* Moves everything a captured stream holds into `out`. */
static void drain(wasi_env_t* env, bool err, struct buf* out) {
  char chunk[16384];
  intptr_t n;
  while ((n = err ? wasi_env_read_stderr(env, chunk, sizeof chunk)
                  : wasi_env_read_stdout(env, chunk, sizeof chunk)) > 0) {
    buf_add(out, chunk, (size_t)n);
  }
}

/* The instance's `_start`, found the way the standard API allows: the
 * module's export names beside the instance's exports. */
static wasm_func_t* find_start(const wasm_module_t* module, const wasm_extern_vec_t* exports) {
  wasm_exporttype_vec_t types;
  wasm_module_exports(module, &types);
  wasm_func_t* start = NULL;
  for (size_t i = 0; i < types.size && i < exports->size; i++) {
    const wasm_name_t* name = wasm_exporttype_name(types.data[i]);
    if (name->size == 6 && memcmp(name->data, "_start", 6) == 0) {
      start = wasm_extern_as_func(exports->data[i]);
    }
  }
  wasm_exporttype_vec_delete(&types);
  return start;
}

/* Runs `module` on `payload`; the reply goes to `reply`. */
static void run_job(const char* name, const wasm_module_t* module, const struct buf* payload,
                    struct buf* reply) {
  /* Kept from job to job, so a job allocates little. */
  static struct buf error, output, log;
  error.len = output.len = log.len = 0;
  wasm_trap_t* trap = NULL;
  wasm_instance_t* instance = NULL;
  wasm_extern_vec_t exports = WASM_EMPTY_VEC;
  bool have_exports = false;

  wasm_store_t* store = wasm_store_new(engine);
  cljit_error_t* e = cljit_store_set_fuel(store, fuel);
  if (!e) e = cljit_store_set_epoch_deadline(store, (uint64_t)(timeout_ms / TICK_MS + 1));
  if (e) {
    fprintf(stderr, "worker: the engine lacks fuel or epochs\n");
    exit(2);
  }
  cljit_store_limiter(store, max_memory, 100000, 4, 4, 4, false);

  wasi_config_t* config = wasi_config_new(name);
  wasm_byte_vec_t input = {payload->len, payload->data};
  wasi_config_set_stdin_bytes(config, &input);
  wasi_config_capture_stdout(config);
  wasi_config_capture_stderr(config);
  /* One byte more than allowed: reading it means the guest wrote too much. */
  cljit_wasi_config_capture_limit(config, max_output + 1);
  wasi_env_t* env = wasi_env_new(store, config);
  if (!env) {
    last_error(&error, "cannot set up WASI");
    goto done;
  }

  wasm_extern_vec_t imports;
  if (!wasi_get_imports(store, env, module, &imports)) {
    last_error(&error, "the module has imports that are not WASI");
    wasm_extern_vec_delete(&imports);
    goto done;
  }
  instance = wasm_instance_new(store, module, &imports, &trap);
  wasm_extern_vec_delete(&imports);
  if (!instance) goto done;

  wasm_instance_exports(instance, &exports);
  have_exports = true;
  wasm_func_t* start = find_start(module, &exports);
  if (!start || wasm_func_param_arity(start) != 0 || wasm_func_result_arity(start) != 0) {
    buf_str(&error, "the module exports no `_start` function: it is not a WASI command");
    goto done;
  }
  wasm_val_vec_t args, results;
  wasm_val_vec_new_uninitialized(&args, 0);
  wasm_val_vec_new_uninitialized(&results, 0);
  trap = wasm_func_call(start, &args, &results);
  wasm_val_vec_delete(&args);
  wasm_val_vec_delete(&results);

done:
  if (trap) {
    int32_t status;
    if (!(cljit_trap_exit_status(trap, &status) && status == 0)) {
      wasm_message_t message;
      wasm_trap_message(trap, &message);
      buf_add(&error, message.data, message.size - 1);
      wasm_byte_vec_delete(&message);
    }
    wasm_trap_delete(trap);
  }
  if (env) {
    drain(env, false, &output);
    drain(env, true, &log);
  }
  if (output.len > max_output) {
    error.len = 0;
    char text[96];
    snprintf(text, sizeof text, "the output exceeds %zu bytes", max_output);
    buf_str(&error, text);
    output.len = 0;
  }
  if (log.len > max_output) log.len = max_output;

  buf_str(reply, error.len ? "{\"ok\":false,\"error\":" : "{\"ok\":true");
  if (error.len) add_json_string(reply, error.data, error.len);
  buf_str(reply, ",\"output\":");
  add_json_string(reply, output.data, output.len);
  if (log.len) {
    buf_str(reply, ",\"stderr\":");
    add_json_string(reply, log.data, log.len);
  }
  buf_str(reply, "}\n");

  if (have_exports) wasm_extern_vec_delete(&exports);
  wasm_instance_delete(instance);
  wasi_env_delete(env);
  wasm_store_delete(store);
}

/* ------------------------------------------------------------------------
 * The epoch ticker and main
 */

static void* ticker(void* unused) {
  (void)unused;
  struct timespec tick = {0, TICK_MS * 1000 * 1000};
  for (;;) {
    nanosleep(&tick, NULL);
    cljit_engine_increment_epoch(engine);
  }
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void) {
  fprintf(stderr,
          "usage: worker [--functions DIR] [--timeout-ms N] [--fuel N] [--max-output BYTES]\n"
          "              [--max-memory BYTES] [--stats]\n");
  exit(2);
}

static unsigned long long number(const char* text) {
  char* end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end || end == text) usage();
  return v;
}

int main(int argc, char** argv) {
  bool stats = false;
  for (int i = 1; i < argc; i++) {
    const char* arg = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(arg, "--stats") == 0) stats = true;
    else if (strcmp(arg, "--functions") == 0 && has_value) functions_dir = argv[++i];
    else if (strcmp(arg, "--timeout-ms") == 0 && has_value) timeout_ms = (long)number(argv[++i]);
    else if (strcmp(arg, "--fuel") == 0 && has_value) fuel = number(argv[++i]);
    else if (strcmp(arg, "--max-output") == 0 && has_value) max_output = number(argv[++i]);
    else if (strcmp(arg, "--max-memory") == 0 && has_value) max_memory = (long long)number(argv[++i]);
    else usage();
  }

  wasm_config_t* config = wasm_config_new();
  cljit_config_consume_fuel(config, true);
  cljit_config_epoch_interruption(config, true);
  engine = wasm_engine_new_with_config(config);
  if (!engine) {
    fprintf(stderr, "worker: cannot create the engine\n");
    return 2;
  }
  compile_store = wasm_store_new(engine);
  pthread_t tick_thread;
  if (pthread_create(&tick_thread, NULL, ticker, NULL) != 0) {
    fprintf(stderr, "worker: cannot start the epoch thread\n");
    return 2;
  }
  pthread_detach(tick_thread);

  char* line = NULL;
  size_t line_cap = 0;
  ssize_t line_len;
  struct buf fn = {0}, payload = {0}, reply = {0};
  unsigned long jobs = 0;
  double started = now();
  while ((line_len = getline(&line, &line_cap, stdin)) > 0) {
    if (line[line_len - 1] == '\n') line[--line_len] = '\0';
    if (line_len == 0) continue;
    reply.len = 0;
    const char* why = NULL;
    if (strlen(line) != (size_t)line_len) {
      buf_str(&reply, "{\"ok\":false,\"error\":\"bad job: a NUL byte in the line\"}\n");
    } else if (!parse_request(line, &fn, &payload, &why)) {
      buf_str(&reply, "{\"ok\":false,\"error\":");
      struct buf text = {0};
      buf_str(&text, "bad job: ");
      buf_str(&text, why);
      add_json_string(&reply, text.data, text.len);
      free(text.data);
      buf_str(&reply, "}\n");
    } else {
      struct buf error = {0};
      struct function* f = find_function(fn.data, fn.len, &error);
      if (f) {
        run_job(f->name, f->module, &payload, &reply);
      } else {
        buf_str(&reply, "{\"ok\":false,\"error\":");
        add_json_string(&reply, error.data, error.len);
        buf_str(&reply, "}\n");
      }
      free(error.data);
    }
    fwrite(reply.data, 1, reply.len, stdout);
    fflush(stdout);
    jobs++;
  }
  double seconds = now() - started;
  if (stats) {
    fprintf(stderr, "jobs: %lu, seconds: %.3f, jobs per second: %.0f\n", jobs, seconds,
            seconds > 0 ? (double)jobs / seconds : 0.0);
  }

  free(line);
  free(fn.data);
  free(payload.data);
  free(reply.data);
  while (functions) {
    struct function* next = functions->next;
    wasm_module_delete(functions->module);
    free(functions->name);
    free(functions);
    functions = next;
  }
  wasm_store_delete(compile_store);
  /* The ticker still uses the engine; the process ends here. */
  return 0;
}
