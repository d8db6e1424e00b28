/*
 * Threads hammering shared counters with every kind of atomic: fetch-add
 * of 32 and 64 bits, a compare-exchange loop, 8- and 16-bit fetch-adds
 * that wrap, exchange, and a spin lock guarding a plain counter. Every
 * total is exact only if each operation was atomic.
 */
#include "wthreads.h"

#define THREADS 8
#define ROUNDS 20000

static int32_t add32;
static int64_t add64;
static int32_t cas32;
static uint8_t add8;
static uint16_t add16;
static int32_t spin;
static int32_t guarded;
static int32_t xchg_seen;

static void worker(void *arg) {
    (void)arg;
    for (int32_t i = 0; i < ROUNDS; i++) {
        __atomic_fetch_add(&add32, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add64, 3, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add8, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add16, 1, __ATOMIC_SEQ_CST);
        int32_t old = load32(&cas32);
        while (!__atomic_compare_exchange_n(&cas32, &old, old + 2, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
        }
        while (__atomic_exchange_n(&spin, 1, __ATOMIC_SEQ_CST)) {
        }
        guarded++;
        __atomic_fetch_add(&xchg_seen, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&spin, 0, __ATOMIC_SEQ_CST);
    }
}

void _start(void) {
    wt_thread *threads[THREADS];
    for (int32_t i = 0; i < THREADS; i++) threads[i] = wt_create(worker, 0);
    for (int32_t i = 0; i < THREADS; i++) wt_join(threads[i]);
    CHECK(add32 == THREADS * ROUNDS);
    CHECK(add64 == 3LL * THREADS * ROUNDS);
    CHECK(cas32 == 2 * THREADS * ROUNDS);
    CHECK(add8 == (uint8_t)(THREADS * ROUNDS));
    CHECK(add16 == (uint16_t)(THREADS * ROUNDS));
    CHECK(guarded == THREADS * ROUNDS);
    CHECK(xchg_seen == THREADS * ROUNDS);
    print_u64("add32", (uint64_t)add32);
    print_u64("add64", (uint64_t)add64);
    print_u64("cas32", (uint64_t)cas32);
    print_u64("guarded", (uint64_t)guarded);
    wasi_proc_exit(0);
}
