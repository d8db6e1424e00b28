/*
 * A worker thread traps (an unaligned atomic access) while the main
 * thread blocks forever: the program must end with that trap.
 */
#include "wthreads.h"

static int32_t never;
static int32_t cells[4];

static void worker(void *arg) {
    (void)arg;
    print("worker trapping\n");
    int32_t *misaligned = (int32_t *)((char *)cells + 1);
    __atomic_fetch_add(misaligned, 1, __ATOMIC_SEQ_CST);
    print("not reached\n");
}

void _start(void) {
    wt_create(worker, 0);
    for (;;) wait32(&never, 0, -1);
}
