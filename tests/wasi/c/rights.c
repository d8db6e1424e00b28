/* Rights: what a descriptor may do is checked on every call, rights can
 * only be dropped, and a read-only preopen hands out no way to change
 * anything. Run with a writable preopen /work and a read-only one /ro that
 * holds a file `data.txt` containing "read me". */
#include "check.h"

int main(void) {
    __wasi_fd_t root = find_preopen("/work");
    __wasi_fd_t ro = find_preopen("/ro");
    __wasi_fd_t fd, f2;
    __wasi_fdstat_t fs;
    size_t n;
    __wasi_ciovec_t data = {(const uint8_t *)"abc", 3};
    char buf[16];
    __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};

    /* Rights follow what was asked for. */
    OK(open_at(root, "r.txt", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &fd));
    OK(__wasi_fd_write(fd, &data, 1, &n));
    OK(__wasi_fd_close(fd));
    OK(__wasi_path_open(root, 0, "r.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
    OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(fs.fs_rights_base & __WASI_RIGHTS_FD_READ);
    CHECK(!(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
    ERR(__wasi_fd_write(fd, &data, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_read(fd, &in, 1, &n));
    CHECK(n == 3);
    ERR(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, (__wasi_filesize_t *)buf),
        __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(fd));
    SECTION_OK("rights from path_open");

    /* Dropping rights, and failing to take them back. */
    OK(open_at(root, "r.txt", 0, RW_RIGHTS, 0, &fd));
    OK(__wasi_fd_fdstat_get(fd, &fs));
    __wasi_rights_t all = fs.fs_rights_base;
    OK(__wasi_fd_fdstat_set_rights(fd, all & ~(__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK),
                                   fs.fs_rights_inheriting));
    ERR(__wasi_fd_read(fd, &in, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_fd_pread(fd, &in, 1, 0, &n), __WASI_ERRNO_NOTCAPABLE);
    __wasi_filesize_t pos;
    ERR(__wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_tell(fd, &pos)); /* FD_TELL was kept */
    OK(__wasi_fd_write(fd, &data, 1, &n));
    ERR(__wasi_fd_fdstat_set_rights(fd, all, fs.fs_rights_inheriting),
        __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_fdstat_set_rights(fd, 0, 0));
    ERR(__wasi_fd_write(fd, &data, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    __wasi_filestat_t st;
    ERR(__wasi_fd_filestat_get(fd, &st), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_fd_filestat_set_size(fd, 0), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_fd_sync(fd), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(fd));
    SECTION_OK("fd_fdstat_set_rights");

    /* A directory whose rights were narrowed. */
    OK(__wasi_path_create_directory(root, "sub"));
    OK(__wasi_path_open(root, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                        __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_CREATE_FILE,
                        __WASI_RIGHTS_FD_READ, 0, &fd));
    ERR(__wasi_path_create_directory(fd, "x"), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_path_open(fd, 0, "new", __WASI_OFLAGS_CREAT, RW_RIGHTS, RW_RIGHTS, 0, &f2));
    OK(__wasi_fd_fdstat_get(f2, &fs));
    CHECK(fs.fs_rights_base == __WASI_RIGHTS_FD_READ); /* clamped to inheriting */
    ERR(__wasi_fd_write(f2, &data, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(f2));
    ERR(__wasi_path_open(fd, 0, "new", __WASI_OFLAGS_TRUNC, 0, 0, 0, &f2),
        __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_unlink_file(fd, "new"), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(fd));
    OK(__wasi_path_unlink_file(root, "sub/new"));
    OK(__wasi_path_remove_directory(root, "sub"));
    OK(__wasi_path_unlink_file(root, "r.txt"));
    SECTION_OK("directory rights");

    /* The read-only preopen. */
    OK(__wasi_fd_fdstat_get(ro, &fs));
    CHECK(!(fs.fs_rights_base & __WASI_RIGHTS_PATH_CREATE_FILE));
    CHECK(!(fs.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE));
    OK(open_at(ro, "data.txt", 0, RW_RIGHTS, 0, &fd));
    OK(__wasi_fd_read(fd, &in, 1, &n));
    CHECK(n == 7 && memcmp(buf, "read me", 7) == 0);
    ERR(__wasi_fd_write(fd, &data, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_fd_filestat_set_size(fd, 0), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
        __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(fd));
    ERR(open_at(ro, "new.txt", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &fd),
        __WASI_ERRNO_NOTCAPABLE);
    ERR(open_at(ro, "data.txt", __WASI_OFLAGS_TRUNC, RW_RIGHTS, 0, &fd),
        __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_unlink_file(ro, "data.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_create_directory(ro, "dir"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_rename(ro, "data.txt", ro, "moved.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_rename(ro, "data.txt", root, "moved.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_symlink("data.txt", ro, "link"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_link(ro, 0, "data.txt", root, "hard"), __WASI_ERRNO_NOTCAPABLE);
    ERR(__wasi_path_filestat_set_times(ro, 0, "data.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
        __WASI_ERRNO_NOTCAPABLE);
    /* Nor can a directory opened beneath it get the rights back. */
    OK(__wasi_path_open(ro, 0, ".", __WASI_OFLAGS_DIRECTORY, ~0ull, ~0ull, 0, &fd));
    OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(!(fs.fs_rights_base & __WASI_RIGHTS_PATH_UNLINK_FILE));
    ERR(__wasi_path_unlink_file(fd, "data.txt"), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_close(fd));
    SECTION_OK("read-only preopen");
    return 0;
}
