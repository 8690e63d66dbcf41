// Linux system calls and libc pieces Swift's Glibc module does not expose
// (renameat2 and syncfs sit behind _GNU_SOURCE; open/openat are variadic).
#ifndef HANGAR_SYSTEM_H
#define HANGAR_SYSTEM_H

#include <dirent.h>
#include <stddef.h>

/// Fail with EEXIST instead of replacing an existing target (Linux RENAME_NOREPLACE).
#define HANGAR_RENAME_NOREPLACE 1
/// Atomically swap the two paths; both must exist (Linux RENAME_EXCHANGE).
#define HANGAR_RENAME_EXCHANGE 2

/// renameat2(2) through syscall(2), so it works whatever the glibc version; -1/ENOSYS off Linux.
int hangar_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// syncfs(2): flushes the whole filesystem holding fd; -1/ENOSYS off Linux.
int hangar_syncfs(int fd);

/// openat(2) with a fixed (non-variadic) mode argument.
int hangar_openat(int dirfd, const char *path, int flags, unsigned int mode);

/// The entry's name (d_name is a fixed array that Swift imports as a tuple).
const char *hangar_dirent_name(const struct dirent *entry);

/// Whether `needle` occurs in `haystack` (memmem(3) without its set-up cost, for short haystacks).
int hangar_contains_bytes(const void *haystack, size_t haystack_count, const void *needle, size_t needle_count);

#endif
