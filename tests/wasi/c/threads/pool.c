/*
 * A pool of worker threads summing an array in parallel: a queue of
 * chunks behind a mutex, a condition variable for "work or shutdown" and
 * one for "all chunks done". The total is checked against the formula.
 */
#include "wthreads.h"

#define WORKERS 4
#define N 1000000
#define CHUNK 10000

static int32_t values[N];

static wt_mutex lock;
static wt_cond work_ready, all_done;
static int32_t next_chunk, chunks_done, shutting_down;
static uint64_t total;
static int32_t per_worker[WORKERS];

static void worker(void *arg) {
    int32_t me = (int32_t)(intptr_t)arg;
    wt_lock(&lock);
    for (;;) {
        while (next_chunk * CHUNK >= N && !shutting_down) wt_cond_wait(&work_ready, &lock);
        if (next_chunk * CHUNK >= N) break;
        int32_t start = next_chunk++ * CHUNK;
        wt_unlock(&lock);
        uint64_t sum = 0;
        for (int32_t i = start; i < start + CHUNK; i++) sum += (uint64_t)values[i];
        wt_lock(&lock);
        total += sum;
        per_worker[me]++;
        if (++chunks_done * CHUNK == N) wt_cond_broadcast(&all_done);
    }
    wt_unlock(&lock);
}

void _start(void) {
    for (int32_t i = 0; i < N; i++) values[i] = i;
    wt_thread *threads[WORKERS];
    wt_lock(&lock);
    for (int32_t i = 0; i < WORKERS; i++) threads[i] = wt_create(worker, (void *)(intptr_t)i);
    wt_cond_broadcast(&work_ready);
    while (chunks_done * CHUNK < N) wt_cond_wait(&all_done, &lock);
    shutting_down = 1;
    wt_cond_broadcast(&work_ready);
    wt_unlock(&lock);
    for (int32_t i = 0; i < WORKERS; i++) wt_join(threads[i]);
    int32_t chunks = 0;
    for (int32_t i = 0; i < WORKERS; i++) chunks += per_worker[i];
    CHECK(chunks == N / CHUNK);
    CHECK(total == (uint64_t)N * (N - 1) / 2);
    print_u64("sum", total);
    print_u64("chunks", (uint64_t)chunks);
    wasi_proc_exit(0);
}
