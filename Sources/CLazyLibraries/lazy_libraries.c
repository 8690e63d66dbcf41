/* Loads libcurl, libarchive and libcrypto on first use (see include/lazy_libraries.h). */
#define _GNU_SOURCE
#include "lazy_libraries_private.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What each library is called on disk and which Debian package provides it (Debian 12 names). */
static const char *const sonames[HANGAR_LAZY_LIBRARY_COUNT] = {"libcurl.so.4", "libarchive.so.13", "libcrypto.so.3"};
static const char *const packages[HANGAR_LAZY_LIBRARY_COUNT] = {"libcurl4", "libarchive13", "libssl3"};
/* The short names the test-only knob HANGAR_TEST_UNLOADABLE_LIBRARY accepts (e.g. "curl"). */
static const char *const knob_names[HANGAR_LAZY_LIBRARY_COUNT] = {"curl", "archive", "crypto"};

static pthread_once_t once[HANGAR_LAZY_LIBRARY_COUNT] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
/* Written only inside the pthread_once call, read only after it: pthread_once orders the two. */
static int loaded[HANGAR_LAZY_LIBRARY_COUNT];
static char error_line[HANGAR_LAZY_LIBRARY_COUNT][512];

static void resolve(hangar_lazy_library library, const char *const *names, void **slots, size_t count) {
    const char *soname = sonames[library];
    const char *knob = getenv("HANGAR_TEST_UNLOADABLE_LIBRARY");
    /* RTLD_LOCAL: the library's symbols stay out of the global scope, so nothing else binds to them by accident.
       RTLD_LAZY: libcurl brings some sixty libraries; binding all their functions at once would dirty every one of
       their symbol tables (memory the UI keeps), while lazy binding touches only what a transfer calls. */
    void *handle = (knob != NULL && strcmp(knob, knob_names[library]) == 0) ? NULL : dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(error_line[library], sizeof error_line[library],
                 "cannot load %s (%s): install the Debian package %s (apt-get install %s)", soname,
                 why != NULL ? why : "disabled by HANGAR_TEST_UNLOADABLE_LIBRARY", packages[library], packages[library]);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        slots[i] = dlsym(handle, names[i]);
        if (slots[i] == NULL) {
            snprintf(error_line[library], sizeof error_line[library],
                     "%s has no %s: install the Debian package %s at the version hangar was built for", soname,
                     names[i], packages[library]);
            return;
        }
    }
    loaded[library] = 1;
}

static void load_curl(void) { resolve(HANGAR_LIB_CURL, hangar_curl_names, hangar_curl_slots, hangar_curl_count); }
static void load_archive(void) {
    resolve(HANGAR_LIB_ARCHIVE, hangar_archive_names, hangar_archive_slots, hangar_archive_count);
}
static void load_crypto(void) {
    resolve(HANGAR_LIB_CRYPTO, hangar_crypto_names, hangar_crypto_slots, hangar_crypto_count);
}

const char *hangar_lazy_library_error(hangar_lazy_library library) {
    static void (*const loaders[HANGAR_LAZY_LIBRARY_COUNT])(void) = {load_curl, load_archive, load_crypto};
    if ((unsigned)library >= HANGAR_LAZY_LIBRARY_COUNT) return "no such library";
    pthread_once(&once[library], loaders[library]);
    return loaded[library] ? NULL : error_line[library];
}

void hangar_lazy_library_require(hangar_lazy_library library) {
    const char *error = hangar_lazy_library_error(library);
    if (error == NULL) return;
    /* The trampolines have the libraries' own prototypes, so they cannot report an error: one line and status 2,
       the usage/configuration status, rather than a crash on a NULL function pointer. */
    dprintf(STDERR_FILENO, "hangar: %s\n", error);
    exit(2);
}

/* Test-only: HANGAR_DEBUG_MAPS_FILE=path copies /proc/self/maps there at exit, so a test can see which shared
   libraries the process loaded over its whole life (it ends too fast to be inspected from outside). */
__attribute__((destructor)) static void dump_maps_at_exit(void) {
    const char *path = getenv("HANGAR_DEBUG_MAPS_FILE");
    if (path == NULL || *path == '\0') return;
    int in = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in >= 0 && out >= 0) {
        char buffer[8192];
        ssize_t n;
        while ((n = read(in, buffer, sizeof buffer)) > 0) {
            if (write(out, buffer, (size_t)n) != n) break;
        }
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
}
