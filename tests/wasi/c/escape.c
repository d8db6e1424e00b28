/* Sandbox escapes: every route out of the preopen /sb must fail. The
 * harness lays out, beside the preopened directory `sandbox`, a directory
 * `outside` with secret.txt and victim/, and inside the sandbox:
 * inside.txt, sub/, abs_link -> (absolute path of outside), up_link ->
 * ../outside and sub/deep_link -> ../../outside/secret.txt. Each attempt
 * prints "blocked: NAME (errno E)" or "ESCAPED: NAME"; the exit status is
 * the number of escapes. */
#include <dirent.h>
#include "check.h"

static int escapes = 0;
static __wasi_fd_t sb;

static void expect_fail(const char *name, __wasi_errno_t e) {
    if (e == 0) {
        printf("ESCAPED: %s\n", name);
        escapes++;
    } else {
        printf("blocked: %s (errno %d)\n", name, (int)e);
    }
}

static __wasi_errno_t try_open(__wasi_fd_t dir, const char *path, int follow) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
                                        path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (e == 0) {
        char buf[64] = {0};
        __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf - 1};
        size_t n;
        if (__wasi_fd_read(fd, &in, 1, &n) == 0) printf("read: %s\n", buf);
        if (__wasi_fd_close(fd) != 0) printf("close failed\n");
    }
    return e;
}

static void must_be(const char *name, __wasi_errno_t e, __wasi_errno_t want) {
    expect_fail(name, e);
    if (e != 0 && e != want) {
        printf("WRONG ERRNO: %s gave %d, want %d\n", name, (int)e, (int)want);
        escapes++;
    }
}

int main(void) {
    sb = find_preopen("/sb");
    __wasi_filestat_t st;

    /* `..` and absolute paths. */
    must_be("dotdot", try_open(sb, "../outside/secret.txt", 1), __WASI_ERRNO_NOTCAPABLE);
    must_be("dotdot via sub", try_open(sb, "sub/../../outside/secret.txt", 1),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("bare dotdot", try_open(sb, "..", 1), __WASI_ERRNO_NOTCAPABLE);
    must_be("absolute", try_open(sb, "/etc/passwd", 1), __WASI_ERRNO_NOTCAPABLE);
    must_be("stat dotdot", __wasi_path_filestat_get(sb, 0, "../outside", &st),
            __WASI_ERRNO_NOTCAPABLE);

    /* Symlinks planted by the host. */
    must_be("absolute symlink", try_open(sb, "abs_link/secret.txt", 1),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("absolute symlink followed", try_open(sb, "abs_link", 1),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("relative symlink", try_open(sb, "up_link/secret.txt", 1),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("deep symlink", try_open(sb, "sub/deep_link", 1), __WASI_ERRNO_NOTCAPABLE);
    must_be("stat through symlink",
            __wasi_path_filestat_get(sb, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                     "up_link/secret.txt", &st),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("set times through symlink",
            __wasi_path_filestat_set_times(sb, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                           "sub/deep_link", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("unlink through symlink", __wasi_path_unlink_file(sb, "up_link/secret.txt"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("rmdir through symlink", __wasi_path_remove_directory(sb, "up_link/victim"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("mkdir through symlink", __wasi_path_create_directory(sb, "up_link/newdir"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("trailing slash on symlink", try_open(sb, "up_link/", 1),
            __WASI_ERRNO_NOTCAPABLE);

    /* Symlinks made by the guest. */
    OK(__wasi_path_symlink("../outside", sb, "mine"));
    must_be("guest symlink", try_open(sb, "mine/secret.txt", 1), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_path_symlink("../../outside/secret.txt", sb, "sub/mine2"));
    must_be("guest symlink in sub", try_open(sb, "sub/mine2", 1), __WASI_ERRNO_NOTCAPABLE);
    must_be("guest absolute symlink", __wasi_path_symlink("/etc", sb, "abs"),
            __WASI_ERRNO_PERM);
    OK(__wasi_path_symlink("l2", sb, "l1"));
    OK(__wasi_path_symlink("l1", sb, "l2"));
    must_be("symlink loop", try_open(sb, "l1", 1), __WASI_ERRNO_LOOP);

    /* Hard links and renames across the boundary. */
    must_be("link from outside", __wasi_path_link(sb, 0, "../outside/secret.txt", sb, "stolen"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("link to outside", __wasi_path_link(sb, 0, "inside.txt", sb, "../outside/planted"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("link via symlink dir",
            __wasi_path_link(sb, 0, "up_link/secret.txt", sb, "stolen"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("rename out", __wasi_path_rename(sb, "inside.txt", sb, "../outside/moved.txt"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("rename in", __wasi_path_rename(sb, "../outside/secret.txt", sb, "stolen"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("rename via symlink", __wasi_path_rename(sb, "inside.txt", sb, "up_link/moved"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("mkdir out", __wasi_path_create_directory(sb, "../outside/newdir"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("rmdir out", __wasi_path_remove_directory(sb, "../outside/victim"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("unlink out", __wasi_path_unlink_file(sb, "../outside/secret.txt"),
            __WASI_ERRNO_NOTCAPABLE);
    must_be("symlink out", __wasi_path_symlink("x", sb, "../outside/planted"),
            __WASI_ERRNO_NOTCAPABLE);
    char buf[64];
    size_t n;
    must_be("readlink out", __wasi_path_readlink(sb, "../outside", (uint8_t *)buf, 64, &n),
            __WASI_ERRNO_NOTCAPABLE);

    /* A directory descriptor is a root of its own: no way above it, even
     * back into the preopen. */
    __wasi_fd_t sub;
    OK(__wasi_path_open(sb, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                        __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_RENAME_SOURCE,
                        __WASI_RIGHTS_FD_READ, 0, &sub));
    must_be("above a subdirectory", try_open(sub, "../inside.txt", 1),
            __WASI_ERRNO_NOTCAPABLE);
    /* Moving the directory away does not give its descriptor a way out. */
    OK(__wasi_path_rename(sb, "sub", sb, "moved_sub"));
    must_be("above a moved subdirectory", try_open(sub, "../../outside/secret.txt", 1),
            __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(sub));

    /* wasi-libc's own path handling. */
    FILE *f = fopen("/sb/../outside/secret.txt", "r");
    expect_fail("fopen dotdot", f ? 0 : 1);
    if (f) fclose(f);
    DIR *d = opendir("/sb/..");
    expect_fail("opendir above", d ? 0 : 1);
    if (d) closedir(d);
    f = fopen("/etc/passwd", "r");
    expect_fail("fopen absolute", f ? 0 : 1);
    if (f) fclose(f);
    f = fopen("/sb/up_link/secret.txt", "r");
    expect_fail("fopen symlink", f ? 0 : 1);
    if (f) fclose(f);

    /* What stays inside still works. */
    OK(try_open(sb, "moved_sub/../inside.txt", 1));
    printf("escapes: %d\n", escapes);
    return escapes;
}
