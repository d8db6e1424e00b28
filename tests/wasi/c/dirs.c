/* Directories, links and names: mkdir/rmdir, readdir (cookies, "." and
 * "..", small buffers), rename, hard and symbolic links, readlink, unlink,
 * and the preopen's own name. Run with a writable preopen named /work. */
#include "check.h"

#define MAX_ENTRIES 64

struct entry {
    char name[64];
    __wasi_dircookie_t next;
    __wasi_inode_t ino;
    __wasi_filetype_t type;
};

/* Parses the complete entries in buf[0..used]; returns how many. */
static int parse(const uint8_t *buf, size_t used, struct entry *out, int max) {
    int count = 0;
    size_t at = 0;
    while (at + sizeof(__wasi_dirent_t) <= used && count < max) {
        __wasi_dirent_t d;
        memcpy(&d, buf + at, sizeof d);
        if (at + sizeof d + d.d_namlen > used) break;
        CHECK(d.d_namlen < sizeof out[count].name);
        memcpy(out[count].name, buf + at + sizeof d, d.d_namlen);
        out[count].name[d.d_namlen] = 0;
        out[count].next = d.d_next;
        out[count].ino = d.d_ino;
        out[count].type = d.d_type;
        count++;
        at += sizeof d + d.d_namlen;
    }
    return count;
}

/* Reads the whole directory with a buffer of `buflen` bytes. */
static int list(__wasi_fd_t dir, size_t buflen, struct entry *out) {
    uint8_t buf[4096];
    CHECK(buflen <= sizeof buf);
    int total = 0;
    __wasi_dircookie_t cookie = 0;
    for (;;) {
        size_t used;
        OK(__wasi_fd_readdir(dir, buf, buflen, cookie, &used));
        CHECK(used <= buflen);
        int got = parse(buf, used, out + total, MAX_ENTRIES - total);
        total += got;
        if (used < buflen) break;    /* the end of the listing */
        CHECK(got > 0);              /* a full buffer holds an entry */
        cookie = out[total - 1].next;
    }
    return total;
}

static const struct entry *find(const struct entry *e, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return &e[i];
    return NULL;
}

