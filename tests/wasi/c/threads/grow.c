/*
 * Growing a shared memory while other threads use it: a grower adds one
 * page at a time and stamps each new page; readers keep reading the last
 * byte of the memory as its current size says, and each stamped page.
 * A length published before its pages were accessible would trap; a moved
 * memory would lose the stamps.
 */
#include "wthreads.h"

#define READERS 4
#define GROW_TO 768 /* pages, under the 1024-page maximum */

static int32_t done;
static int32_t reads;

static void reader(void *arg) {
    (void)arg;
    int32_t local = 0;
    while (!load32(&done)) {
        uint32_t pages = (uint32_t)__builtin_wasm_memory_size(0);
        volatile uint8_t *last = (volatile uint8_t *)(uintptr_t)(pages * 65536u - 1);
        uint8_t v = *last;
        CHECK(v == 0 || v == 0x5a);
        local++;
    }
    __atomic_fetch_add(&reads, local, __ATOMIC_SEQ_CST);
}

static void grower(void *arg) {
    (void)arg;
    for (;;) {
        int32_t old = __builtin_wasm_memory_grow(0, 1);
        if (old < 0 || old + 1 >= GROW_TO) break;
        volatile uint8_t *page = (volatile uint8_t *)(uintptr_t)((uint32_t)old * 65536u);
        CHECK(page[0] == 0 && page[65535] == 0);
        page[0] = 0x5a;
        page[65535] = 0x5a;
    }
    store32(&done, 1);
}

void _start(void) {
    uint32_t start = (uint32_t)__builtin_wasm_memory_size(0);
    wt_thread *threads[READERS];
    for (int32_t i = 0; i < READERS; i++) threads[i] = wt_create(reader, 0);
    wt_thread *g = wt_create(grower, 0);
    wt_join(g);
    for (int32_t i = 0; i < READERS; i++) wt_join(threads[i]);
    uint32_t end = (uint32_t)__builtin_wasm_memory_size(0);
    CHECK(end == GROW_TO);
    for (uint32_t p = start; p < end - 1; p++) {
        volatile uint8_t *page = (volatile uint8_t *)(uintptr_t)(p * 65536u);
        CHECK(page[0] == 0x5a && page[65535] == 0x5a);
    }
    CHECK(reads > 0);
    print_u64("pages", end);
    wasi_proc_exit(0);
}
