/* Shared checks for cljit's WASI test programs: each failed check prints
 * where and why on stderr and exits 1; each finished section prints
 * "ok: NAME" so the harness can tell that nothing was skipped. */
#ifndef CLJIT_CHECK_H
#define CLJIT_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define OK(call)                                                             \
    do {                                                                     \
        __wasi_errno_t e_ = (call);                                          \
        if (e_ != 0) {                                                       \
            fprintf(stderr, "%s:%d: %s failed with errno %d\n", __FILE__,    \
                    __LINE__, #call, (int)e_);                               \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define ERR(call, want)                                                      \
    do {                                                                     \
        __wasi_errno_t e_ = (call);                                          \
        if (e_ != (want)) {                                                  \
            fprintf(stderr, "%s:%d: %s gave errno %d, want %d\n", __FILE__,  \
                    __LINE__, #call, (int)e_, (int)(want));                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* proc_raise is left out of this wasi-libc's <wasi/api.h>; import it
 * directly. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t cljit_proc_raise(int32_t sig);

#define SIG_NONE 0
#define SIG_TERM 15
#define SIG_CHLD 16
#define SIG_WINCH 27

#define SECTION_OK(name) printf("ok: %s\n", name)

/* The descriptor of the preopened directory named `name`. */
static inline __wasi_fd_t find_preopen(const char *name) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
        char buf[256];
        size_t len = ps.u.dir.pr_name_len;
        if (len >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, len) != 0) continue;
        buf[len] = 0;
        if (strcmp(buf, name) == 0) return fd;
    }
    fprintf(stderr, "no preopen named %s\n", name);
    exit(1);
}

/* Opens `path` beneath `dir` with the given flags and rights. */
static inline __wasi_errno_t open_at(__wasi_fd_t dir, const char *path,
                              __wasi_oflags_t oflags, __wasi_rights_t base,
                              __wasi_fdflags_t fdflags, __wasi_fd_t *out) {
    return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path,
                            oflags, base, base, fdflags, out);
}

#define RW_RIGHTS                                                            \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |  \
     __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET |                   \
     __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | \
     __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_ADVISE |                     \
     __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_SYNC |                       \
     __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_POLL_FD_READWRITE)

static inline size_t write_str(__wasi_fd_t fd, const char *s) {
    __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
    size_t n = 0;
    OK(__wasi_fd_write(fd, &iov, 1, &n));
    return n;
}

#endif
