/*
 * A worker thread calls proc_exit(7) while the main thread blocks
 * forever: the whole program must end, with the worker's status.
 */
#include "wthreads.h"

static int32_t never;

static void worker(void *arg) {
    (void)arg;
    print("worker exiting\n");
    wasi_proc_exit(7);
}

void _start(void) {
    wt_create(worker, 0);
    for (;;) wait32(&never, 0, -1);
}
