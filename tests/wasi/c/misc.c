/* Arguments, environment, clocks, randomness, yielding, signals and exit.
 * Usage: misc [exit N | raise SIG | check ARGS...]. With `check`, the
 * harness passes the arguments "one", "two words", "" and sets CLJIT_A=1
 * and CLJIT_B=x=y. */
#include "check.h"

static void args_and_env(int argc, char **argv) {
    size_t count, size;
    OK(__wasi_args_sizes_get(&count, &size));
    CHECK((int)count == argc);
    char *buf = malloc(size);
    char **ptrs = malloc(count * sizeof *ptrs);
    OK(__wasi_args_get((uint8_t **)ptrs, (uint8_t *)buf));
    for (size_t i = 0; i < count; i++) CHECK(strcmp(ptrs[i], argv[i]) == 0);
    CHECK(argc == 5);
    CHECK(strcmp(argv[2], "one") == 0 && strcmp(argv[3], "two words") == 0);
    CHECK(strcmp(argv[4], "") == 0);
    SECTION_OK("args_get args_sizes_get");

    OK(__wasi_environ_sizes_get(&count, &size));
    CHECK(count == 2);
    char *ebuf = malloc(size);
    char **env = malloc(count * sizeof *env);
    OK(__wasi_environ_get((uint8_t **)env, (uint8_t *)ebuf));
    CHECK(strcmp(env[0], "CLJIT_A=1") == 0 || strcmp(env[1], "CLJIT_A=1") == 0);
    CHECK(strcmp(getenv("CLJIT_B"), "x=y") == 0);
    CHECK(getenv("PATH") == NULL); /* nothing inherited unless asked */
    SECTION_OK("environ_get environ_sizes_get");
}

static void clocks(void) {
    __wasi_timestamp_t res, t0, t1;
    for (__wasi_clockid_t id = 0; id < 4; id++) {
        OK(__wasi_clock_res_get(id, &res));
        CHECK(res > 0 && res <= 1000000000ull);
        OK(__wasi_clock_time_get(id, 1, &t0));
    }
    ERR(__wasi_clock_res_get(4, &res), __WASI_ERRNO_INVAL);
    ERR(__wasi_clock_time_get(99, 1, &t0), __WASI_ERRNO_INVAL);
    OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t0));
    CHECK(t0 > 1600000000ull * 1000000000ull); /* after September 2020 */
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0));
    __wasi_timestamp_t c0, c1;
    OK(__wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &c0));
    OK(__wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &c1));
    volatile uint64_t x = 0;
    for (int i = 0; i < 20000000; i++) x += i;
    CHECK(x > 0);
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1));
    CHECK(t1 > t0);
    __wasi_timestamp_t c2, c3;
    OK(__wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &c2));
    OK(__wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &c3));
    CHECK(c2 > c0 && c3 > c1);
    SECTION_OK("clock_res_get clock_time_get");
}

static void randomness(void) {
    uint8_t a[64], b[64], zero[64] = {0};
    OK(__wasi_random_get(a, sizeof a));
    OK(__wasi_random_get(b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0);
    OK(__wasi_random_get(a, 0));
    static uint8_t big[1 << 20];
    OK(__wasi_random_get(big, sizeof big));
    int nonzero = 0;
    for (size_t i = 0; i < sizeof big; i++) nonzero += big[i] != 0;
    CHECK(nonzero > (int)(sizeof big) / 2);
    SECTION_OK("random_get");
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "exit") == 0) {
        fflush(stdout);
        __wasi_proc_exit(atoi(argv[2]));
    }
    if (argc >= 3 && strcmp(argv[1], "raise") == 0) {
        printf("raising %s\n", argv[2]);
        fflush(stdout);
        int32_t e = cljit_proc_raise(atoi(argv[2]));
        printf("proc_raise returned %d\n", e);
        return 0;
    }
    CHECK(argc >= 2 && strcmp(argv[1], "check") == 0);
    args_and_env(argc, argv);
    clocks();
    randomness();
    OK(__wasi_sched_yield());
    SECTION_OK("sched_yield");
    OK(cljit_proc_raise(SIG_NONE));
    OK(cljit_proc_raise(SIG_CHLD));
    OK(cljit_proc_raise(SIG_WINCH));
    ERR(cljit_proc_raise(31), __WASI_ERRNO_INVAL);
    SECTION_OK("proc_raise (ignored signals)");
    return 0;
}
