#ifndef LAZY_LIBRARIES_H
#define LAZY_LIBRARIES_H
/* libcurl, libarchive and libcrypto are not linked: this target defines the functions hangar calls as trampolines
   that dlopen() the library on first use. A command that never touches the network or an archive therefore never
   maps them (nor their dozens of dependencies), which keeps every process's start-up and memory small. */
#include <stddef.h>

/* The libraries loaded on demand. */
typedef enum {
    HANGAR_LIB_CURL = 0,
    HANGAR_LIB_ARCHIVE = 1,
    HANGAR_LIB_CRYPTO = 2,
} hangar_lazy_library;

/* Loads `library` now (once per process, thread-safe). Returns NULL when it is usable, otherwise one line naming
   the library, why it failed and the Debian package to install, for callers that can report an error instead of
   the trampolines' exit status 2. */
const char *hangar_lazy_library_error(hangar_lazy_library library);

/* SHA-256 of a short input (a URL) in plain C, without libcrypto; `digest` receives 32 bytes. */
void hangar_sha256(const void *bytes, size_t count, unsigned char digest[32]);

#endif
