/*
 * A worker sleeps for an hour in poll_oneoff while the main thread keeps
 * making WASI calls (short sleeps, writes) and then exits: a thread
 * blocked in a call must not hold up the others' calls.
 */
#include "wthreads.h"

WASI_IMPORT("wasi_snapshot_preview1", "poll_oneoff")
int32_t wasi_poll_oneoff(const void *subs, void *events, int32_t n, int32_t *out);

static int32_t sleeping;

/* Sleeps `ns` nanoseconds with a relative CLOCK_MONOTONIC subscription. */
static void sleep_ns(uint64_t ns) {
    _Alignas(8) uint8_t sub[48] = {0};
    _Alignas(8) uint8_t event[32];
    *(uint32_t *)(sub + 16) = 1; /* CLOCK_MONOTONIC */
    *(uint64_t *)(sub + 24) = ns;
    int32_t n;
    CHECK(wasi_poll_oneoff(sub, event, 1, &n) == 0 && n == 1);
}

static void worker(void *arg) {
    (void)arg;
    store32(&sleeping, 1);
    notify(&sleeping, 1);
    sleep_ns(3600ull * 1000000000ull);
    fail("the hour passed");
}

void _start(void) {
    wt_create(worker, 0);
    while (!load32(&sleeping)) wait32(&sleeping, 0, -1);
    for (int i = 0; i < 5; i++) {
        sleep_ns(20000000);
        print("tick\n");
    }
    wasi_proc_exit(0);
}
