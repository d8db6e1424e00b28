/* poll_oneoff: relative and absolute clocks, readiness of files, stdout
 * and stdin (a pipe the harness writes "ping\n" to after a delay), and
 * per-subscription errors. Run with a writable preopen named /work. */
#include "check.h"

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t;
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
    return t;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_clockid_t id,
                                       uint64_t timeout, int abs) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 1;
    s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, __wasi_fd_t fd, int write) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = write ? __WASI_EVENTTYPE_FD_WRITE : __WASI_EVENTTYPE_FD_READ;
    if (write)
        s.u.u.fd_write.file_descriptor = fd;
    else
        s.u.u.fd_read.file_descriptor = fd;
    return s;
}

int main(void) {
    __wasi_fd_t root = find_preopen("/work");
    __wasi_event_t ev[4];
    size_t n;

    /* A relative clock: waits at least its timeout. */
    __wasi_subscription_t s[4];
    s[0] = clock_sub(11, __WASI_CLOCKID_MONOTONIC, 50000000, 0);
    __wasi_timestamp_t t0 = now();
    OK(__wasi_poll_oneoff(s, ev, 1, &n));
    __wasi_timestamp_t waited = now() - t0;
    CHECK(n == 1 && ev[0].userdata == 11 && ev[0].error == 0);
    CHECK(ev[0].type == __WASI_EVENTTYPE_CLOCK);
    CHECK(waited >= 50000000 && waited < 2000000000);
    SECTION_OK("relative clock");

    /* An absolute realtime deadline 30 ms ahead. */
    __wasi_timestamp_t rt;
    OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt));
    s[0] = clock_sub(12, __WASI_CLOCKID_REALTIME, rt + 30000000, 1);
    t0 = now();
    OK(__wasi_poll_oneoff(s, ev, 1, &n));
    waited = now() - t0;
    CHECK(n == 1 && ev[0].userdata == 12 && waited >= 25000000);
    /* A deadline in the past fires at once. */
    s[0] = clock_sub(13, __WASI_CLOCKID_MONOTONIC, 1, 1);
    OK(__wasi_poll_oneoff(s, ev, 1, &n));
    CHECK(n == 1 && ev[0].userdata == 13);
    SECTION_OK("absolute clock");

    /* The earlier of two clocks fires alone. */
    s[0] = clock_sub(1, __WASI_CLOCKID_MONOTONIC, 2000000000, 0);
    s[1] = clock_sub(2, __WASI_CLOCKID_MONOTONIC, 20000000, 0);
    t0 = now();
    OK(__wasi_poll_oneoff(s, ev, 2, &n));
    CHECK(n == 1 && ev[0].userdata == 2 && now() - t0 < 1500000000);
    SECTION_OK("earliest clock");

    /* A regular file is always ready; nbytes is what is left to read. */
    __wasi_fd_t f;
    OK(open_at(root, "p.txt", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &f));
    write_str(f, "0123456789");
    __wasi_filesize_t pos;
    OK(__wasi_fd_seek(f, 4, __WASI_WHENCE_SET, &pos));
    s[0] = fd_sub(21, f, 0);
    s[1] = fd_sub(22, 1, 1);
    s[2] = clock_sub(23, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    OK(__wasi_poll_oneoff(s, ev, 3, &n));
    CHECK(n == 2);
    for (size_t i = 0; i < n; i++) {
        CHECK(ev[i].error == 0);
        if (ev[i].userdata == 21) {
            CHECK(ev[i].type == __WASI_EVENTTYPE_FD_READ);
            CHECK(ev[i].fd_readwrite.nbytes == 6);
        } else {
            CHECK(ev[i].userdata == 22 && ev[i].type == __WASI_EVENTTYPE_FD_WRITE);
        }
    }
    OK(__wasi_fd_close(f));
    OK(__wasi_path_unlink_file(root, "p.txt"));
    SECTION_OK("file and stdout readiness");

    /* Errors are per subscription. */
    s[0] = fd_sub(31, 999, 0);
    s[1] = clock_sub(32, 77, 1, 0);
    OK(__wasi_poll_oneoff(s, ev, 2, &n));
    CHECK(n == 2);
    CHECK(ev[0].userdata == 31 && ev[0].error == __WASI_ERRNO_BADF);
    CHECK(ev[1].userdata == 32 && ev[1].error == __WASI_ERRNO_INVAL);
    ERR(__wasi_poll_oneoff(s, ev, 0, &n), __WASI_ERRNO_INVAL);
    SECTION_OK("subscription errors");

    /* stdin: nothing yet (the harness waits for this line), then data. */
    printf("waiting for stdin\n");
    fflush(stdout);
    s[0] = fd_sub(41, 0, 0);
    s[1] = clock_sub(42, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0);
    t0 = now();
    OK(__wasi_poll_oneoff(s, ev, 2, &n));
    CHECK(n == 1 && ev[0].userdata == 41 && ev[0].error == 0);
    CHECK(now() - t0 >= 50000000); /* it really waited for the writer */
    char buf[16];
    __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
    OK(__wasi_fd_read(0, &in, 1, &n));
    CHECK(n == 5 && memcmp(buf, "ping\n", 5) == 0);
    /* The writer closed its end: readable, with a hang-up. */
    OK(__wasi_poll_oneoff(s, ev, 2, &n));
    CHECK(n == 1 && ev[0].userdata == 41);
    CHECK(ev[0].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP);
    SECTION_OK("stdin pipe");
    return 0;
}
