/*
 * Stress for memory.atomic.wait32/notify with timeouts.
 *
 * Part 1: WAITERS threads each wait ROUNDS times on one shared cell with
 * a 1 ms timeout while a notifier bumps the cell and notifies everyone in
 * a loop. Every wait must come back as woken, not-equal or timed out, and
 * the tally must add up.
 *
 * Part 2: WAITERS threads wait on a second cell with no timeout; the main
 * thread notifies one at a time until all are woken. The counts notify
 * returns must add up to exactly WAITERS: each waiter woken once, none
 * counted twice, none lost.
 */
#include "wthreads.h"

#define WAITERS 16
#define ROUNDS 200

static int32_t generation, stop;
static int32_t woken, mismatched, timed_out;
static int32_t gate, released, parked;

static void waiter(void *arg) {
    (void)arg;
    for (int32_t i = 0; i < ROUNDS; i++) {
        int32_t seen = load32(&generation);
        switch (wait32(&generation, seen, 1000000)) {
        case 0: __atomic_fetch_add(&woken, 1, __ATOMIC_SEQ_CST); break;
        case 1: __atomic_fetch_add(&mismatched, 1, __ATOMIC_SEQ_CST); break;
        case 2: __atomic_fetch_add(&timed_out, 1, __ATOMIC_SEQ_CST); break;
        default: fail("wait32 returned something else");
        }
    }
}

static void notifier(void *arg) {
    (void)arg;
    while (!load32(&stop)) {
        __atomic_fetch_add(&generation, 1, __ATOMIC_SEQ_CST);
        notify(&generation, 0xffffffffu);
    }
}

static void parker(void *arg) {
    (void)arg;
    __atomic_fetch_add(&parked, 1, __ATOMIC_SEQ_CST);
    while (!load32(&released)) {
        int r = wait32(&gate, 0, -1);
        CHECK(r == 0 || r == 1);
        if (r == 0) break;
    }
}

void _start(void) {
    wt_thread *threads[WAITERS];
    for (int32_t i = 0; i < WAITERS; i++) threads[i] = wt_create(waiter, 0);
    wt_thread *n = wt_create(notifier, 0);
    for (int32_t i = 0; i < WAITERS; i++) wt_join(threads[i]);
    store32(&stop, 1);
    wt_join(n);
    CHECK(woken + mismatched + timed_out == WAITERS * ROUNDS);
    CHECK(woken > 0);
    print_u64("waits", (uint64_t)(woken + mismatched + timed_out));

    for (int32_t i = 0; i < WAITERS; i++) threads[i] = wt_create(parker, 0);
    while (load32(&parked) < WAITERS) wait32(&stop, 1, 100000);
    uint32_t total = 0;
    int32_t spins = 0;
    while (total < WAITERS) {
        total += notify(&gate, 1);
        if (++spins > 100000000) fail("waiters never arrived");
    }
    CHECK(total == WAITERS);
    for (int32_t i = 0; i < WAITERS; i++) wt_join(threads[i]);
    CHECK(notify(&gate, 0xffffffffu) == 0);
    print_u64("notified", total);
    wasi_proc_exit(0);
}
