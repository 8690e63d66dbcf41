#ifndef LAZY_LIBRARIES_PRIVATE_H
#define LAZY_LIBRARIES_PRIVATE_H
/* Shared by the loader and the trampolines of this target; never seen by Swift. */
#include "include/lazy_libraries.h"
#include <stddef.h>

#define HANGAR_LAZY_LIBRARY_COUNT 3

/* Loads `library` or prints one line naming it and the Debian package, and exits with status 2. */
void hangar_lazy_library_require(hangar_lazy_library library);

/* Per library: the symbol names the trampolines need and the addresses dlsym found for them, in the same order. */
extern const char *const hangar_curl_names[];
extern void *hangar_curl_slots[];
extern const size_t hangar_curl_count;
extern const char *const hangar_archive_names[];
extern void *hangar_archive_slots[];
extern const size_t hangar_archive_count;
extern const char *const hangar_crypto_names[];
extern void *hangar_crypto_slots[];
extern const size_t hangar_crypto_count;

/* From a list X(ret, name, params, args) / V(name, params, args) (V: returns void), defines the name table, the
   slot table and one trampoline per function with the library's own prototype. Each trampoline loads the library
   (once), then jumps to the real function. */
#define HANGAR_SLOT_ENUM(ret, name, params, args) slot_##name,
#define HANGAR_SLOT_ENUM_VOID(name, params, args) slot_##name,
#define HANGAR_SLOT_NAME(ret, name, params, args) #name,
#define HANGAR_SLOT_NAME_VOID(name, params, args) #name,
#define HANGAR_TRAMPOLINE(library, slots, ret, name, params, args) \
    ret name params { \
        hangar_lazy_library_require(library); \
        return ((ret(*) params)slots[slot_##name]) args; \
    }
#define HANGAR_TRAMPOLINE_VOID(library, slots, name, params, args) \
    void name params { \
        hangar_lazy_library_require(library); \
        ((void(*) params)slots[slot_##name]) args; \
    }

#endif
