/* libcrypto's functions that hangar calls (SHA-256; X.509, signatures and ASN.1 strings for sigstore verification),
   loaded on first use. Hidden: libcrypto must never bind to these. */
#pragma GCC visibility push(hidden)
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include "lazy_libraries_private.h"

#define CRYPTO_FUNCTIONS(X, V) \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ()) \
    V(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx)) \
    X(int, EVP_MD_CTX_copy_ex, (EVP_MD_CTX *out, const EVP_MD_CTX *in), (out, in)) \
    X(const EVP_MD *, EVP_sha256, (void), ()) \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl)) \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t count), (ctx, d, count)) \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *size), (ctx, md, size)) \
    SIGSTORE_FUNCTIONS(X, V)

/* Used by sigstore_crypto.c (sigstore bundle verification). */
#define SIGSTORE_FUNCTIONS(X, V) \
    X(X509 *, d2i_X509, (X509 **a, const unsigned char **in, long len), (a, in, len)) \
    V(X509_free, (X509 *a), (a)) \
    X(X509 *, X509_dup, (const X509 *a), (a)) \
    X(const ASN1_TIME *, X509_get0_notBefore, (const X509 *x), (x)) \
    X(const ASN1_TIME *, X509_get0_notAfter, (const X509 *x), (x)) \
    X(int, ASN1_TIME_to_tm, (const ASN1_TIME *s, struct tm *tm), (s, tm)) \
    X(EVP_PKEY *, X509_get0_pubkey, (const X509 *x), (x)) \
    X(int, i2d_PUBKEY, (const EVP_PKEY *a, unsigned char **pp), (a, pp)) \
    X(EVP_PKEY *, d2i_PUBKEY, (EVP_PKEY **a, const unsigned char **pp, long length), (a, pp, length)) \
    X(int, X509_check_ca, (X509 *x), (x)) \
    X(uint32_t, X509_get_extension_flags, (X509 *x), (x)) \
    X(uint32_t, X509_get_extended_key_usage, (X509 *x), (x)) \
    X(void *, X509_get_ext_d2i, (const X509 *x, int nid, int *crit, int *idx), (x, nid, crit, idx)) \
    V(GENERAL_NAMES_free, (GENERAL_NAMES *a), (a)) \
    X(int, GENERAL_NAME_get0_otherName, (const GENERAL_NAME *gen, ASN1_OBJECT **poid, ASN1_TYPE **pvalue), \
      (gen, poid, pvalue)) \
    X(int, OPENSSL_sk_num, (const OPENSSL_STACK *st), (st)) \
    X(void *, OPENSSL_sk_value, (const OPENSSL_STACK *st, int i), (st, i)) \
    X(OPENSSL_STACK *, OPENSSL_sk_new_null, (void), ()) \
    X(int, OPENSSL_sk_push, (OPENSSL_STACK *st, const void *data), (st, data)) \
    V(OPENSSL_sk_free, (OPENSSL_STACK *st), (st)) \
    X(const unsigned char *, ASN1_STRING_get0_data, (const ASN1_STRING *x), (x)) \
    X(int, ASN1_STRING_length, (const ASN1_STRING *x), (x)) \
    X(ASN1_OBJECT *, OBJ_txt2obj, (const char *s, int no_name), (s, no_name)) \
    V(ASN1_OBJECT_free, (ASN1_OBJECT *a), (a)) \
    X(int, OBJ_cmp, (const ASN1_OBJECT *a, const ASN1_OBJECT *b), (a, b)) \
    X(X509_EXTENSION *, X509_get_ext, (const X509 *x, int loc), (x, loc)) \
    X(ASN1_OCTET_STRING *, X509_EXTENSION_get_data, (X509_EXTENSION *ne), (ne)) \
    X(X509_EXTENSION *, X509_delete_ext, (X509 *x, int loc), (x, loc)) \
    V(X509_EXTENSION_free, (X509_EXTENSION *a), (a)) \
    X(int, X509_get_ext_by_OBJ, (const X509 *x, const ASN1_OBJECT *obj, int lastpos), (x, obj, lastpos)) \
    X(int, i2d_re_X509_tbs, (X509 *x, unsigned char **pp), (x, pp)) \
    X(X509_STORE *, X509_STORE_new, (void), ()) \
    V(X509_STORE_free, (X509_STORE *v), (v)) \
    X(int, X509_STORE_add_cert, (X509_STORE *ctx, X509 *x), (ctx, x)) \
    X(X509_STORE_CTX *, X509_STORE_CTX_new, (void), ()) \
    V(X509_STORE_CTX_free, (X509_STORE_CTX *ctx), (ctx)) \
    X(int, X509_STORE_CTX_init, (X509_STORE_CTX *ctx, X509_STORE *trust_store, X509 *target, STACK_OF(X509) *untrusted), \
      (ctx, trust_store, target, untrusted)) \
    V(X509_STORE_CTX_set_time, (X509_STORE_CTX *ctx, unsigned long flags, time_t t), (ctx, flags, t)) \
    X(int, X509_verify_cert, (X509_STORE_CTX *ctx), (ctx)) \
    X(int, X509_STORE_CTX_get_error, (const X509_STORE_CTX *ctx), (ctx)) \
    X(const char *, X509_verify_cert_error_string, (long n), (n)) \
    X(ASN1_UTF8STRING *, d2i_ASN1_UTF8STRING, (ASN1_UTF8STRING **a, const unsigned char **in, long len), (a, in, len)) \
    V(ASN1_UTF8STRING_free, (ASN1_UTF8STRING *a), (a)) \
    X(ASN1_OCTET_STRING *, d2i_ASN1_OCTET_STRING, (ASN1_OCTET_STRING **a, const unsigned char **in, long len), \
      (a, in, len)) \
    V(ASN1_OCTET_STRING_free, (ASN1_OCTET_STRING *a), (a)) \
    V(EVP_PKEY_free, (EVP_PKEY *pkey), (pkey)) \
    X(int, EVP_PKEY_get_base_id, (const EVP_PKEY *pkey), (pkey)) \
    X(int, EVP_PKEY_get_bits, (const EVP_PKEY *pkey), (pkey)) \
    X(int, EVP_DigestVerifyInit, (EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey), \
      (ctx, pctx, type, e, pkey)) \
    X(int, EVP_DigestVerify, (EVP_MD_CTX *ctx, const unsigned char *sigret, size_t siglen, const unsigned char *tbs, \
      size_t tbslen), (ctx, sigret, siglen, tbs, tbslen)) \
    X(const EVP_MD *, EVP_sha384, (void), ()) \
    X(const EVP_MD *, EVP_sha512, (void), ()) \
    X(EVP_PKEY_CTX *, EVP_PKEY_CTX_new, (EVP_PKEY *pkey, ENGINE *e), (pkey, e)) \
    V(EVP_PKEY_CTX_free, (EVP_PKEY_CTX *ctx), (ctx)) \
    X(int, EVP_PKEY_verify_init, (EVP_PKEY_CTX *ctx), (ctx)) \
    X(int, EVP_PKEY_CTX_set_signature_md, (EVP_PKEY_CTX *ctx, const EVP_MD *md), (ctx, md)) \
    X(int, EVP_PKEY_verify, (EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs, \
      size_t tbslen), (ctx, sig, siglen, tbs, tbslen)) \
    V(CRYPTO_free, (void *ptr, const char *file, int line), (ptr, file, line)) \
    V(ERR_clear_error, (void), ())

enum { CRYPTO_FUNCTIONS(HANGAR_SLOT_ENUM, HANGAR_SLOT_ENUM_VOID) crypto_slot_count };
const char *const hangar_crypto_names[] = {CRYPTO_FUNCTIONS(HANGAR_SLOT_NAME, HANGAR_SLOT_NAME_VOID)};
void *hangar_crypto_slots[crypto_slot_count];
const size_t hangar_crypto_count = crypto_slot_count;

#define CRYPTO_TRAMPOLINE(ret, name, params, args) \
    HANGAR_TRAMPOLINE(HANGAR_LIB_CRYPTO, hangar_crypto_slots, ret, name, params, args)
#define CRYPTO_TRAMPOLINE_VOID(name, params, args) \
    HANGAR_TRAMPOLINE_VOID(HANGAR_LIB_CRYPTO, hangar_crypto_slots, name, params, args)
CRYPTO_FUNCTIONS(CRYPTO_TRAMPOLINE, CRYPTO_TRAMPOLINE_VOID)
