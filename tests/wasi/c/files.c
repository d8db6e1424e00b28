/* Regular files through the raw preview1 calls: open flags, vectored and
 * positioned I/O, seek/tell, sizes, times, flags, allocation, advice, sync,
 * renumber and close. Run with a writable preopen named /work. */
#include "check.h"

int main(void) {
    __wasi_fd_t root = find_preopen("/work");
    __wasi_fd_t fd, fd2;

    OK(open_at(root, "f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
               RW_RIGHTS, 0, &fd));
    CHECK(fd > 3);
    ERR(open_at(root, "f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
                RW_RIGHTS, 0, &fd2),
        __WASI_ERRNO_EXIST);
    ERR(open_at(root, "missing.txt", 0, RW_RIGHTS, 0, &fd2),
        __WASI_ERRNO_NOENT);
    ERR(open_at(root, "f.txt", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd2),
        __WASI_ERRNO_NOTDIR);
    SECTION_OK("path_open");

    __wasi_ciovec_t out[2] = {{(const uint8_t *)"hello ", 6},
                              {(const uint8_t *)"world", 5}};
    size_t n;
    OK(__wasi_fd_write(fd, out, 2, &n));
    CHECK(n == 11);
    __wasi_filesize_t pos;
    OK(__wasi_fd_tell(fd, &pos));
    CHECK(pos == 11);
    OK(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    CHECK(pos == 0);
    char a[5], b[20];
    __wasi_iovec_t in[2] = {{(uint8_t *)a, sizeof a}, {(uint8_t *)b, sizeof b}};
    OK(__wasi_fd_read(fd, in, 2, &n));
    CHECK(n == 11);
    CHECK(memcmp(a, "hello", 5) == 0 && memcmp(b, " world", 6) == 0);
    OK(__wasi_fd_read(fd, in, 2, &n));
    CHECK(n == 0);
    SECTION_OK("fd_read fd_write fd_tell");

    __wasi_ciovec_t up = {(const uint8_t *)"HELLO", 5};
    OK(__wasi_fd_pwrite(fd, &up, 1, 0, &n));
    CHECK(n == 5);
    char p[5];
    __wasi_iovec_t pin = {(uint8_t *)p, sizeof p};
    OK(__wasi_fd_pread(fd, &pin, 1, 0, &n));
    CHECK(n == 5 && memcmp(p, "HELLO", 5) == 0);
    OK(__wasi_fd_tell(fd, &pos));
    CHECK(pos == 11); /* positioned I/O leaves the offset alone */
    OK(__wasi_fd_seek(fd, -5, __WASI_WHENCE_END, &pos));
    CHECK(pos == 6);
    OK(__wasi_fd_seek(fd, 2, __WASI_WHENCE_CUR, &pos));
    CHECK(pos == 8);
    ERR(__wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_INVAL);
    ERR(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL);
    SECTION_OK("fd_pread fd_pwrite fd_seek");

    __wasi_filestat_t st;
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 11 && st.filetype == __WASI_FILETYPE_REGULAR_FILE);
    CHECK(st.nlink == 1 && st.ino != 0);
    OK(__wasi_fd_filestat_set_size(fd, 4));
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 4);
    OK(__wasi_fd_filestat_set_size(fd, 100));
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 100);
    OK(__wasi_fd_allocate(fd, 0, 8192));
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 8192);
    SECTION_OK("fd_filestat_get fd_filestat_set_size fd_allocate");

    OK(__wasi_fd_filestat_set_times(fd, 1000000000000ull, 2000000000123ull,
                                    __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.atim == 1000000000000ull && st.mtim == 2000000000123ull);
    OK(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.atim == 1000000000000ull && st.mtim > 2000000000123ull);
    ERR(__wasi_fd_filestat_set_times(fd, 0, 0,
                                     __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
        __WASI_ERRNO_INVAL);
    SECTION_OK("fd_filestat_set_times");

    OK(__wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_SEQUENTIAL));
    OK(__wasi_fd_advise(fd, 0, 100, __WASI_ADVICE_DONTNEED));
    ERR(__wasi_fd_advise(fd, 0, 0, 9), __WASI_ERRNO_INVAL);
    OK(__wasi_fd_datasync(fd));
    OK(__wasi_fd_sync(fd));
    SECTION_OK("fd_advise fd_datasync fd_sync");

    __wasi_fdstat_t fs;
    OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
    CHECK(fs.fs_flags == 0);
    CHECK(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE);
    OK(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    OK(__wasi_fd_fdstat_get(fd, &fs));
    CHECK(fs.fs_flags == __WASI_FDFLAGS_APPEND);
    OK(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    write_str(fd, "Z");
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 8193); /* appended, not written at offset 0 */
    OK(__wasi_fd_fdstat_set_flags(fd, 0));
    ERR(__wasi_fd_fdstat_set_flags(fd, 0x100), __WASI_ERRNO_INVAL);
    SECTION_OK("fd_fdstat_get fd_fdstat_set_flags");

    OK(open_at(root, "f.txt", __WASI_OFLAGS_TRUNC, RW_RIGHTS, 0, &fd2));
    OK(__wasi_fd_filestat_get(fd2, &st));
    CHECK(st.size == 0);
    OK(__wasi_path_filestat_get(root, 0, "f.txt", &st));
    CHECK(st.size == 0 && st.filetype == __WASI_FILETYPE_REGULAR_FILE);
    OK(__wasi_path_filestat_set_times(root, 0, "f.txt", 0, 5000000000ull,
                                      __WASI_FSTFLAGS_MTIM));
    OK(__wasi_path_filestat_get(root, 0, "f.txt", &st));
    CHECK(st.mtim == 5000000000ull);
    SECTION_OK("path_filestat_get path_filestat_set_times");

    /* fd2 takes fd's number; fd2's old number is closed. */
    write_str(fd2, "renumbered");
    OK(__wasi_fd_renumber(fd2, fd));
    ERR(__wasi_fd_close(fd2), __WASI_ERRNO_BADF);
    OK(__wasi_fd_filestat_get(fd, &st));
    CHECK(st.size == 10);
    ERR(__wasi_fd_renumber(fd, 1000), __WASI_ERRNO_BADF);
    ERR(__wasi_fd_renumber(1000, fd), __WASI_ERRNO_BADF);
    OK(__wasi_fd_close(fd));
    ERR(__wasi_fd_close(fd), __WASI_ERRNO_BADF);
    ERR(__wasi_fd_write(fd, out, 2, &n), __WASI_ERRNO_BADF);
    SECTION_OK("fd_renumber fd_close");

    OK(__wasi_path_unlink_file(root, "f.txt"));
    ERR(__wasi_path_filestat_get(root, 0, "f.txt", &st), __WASI_ERRNO_NOENT);
    SECTION_OK("path_unlink_file");
    return 0;
}
