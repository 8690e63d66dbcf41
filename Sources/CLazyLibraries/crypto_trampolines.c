/* libcrypto's SHA-256 functions that hangar calls, loaded on first use. Hidden: libcrypto must never bind to these. */
#pragma GCC visibility push(hidden)
#include <openssl/evp.h>
#include "lazy_libraries_private.h"

#define CRYPTO_FUNCTIONS(X, V) \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ()) \
    V(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx)) \
    X(int, EVP_MD_CTX_copy_ex, (EVP_MD_CTX *out, const EVP_MD_CTX *in), (out, in)) \
    X(const EVP_MD *, EVP_sha256, (void), ()) \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl)) \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t count), (ctx, d, count)) \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *size), (ctx, md, size))

enum { CRYPTO_FUNCTIONS(HANGAR_SLOT_ENUM, HANGAR_SLOT_ENUM_VOID) crypto_slot_count };
const char *const hangar_crypto_names[] = {CRYPTO_FUNCTIONS(HANGAR_SLOT_NAME, HANGAR_SLOT_NAME_VOID)};
void *hangar_crypto_slots[crypto_slot_count];
const size_t hangar_crypto_count = crypto_slot_count;

#define CRYPTO_TRAMPOLINE(ret, name, params, args) \
    HANGAR_TRAMPOLINE(HANGAR_LIB_CRYPTO, hangar_crypto_slots, ret, name, params, args)
#define CRYPTO_TRAMPOLINE_VOID(name, params, args) \
    HANGAR_TRAMPOLINE_VOID(HANGAR_LIB_CRYPTO, hangar_crypto_slots, name, params, args)
CRYPTO_FUNCTIONS(CRYPTO_TRAMPOLINE, CRYPTO_TRAMPOLINE_VOID)
