#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hangar_system.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

int hangar_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
#else
    (void)olddirfd; (void)oldpath; (void)newdirfd; (void)newpath; (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

int hangar_syncfs(int fd) {
#if defined(__linux__) && defined(SYS_syncfs)
    return (int)syscall(SYS_syncfs, fd);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}

int hangar_openat(int dirfd, const char *path, int flags, unsigned int mode) {
    return openat(dirfd, path, flags, (mode_t)mode);
}

const char *hangar_dirent_name(const struct dirent *entry) {
    return entry->d_name;
}

int hangar_contains_bytes(const void *haystack, size_t haystack_count, const void *needle, size_t needle_count) {
    if (needle_count == 0) return 1;
    if (haystack == NULL || needle == NULL || needle_count > haystack_count) return 0;
    /* memchr for the first byte, memcmp for the rest: for the short haystacks this serves (a gallery entry's
       name and URI), cheaper than memmem, whose set-up (a shift table) costs more than the search. */
    const unsigned char *h = haystack, *n = needle;
    const unsigned char *end = h + (haystack_count - needle_count) + 1;
    for (const unsigned char *p = h; p < end;) {
        p = memchr(p, n[0], (size_t)(end - p));
        if (p == NULL) return 0;
        if (memcmp(p + 1, n + 1, needle_count - 1) == 0) return 1;
        p++;
    }
    return 0;
}