int main(void) {
    __wasi_fd_t root = find_preopen("/work");
    __wasi_fd_t dir, f;
    __wasi_filestat_t st, st2;

    OK(__wasi_path_create_directory(root, "d"));
    OK(__wasi_path_create_directory(root, "d/sub"));
    ERR(__wasi_path_create_directory(root, "d"), __WASI_ERRNO_EXIST);
    ERR(__wasi_path_create_directory(root, "nope/x"), __WASI_ERRNO_NOENT);
    const char *files[] = {"d/a", "d/bb", "d/ccc"};
    for (int i = 0; i < 3; i++) {
        OK(open_at(root, files[i], __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &f));
        OK(__wasi_fd_close(f));
    }
    SECTION_OK("path_create_directory");

    OK(open_at(root, "d", __WASI_OFLAGS_DIRECTORY,
               __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_FD_FILESTAT_GET |
                   __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_FILESTAT_GET,
               0, &dir));
    struct entry big[MAX_ENTRIES], small[MAX_ENTRIES];
    int n = list(dir, 4096, big);
    CHECK(n == 6);
    OK(__wasi_fd_filestat_get(dir, &st));
    const struct entry *dot = find(big, n, ".");
    CHECK(dot && dot->type == __WASI_FILETYPE_DIRECTORY && dot->ino == st.ino);
    OK(__wasi_fd_filestat_get(root, &st2));
    const struct entry *dotdot = find(big, n, "..");
    CHECK(dotdot && dotdot->type == __WASI_FILETYPE_DIRECTORY && dotdot->ino == st2.ino);
    CHECK(find(big, n, "sub")->type == __WASI_FILETYPE_DIRECTORY);
    OK(__wasi_path_filestat_get(root, 0, "d/ccc", &st));
    CHECK(find(big, n, "ccc")->type == __WASI_FILETYPE_REGULAR_FILE);
    CHECK(find(big, n, "ccc")->ino == st.ino);
    /* One entry per call (24-byte header + a short name), resumed by cookie:
     * the same entries in the same order, with the same cookies. */
    int m = list(dir, 28, small);
    CHECK(m == n);
    for (int i = 0; i < n; i++) {
        CHECK(strcmp(big[i].name, small[i].name) == 0);
        CHECK(big[i].next == small[i].next);
    }
    /* A buffer too small for any whole entry comes back full. */
    uint8_t tiny[10];
    size_t used;
    OK(__wasi_fd_readdir(dir, tiny, sizeof tiny, 0, &used));
    CHECK(used == sizeof tiny);
    /* Past the end: nothing. */
    OK(__wasi_fd_readdir(dir, tiny, sizeof tiny, 1000, &used));
    CHECK(used == 0);
    OK(open_at(root, "d/a", 0, RW_RIGHTS | __WASI_RIGHTS_FD_READDIR, 0, &f));
    ERR(__wasi_fd_readdir(f, tiny, sizeof tiny, 0, &used), __WASI_ERRNO_NOTDIR);
    OK(__wasi_fd_close(f));
    SECTION_OK("fd_readdir");

    OK(__wasi_path_rename(root, "d/a", root, "d/sub/a2"));
    ERR(__wasi_path_filestat_get(root, 0, "d/a", &st), __WASI_ERRNO_NOENT);
    OK(__wasi_path_filestat_get(root, 0, "d/sub/a2", &st));
    OK(__wasi_path_rename(root, "d/sub", root, "d/sub2"));
    OK(__wasi_path_filestat_get(root, 0, "d/sub2/a2", &st));
    ERR(__wasi_path_rename(root, "d/missing", root, "d/x"), __WASI_ERRNO_NOENT);
    SECTION_OK("path_rename");

    OK(__wasi_path_link(root, 0, "d/bb", root, "d/bb_link"));
    OK(__wasi_path_filestat_get(root, 0, "d/bb", &st));
    OK(__wasi_path_filestat_get(root, 0, "d/bb_link", &st2));
    CHECK(st.nlink == 2 && st.ino == st2.ino);
    ERR(__wasi_path_link(root, 0, "d/bb", root, "d/ccc"), __WASI_ERRNO_EXIST);
    ERR(__wasi_path_link(root, 0, "d/sub2", root, "d/dirlink"), __WASI_ERRNO_PERM);
    SECTION_OK("path_link");

    OK(__wasi_path_symlink("bb", root, "d/s"));
    char target[16];
    OK(__wasi_path_readlink(root, "d/s", (uint8_t *)target, sizeof target, &used));
    CHECK(used == 2 && memcmp(target, "bb", 2) == 0);
    OK(__wasi_path_readlink(root, "d/s", (uint8_t *)target, 1, &used));
    CHECK(used == 1 && target[0] == 'b');
    ERR(__wasi_path_readlink(root, "d/bb", (uint8_t *)target, sizeof target, &used),
        __WASI_ERRNO_INVAL);
    OK(__wasi_path_filestat_get(root, 0, "d/s", &st));
    CHECK(st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
    OK(__wasi_path_filestat_get(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "d/s", &st));
    CHECK(st.filetype == __WASI_FILETYPE_REGULAR_FILE);
    ERR(__wasi_path_open(root, 0, "d/s", 0, RW_RIGHTS, 0, 0, &f), __WASI_ERRNO_LOOP);
    OK(__wasi_path_open(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "d/s", 0,
                        RW_RIGHTS, 0, 0, &f));
    OK(__wasi_fd_close(f));
    ERR(__wasi_path_symlink("bb", root, "d/s"), __WASI_ERRNO_EXIST);
    OK(__wasi_path_symlink("loop", root, "d/loop"));
    ERR(open_at(root, "d/loop", 0, RW_RIGHTS, 0, &f), __WASI_ERRNO_LOOP);
    SECTION_OK("path_symlink path_readlink");

    ERR(__wasi_path_remove_directory(root, "d/sub2"), __WASI_ERRNO_NOTEMPTY);
    ERR(__wasi_path_remove_directory(root, "d/bb"), __WASI_ERRNO_NOTDIR);
    ERR(__wasi_path_unlink_file(root, "d/sub2"), __WASI_ERRNO_ISDIR);
    ERR(__wasi_path_unlink_file(root, "d/bb/"), __WASI_ERRNO_NOTDIR);
    const char *gone[] = {"d/s", "d/loop", "d/bb", "d/bb_link", "d/ccc", "d/sub2/a2"};
    for (int i = 0; i < 6; i++) OK(__wasi_path_unlink_file(root, gone[i]));
    OK(__wasi_path_remove_directory(root, "d/sub2/"));
    OK(__wasi_fd_close(dir));
    OK(__wasi_path_remove_directory(root, "d"));
    ERR(__wasi_path_remove_directory(root, "d"), __WASI_ERRNO_NOENT);
    SECTION_OK("path_remove_directory path_unlink_file");

    __wasi_prestat_t ps;
    OK(__wasi_fd_prestat_get(root, &ps));
    CHECK(ps.tag == __WASI_PREOPENTYPE_DIR && ps.u.dir.pr_name_len == 5);
    char name[8];
    ERR(__wasi_fd_prestat_dir_name(root, (uint8_t *)name, 4), __WASI_ERRNO_NAMETOOLONG);
    OK(__wasi_fd_prestat_dir_name(root, (uint8_t *)name, 5));
    CHECK(memcmp(name, "/work", 5) == 0);
    ERR(__wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF);
    ERR(__wasi_fd_prestat_get(999, &ps), __WASI_ERRNO_BADF);
    SECTION_OK("fd_prestat_get fd_prestat_dir_name");
    return 0;
}
