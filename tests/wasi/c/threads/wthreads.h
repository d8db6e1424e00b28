/*
 * A small pthread-like layer over wasi-threads, for cljit's threaded test
 * programs and benchmark.
 *
 * Debian's wasi-libc is built without atomics, and wasm-ld refuses to link
 * objects without them into a shared memory, so these programs are
 * freestanding: this header brings thread creation (wasi `thread-spawn`),
 * join, a futex mutex and a condition variable (`memory.atomic.wait32` and
 * `notify`), output through `fd_write`, and exit. `wthreads_start.s` is the
 * thread entry point: it gives each new thread its own shadow stack before
 * any C runs on it.
 *
 * Built with: clang --target=wasm32-wasi -nostdlib -matomics -mbulk-memory
 *   -Wl,--import-memory,--export-memory,--shared-memory,--max-memory=N
 *   wthreads_start.s PROGRAM.c
 */
#ifndef WTHREADS_H
#define WTHREADS_H

#include <stddef.h>
#include <stdint.h>

#define WASI_IMPORT(module, name) \
    __attribute__((import_module(module), import_name(name)))

WASI_IMPORT("wasi", "thread-spawn") int32_t wasi_thread_spawn(void *arg);
WASI_IMPORT("wasi_snapshot_preview1", "fd_write")
int32_t wasi_fd_write(int32_t fd, const void *iovs, int32_t n, int32_t *written);
WASI_IMPORT("wasi_snapshot_preview1", "proc_exit")
_Noreturn void wasi_proc_exit(int32_t code);

/* The compiler may call these for struct copies and zeroing. */
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}
void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

/* ---- output ---- */

static inline void write_bytes(int fd, const char *s, size_t n) {
    struct { const char *buf; size_t len; } iov = {s, n};
    int32_t written;
    wasi_fd_write(fd, &iov, 1, &written);
}

static inline size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* Appends `s` to the line being built in `line` at `*at`. */
static inline void put_str(char *line, size_t *at, const char *s) {
    while (*s && *at < 255) line[(*at)++] = *s++;
}

static inline void put_u64(char *line, size_t *at, uint64_t v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && *at < 255) line[(*at)++] = digits[--n];
}

/* Prints "label value\n" on stdout in one write (so threads' lines do not
 * interleave). */
static inline void print_u64(const char *label, uint64_t value) {
    char line[256];
    size_t at = 0;
    put_str(line, &at, label);
    put_str(line, &at, " ");
    put_u64(line, &at, value);
    line[at++] = '\n';
    write_bytes(1, line, at);
}

static inline void print(const char *s) { write_bytes(1, s, str_len(s)); }

/* Fails the program with a message on stderr. */
static inline _Noreturn void fail(const char *why) {
    write_bytes(2, "FAIL: ", 6);
    write_bytes(2, why, str_len(why));
    write_bytes(2, "\n", 1);
    wasi_proc_exit(1);
}

#define CHECK(cond) \
    do { if (!(cond)) fail(#cond); } while (0)

/* ---- atomics ---- */

static int32_t load32(int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store32(int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/* Blocks while *p == expected (timeout in ns, < 0 for none): 0 woken,
 * 1 not equal, 2 timed out. */
static inline int wait32(int32_t *p, int32_t expected, int64_t timeout) {
    return __builtin_wasm_memory_atomic_wait32(p, expected, timeout);
}

static inline unsigned notify(int32_t *p, unsigned count) {
    return __builtin_wasm_memory_atomic_notify(p, count);
}

/* ---- mutex: 0 unlocked, 1 locked, 2 locked with waiters (Drepper) ---- */

typedef struct { int32_t state; } wt_mutex;

static inline void wt_lock(wt_mutex *m) {
    int32_t c = 0;
    if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return;
    if (c != 2) c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
    while (c != 0) {
        wait32(&m->state, 2, -1);
        c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
    }
}

static inline void wt_unlock(wt_mutex *m) {
    if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_SEQ_CST) != 1) {
        store32(&m->state, 0);
        notify(&m->state, 1);
    }
}

/* ---- condition variable: a sequence number waiters sleep on ---- */

typedef struct { int32_t seq; } wt_cond;

static inline void wt_cond_wait(wt_cond *c, wt_mutex *m) {
    int32_t seq = load32(&c->seq);
    wt_unlock(m);
    wait32(&c->seq, seq, -1);
    wt_lock(m);
}

static inline void wt_cond_signal(wt_cond *c) {
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
    notify(&c->seq, 1);
}

static inline void wt_cond_broadcast(wt_cond *c) {
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
    notify(&c->seq, 0xffffffffu);
}

/* ---- threads ---- */

#ifndef WT_MAX_THREADS
#define WT_MAX_THREADS 64
#endif
#ifndef WT_STACK_BYTES
#define WT_STACK_BYTES 65536
#endif

/* `stack_top` must stay first: wthreads_start.s reads it. */
typedef struct {
    char *stack_top;
    void (*fn)(void *);
    void *arg;
    int32_t done;
    int32_t tid;
} wt_thread;

static wt_thread wt_threads[WT_MAX_THREADS];
static _Alignas(16) char wt_stacks[WT_MAX_THREADS][WT_STACK_BYTES];
static int32_t wt_count;

/* Called by wasi_thread_start (wthreads_start.s) on the new stack. */
void wthreads_entry(int32_t tid, wt_thread *t) {
    store32(&t->tid, tid);
    t->fn(t->arg);
    store32(&t->done, 1);
    notify(&t->done, 0xffffffffu);
}

/* Starts fn(arg) on a new thread. */
static inline wt_thread *wt_create(void (*fn)(void *), void *arg) {
    int32_t i = __atomic_fetch_add(&wt_count, 1, __ATOMIC_SEQ_CST);
    CHECK(i < WT_MAX_THREADS);
    wt_thread *t = &wt_threads[i];
    t->stack_top = wt_stacks[i] + WT_STACK_BYTES;
    t->fn = fn;
    t->arg = arg;
    t->done = 0;
    int32_t tid = wasi_thread_spawn(t);
    CHECK(tid > 0);
    return t;
}

static inline void wt_join(wt_thread *t) {
    while (!load32(&t->done)) wait32(&t->done, 0, -1);
}

#endif
