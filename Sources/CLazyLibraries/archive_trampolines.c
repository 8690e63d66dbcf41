/* libarchive's functions that hangar calls, loaded on first use. Hidden: libarchive must never bind to these. */
#pragma GCC visibility push(hidden)
#include <archive.h>
#include <archive_entry.h>
#include "lazy_libraries_private.h"

#define ARCHIVE_FUNCTIONS(X, V) \
    X(struct archive *, archive_read_new, (void), ()) \
    X(int, archive_read_free, (struct archive *a), (a)) \
    X(int, archive_read_support_filter_bzip2, (struct archive *a), (a)) \
    X(int, archive_read_support_filter_gzip, (struct archive *a), (a)) \
    X(int, archive_read_support_filter_xz, (struct archive *a), (a)) \
    X(int, archive_read_support_filter_zstd, (struct archive *a), (a)) \
    X(int, archive_read_support_format_tar, (struct archive *a), (a)) \
    X(int, archive_read_open, (struct archive *a, void *data, archive_open_callback *open, \
                               archive_read_callback *read, archive_close_callback *close), \
      (a, data, open, read, close)) \
    X(int, archive_read_open_filename, (struct archive *a, const char *filename, size_t block_size), \
      (a, filename, block_size)) \
    X(int, archive_read_next_header, (struct archive *a, struct archive_entry **entry), (a, entry)) \
    X(la_ssize_t, archive_read_data, (struct archive *a, void *buffer, size_t size), (a, buffer, size)) \
    X(int, archive_read_data_block, (struct archive *a, const void **buffer, size_t *size, la_int64_t *offset), \
      (a, buffer, size, offset)) \
    X(const char *, archive_error_string, (struct archive *a), (a)) \
    X(struct archive *, archive_write_new, (void), ()) \
    X(int, archive_write_free, (struct archive *a), (a)) \
    X(int, archive_write_add_filter_gzip, (struct archive *a), (a)) \
    X(int, archive_write_set_filter_option, (struct archive *a, const char *m, const char *o, const char *v), \
      (a, m, o, v)) \
    X(int, archive_write_set_format_pax_restricted, (struct archive *a), (a)) \
    X(int, archive_write_open_filename, (struct archive *a, const char *file), (a, file)) \
    X(int, archive_write_header, (struct archive *a, struct archive_entry *entry), (a, entry)) \
    X(la_ssize_t, archive_write_data, (struct archive *a, const void *buffer, size_t size), (a, buffer, size)) \
    X(int, archive_write_close, (struct archive *a), (a)) \
    X(struct archive_entry *, archive_entry_new, (void), ()) \
    V(archive_entry_free, (struct archive_entry *e), (e)) \
    X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e)) \
    X(__LA_MODE_T, archive_entry_perm, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_pathname, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_pathname_utf8, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_hardlink, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_hardlink_utf8, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_symlink, (struct archive_entry *e), (e)) \
    X(const char *, archive_entry_symlink_utf8, (struct archive_entry *e), (e)) \
    X(time_t, archive_entry_mtime, (struct archive_entry *e), (e)) \
    X(int, archive_entry_mtime_is_set, (struct archive_entry *e), (e)) \
    X(long, archive_entry_mtime_nsec, (struct archive_entry *e), (e)) \
    X(la_int64_t, archive_entry_size, (struct archive_entry *e), (e)) \
    X(int, archive_entry_size_is_set, (struct archive_entry *e), (e)) \
    V(archive_entry_set_filetype, (struct archive_entry *e, unsigned int type), (e, type)) \
    V(archive_entry_set_mtime, (struct archive_entry *e, time_t seconds, long nanoseconds), (e, seconds, nanoseconds)) \
    V(archive_entry_set_pathname, (struct archive_entry *e, const char *path), (e, path)) \
    V(archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T mode), (e, mode)) \
    V(archive_entry_set_size, (struct archive_entry *e, la_int64_t size), (e, size))

enum { ARCHIVE_FUNCTIONS(HANGAR_SLOT_ENUM, HANGAR_SLOT_ENUM_VOID) archive_slot_count };
const char *const hangar_archive_names[] = {ARCHIVE_FUNCTIONS(HANGAR_SLOT_NAME, HANGAR_SLOT_NAME_VOID)};
void *hangar_archive_slots[archive_slot_count];
const size_t hangar_archive_count = archive_slot_count;

#define ARCHIVE_TRAMPOLINE(ret, name, params, args) \
    HANGAR_TRAMPOLINE(HANGAR_LIB_ARCHIVE, hangar_archive_slots, ret, name, params, args)
#define ARCHIVE_TRAMPOLINE_VOID(name, params, args) \
    HANGAR_TRAMPOLINE_VOID(HANGAR_LIB_ARCHIVE, hangar_archive_slots, name, params, args)
ARCHIVE_FUNCTIONS(ARCHIVE_TRAMPOLINE, ARCHIVE_TRAMPOLINE_VOID)
