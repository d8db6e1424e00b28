/* Sockets: the harness starts cljit with --tcplisten, waits for "ready",
 * connects, sends "hello" and reads the reply until EOF. */
#include "check.h"

int main(void) {
    /* The listening socket is the first descriptor after stdio whose type
     * is a stream socket. */
    __wasi_fd_t lfd = 0;
    for (__wasi_fd_t fd = 3; fd < 16; fd++) {
        __wasi_fdstat_t fs;
        if (__wasi_fd_fdstat_get(fd, &fs) == 0 &&
            fs.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) {
            lfd = fd;
            break;
        }
    }
    CHECK(lfd != 0);
    __wasi_fd_t conn;
    /* A non-blocking listener with nothing pending says so. */
    OK(__wasi_fd_fdstat_set_flags(lfd, __WASI_FDFLAGS_NONBLOCK));
    ERR(__wasi_sock_accept(lfd, 0, &conn), __WASI_ERRNO_AGAIN);
    OK(__wasi_fd_fdstat_set_flags(lfd, 0));
    ERR(__wasi_sock_accept(lfd, 0x40, &conn), __WASI_ERRNO_INVAL);
    ERR(__wasi_sock_accept(1, 0, &conn), __WASI_ERRNO_NOTSOCK);
    SECTION_OK("sock_accept errors");
    printf("ready\n");
    fflush(stdout);

    /* Wait for the connection with poll_oneoff, then accept it. */
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = 7;
    s.u.tag = __WASI_EVENTTYPE_FD_READ;
    s.u.u.fd_read.file_descriptor = lfd;
    __wasi_event_t ev;
    size_t n;
    OK(__wasi_poll_oneoff(&s, &ev, 1, &n));
    CHECK(n == 1 && ev.userdata == 7 && ev.error == 0);
    OK(__wasi_sock_accept(lfd, __WASI_FDFLAGS_NONBLOCK, &conn));
    __wasi_fdstat_t fs;
    OK(__wasi_fd_fdstat_get(conn, &fs));
    CHECK(fs.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM);
    CHECK(fs.fs_flags == __WASI_FDFLAGS_NONBLOCK);
    OK(__wasi_fd_fdstat_set_flags(conn, 0));
    SECTION_OK("sock_accept");

    char buf[32];
    __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
    __wasi_roflags_t ro;
    /* Peek at all five bytes (waiting for them), then consume them. */
    __wasi_iovec_t five = {(uint8_t *)buf, 5};
    OK(__wasi_sock_recv(conn, &five, 1,
                        __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, &n, &ro));
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0 && ro == 0);
    memset(buf, 0, sizeof buf);
    size_t got = 0;
    while (got < 5) {
        __wasi_iovec_t rest = {(uint8_t *)buf + got, sizeof buf - got};
        OK(__wasi_sock_recv(conn, &rest, 1, 0, &n, &ro));
        CHECK(n > 0);
        got += n;
    }
    CHECK(got == 5 && memcmp(buf, "hello", 5) == 0);
    ERR(__wasi_sock_recv(conn, &in, 1, 0x80, &n, &ro), __WASI_ERRNO_INVAL);
    SECTION_OK("sock_recv");

    __wasi_ciovec_t out[2] = {{(const uint8_t *)"HEL", 3}, {(const uint8_t *)"LO", 2}};
    OK(__wasi_sock_send(conn, out, 2, 0, &n));
    CHECK(n == 5);
    ERR(__wasi_sock_send(conn, out, 2, 1, &n), __WASI_ERRNO_INVAL);
    SECTION_OK("sock_send");

    ERR(__wasi_sock_shutdown(conn, 0), __WASI_ERRNO_INVAL);
    ERR(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
    OK(__wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR));
    /* The peer sees EOF and closes; reading now gives 0 bytes. */
    OK(__wasi_sock_recv(conn, &in, 1, 0, &n, &ro));
    CHECK(n == 0);
    OK(__wasi_fd_close(conn));
    SECTION_OK("sock_shutdown");
    return 0;
}
