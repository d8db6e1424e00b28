/*
 * The parallel kernels of benches/threads/run, one source for wasm
 * (wasi-threads, over tests/wasi/c/threads/wthreads.h) and for native code
 * (pthreads):
 *
 *   kernel mandel THREADS   Mandelbrot set, 1600x1200, 2000 iterations
 *                           at most; threads take rows from a shared
 *                           atomic counter (compute-bound).
 *   kernel histo THREADS    256M hashed keys counted into 4096 shared
 *                           bins with atomic increments (contention).
 *
 * Each prints a checksum, the same for every engine and thread count.
 */
#include <stdint.h>

#ifdef __wasm__
#include "wthreads.h"

WASI_IMPORT("wasi_snapshot_preview1", "args_sizes_get")
int32_t wasi_args_sizes_get(int32_t *argc, int32_t *size);
WASI_IMPORT("wasi_snapshot_preview1", "args_get")
int32_t wasi_args_get(char **argv, char *buf);

static char arg_buf[1024];
static char *arg_ptrs[16];

/* The program's arguments (at most 16, 1 KiB in all). */
static int32_t get_args(char ***argv) {
    int32_t argc, size;
    if (wasi_args_sizes_get(&argc, &size) || argc > 16 || size > 1024) fail("args");
    wasi_args_get(arg_ptrs, arg_buf);
    *argv = arg_ptrs;
    return argc;
}
#define EXIT(code) wasi_proc_exit(code)
#else
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { pthread_t id; } wt_thread;
static wt_thread native_threads[64];
static int native_count;
struct start { void (*fn)(void *); void *arg; };
static struct start starts[64];
static void *trampoline(void *p) {
    struct start *s = p;
    s->fn(s->arg);
    return NULL;
}
static wt_thread *wt_create(void (*fn)(void *), void *arg) {
    int i = native_count++;
    starts[i].fn = fn;
    starts[i].arg = arg;
    if (pthread_create(&native_threads[i].id, NULL, trampoline, &starts[i])) abort();
    return &native_threads[i];
}
static void wt_join(wt_thread *t) { pthread_join(t->id, NULL); }
static void print_u64(const char *label, uint64_t v) {
    printf("%s %llu\n", label, (unsigned long long)v);
}
static void fail(const char *why) {
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}
#define EXIT(code) exit(code)
#endif

static int32_t str_eq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* ---- mandel ---- */

#define W 1600
#define H 1200
#define MAX_ITER 2000

static int32_t next_row;
static uint64_t row_sums[H];

static void mandel_worker(void *arg) {
    (void)arg;
    for (;;) {
        int32_t y = __atomic_fetch_add(&next_row, 1, __ATOMIC_SEQ_CST);
        if (y >= H) return;
        uint64_t sum = 0;
        double ci = -1.2 + 2.4 * y / H;
        for (int32_t x = 0; x < W; x++) {
            double cr = -2.2 + 3.2 * x / W, zr = 0, zi = 0;
            int32_t i = 0;
            while (i < MAX_ITER && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                i++;
            }
            sum += (uint64_t)i;
        }
        row_sums[y] = sum;
    }
}

/* ---- histo ---- */

#define KEYS (256u << 20)
#define BINS 4096

static uint32_t bins[BINS];
static int32_t next_block;
#define BLOCK (1u << 16)

static void histo_worker(void *arg) {
    (void)arg;
    for (;;) {
        uint32_t b = (uint32_t)__atomic_fetch_add(&next_block, 1, __ATOMIC_SEQ_CST);
        if (b >= KEYS / BLOCK) return;
        for (uint32_t k = b * BLOCK; k < (b + 1) * BLOCK; k++) {
            uint32_t h = k * 0x9E3779B1u;
            h ^= h >> 15;
            h *= 0x85EBCA77u;
            h ^= h >> 13;
            __atomic_fetch_add(&bins[h % BINS], 1, __ATOMIC_RELAXED);
        }
    }
}

static void run(void (*worker)(void *), int32_t threads) {
    wt_thread *t[8];
    for (int32_t i = 0; i < threads; i++) t[i] = wt_create(worker, 0);
    for (int32_t i = 0; i < threads; i++) wt_join(t[i]);
}

#ifdef __wasm__
void _start(void) {
#else
int main(int native_argc, char **native_argv) {
#endif
    char **argv;
#ifdef __wasm__
    int32_t argc = get_args(&argv);
#else
    int32_t argc = native_argc;
    argv = native_argv;
#endif
    if (argc != 3) fail("usage: kernel mandel|histo THREADS");
    int32_t threads = argv[2][0] - '0';
    if (threads < 1 || threads > 8 || argv[2][1]) fail("THREADS is 1 to 8");
    uint64_t check = 0;
    if (str_eq(argv[1], "mandel")) {
        run(mandel_worker, threads);
        for (int32_t y = 0; y < H; y++) check += row_sums[y] * (uint64_t)(y + 1);
    } else if (str_eq(argv[1], "histo")) {
        run(histo_worker, threads);
        for (int32_t i = 0; i < BINS; i++) check += (uint64_t)bins[i] * (uint64_t)(i + 1);
        uint64_t total = 0;
        for (int32_t i = 0; i < BINS; i++) total += bins[i];
        if (total != KEYS) fail("lost increments");
    } else {
        fail("unknown kernel");
    }
    print_u64(argv[1], check);
    EXIT(0);
}
