/* libcrypto operations for sigstore verification (see include/sigstore_crypto.h). Every OpenSSL call here goes
   through this target's trampolines, so libcrypto is only mapped when something is verified. */
#define _DEFAULT_SOURCE
#include "include/sigstore_crypto.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int copy_out(const unsigned char *bytes, size_t len, unsigned char **out, size_t *out_len) {
    unsigned char *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) return 0;
    if (len > 0) memcpy(copy, bytes, len);
    *out = copy;
    *out_len = len;
    return 1;
}

/* i2d_* output (OPENSSL_malloc'ed) copied into a malloc'ed buffer the Swift side can free(). */
static int copy_openssl(unsigned char *der, int len, unsigned char **out, size_t *out_len) {
    if (der == NULL || len <= 0) return 0;
    int ok = copy_out(der, (size_t)len, out, out_len);
    CRYPTO_free(der, __FILE__, __LINE__);
    return ok;
}

void *hangar_x509_parse(const unsigned char *der, size_t len) {
    if (len == 0 || len > (1u << 20)) return NULL;
    const unsigned char *cursor = der;
    X509 *cert = d2i_X509(NULL, &cursor, (long)len);
    if (cert == NULL) { ERR_clear_error(); return NULL; }
    /* Trailing bytes after the certificate are not a certificate. */
    if (cursor != der + len) { X509_free(cert); return NULL; }
    return cert;
}

void hangar_x509_free(void *cert) { X509_free(cert); }

static int asn1_time_to_unix(const ASN1_TIME *time, int64_t *out) {
    struct tm tm;
    if (time == NULL || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

int hangar_x509_validity(void *cert, int64_t *not_before, int64_t *not_after) {
    return asn1_time_to_unix(X509_get0_notBefore(cert), not_before) &&
           asn1_time_to_unix(X509_get0_notAfter(cert), not_after);
}

int hangar_x509_public_key(void *cert, unsigned char **out, size_t *out_len) {
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (key == NULL) { ERR_clear_error(); return 0; }
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    return copy_openssl(der, len, out, out_len);
}

int hangar_x509_is_ca(void *cert) { return X509_check_ca(cert) != 0; }

int hangar_x509_has_code_signing_eku(void *cert) {
    /* X509_get_extension_flags also caches the extensions; EXFLAG_INVALID marks a certificate that did not parse. */
    uint32_t flags = X509_get_extension_flags(cert);
    if (flags & EXFLAG_INVALID) return 0;
    return (flags & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN);
}

int hangar_x509_extension(void *cert, const char *oid, unsigned char **out, size_t *out_len) {
    ASN1_OBJECT *object = OBJ_txt2obj(oid, 1);
    if (object == NULL) { ERR_clear_error(); return 0; }
    int index = X509_get_ext_by_OBJ(cert, object, -1);
    ASN1_OBJECT_free(object);
    if (index < 0) return 0;
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
    if (data == NULL) return 0;
    return copy_out(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data), out, out_len);
}

int hangar_x509_san(void *cert, int kind, const char *other_oid, unsigned char **out, size_t *out_len) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) { ERR_clear_error(); return 0; }
    ASN1_OBJECT *wanted = kind == 2 ? OBJ_txt2obj(other_oid, 1) : NULL;
    int found = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
        GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        const ASN1_STRING *value = NULL;
        if (kind == 0 && name->type == GEN_URI) value = name->d.uniformResourceIdentifier;
        if (kind == 1 && name->type == GEN_EMAIL) value = name->d.rfc822Name;
        if (kind == 2 && name->type == GEN_OTHERNAME && wanted != NULL) {
            ASN1_OBJECT *type = NULL;
            ASN1_TYPE *content = NULL;
            if (GENERAL_NAME_get0_otherName(name, &type, &content) == 1 && OBJ_cmp(type, wanted) == 0 &&
                content != NULL && content->type == V_ASN1_UTF8STRING)
                value = content->value.utf8string;
        }
        if (value != NULL) found = copy_out(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), out, out_len);
    }
    if (wanted != NULL) ASN1_OBJECT_free(wanted);
    GENERAL_NAMES_free(names);
    return found;
}

int hangar_x509_precert_tbs(void *cert, unsigned char **out, size_t *out_len) {
    X509 *copy = X509_dup(cert);
    if (copy == NULL) { ERR_clear_error(); return 0; }
    ASN1_OBJECT *sct_oid = OBJ_txt2obj("1.3.6.1.4.1.11129.2.4.2", 1);
    int index = sct_oid != NULL ? X509_get_ext_by_OBJ(copy, sct_oid, -1) : -1;
    if (sct_oid != NULL) ASN1_OBJECT_free(sct_oid);
    if (index >= 0) X509_EXTENSION_free(X509_delete_ext(copy, index));
    unsigned char *der = NULL;
    /* i2d_re_X509_tbs re-encodes the modified TBS instead of returning the cached original encoding. */
    int len = i2d_re_X509_tbs(copy, &der);
    X509_free(copy);
    return copy_openssl(der, len, out, out_len);
}

int hangar_x509_verify_chain(void *leaf, void *const *chain, size_t chain_count, int64_t at, char *reason,
                             size_t reason_size) {
    if (chain_count == 0) { snprintf(reason, reason_size, "empty CA chain"); return 0; }
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (store == NULL || untrusted == NULL || ctx == NULL) { snprintf(reason, reason_size, "out of memory"); goto done; }
    /* Only the last certificate is an anchor; the others may only serve as intermediates. */
    if (X509_STORE_add_cert(store, chain[chain_count - 1]) != 1) { snprintf(reason, reason_size, "bad anchor"); goto done; }
    for (size_t i = 0; i + 1 < chain_count; i++) sk_X509_push(untrusted, chain[i]);
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) { snprintf(reason, reason_size, "cannot set up"); goto done; }
    X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
    ok = X509_verify_cert(ctx) == 1;
    if (!ok) snprintf(reason, reason_size, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
done:
    if (ctx != NULL) X509_STORE_CTX_free(ctx);
    if (untrusted != NULL) sk_X509_free(untrusted);
    if (store != NULL) X509_STORE_free(store);
    ERR_clear_error();
    return ok;
}

int hangar_der_utf8string(const unsigned char *der, size_t len, unsigned char **out, size_t *out_len) {
    const unsigned char *cursor = der;
    ASN1_UTF8STRING *string = d2i_ASN1_UTF8STRING(NULL, &cursor, (long)len);
    if (string == NULL) { ERR_clear_error(); return 0; }
    int ok = cursor == der + len &&
             copy_out(ASN1_STRING_get0_data(string), (size_t)ASN1_STRING_length(string), out, out_len);
    ASN1_UTF8STRING_free(string);
    return ok;
}

int hangar_der_octet_string(const unsigned char *der, size_t len, unsigned char **out, size_t *out_len) {
    const unsigned char *cursor = der;
    ASN1_OCTET_STRING *string = d2i_ASN1_OCTET_STRING(NULL, &cursor, (long)len);
    if (string == NULL) { ERR_clear_error(); return 0; }
    int ok = cursor == der + len &&
             copy_out(ASN1_STRING_get0_data(string), (size_t)ASN1_STRING_length(string), out, out_len);
    ASN1_OCTET_STRING_free(string);
    return ok;
}

int hangar_signature_verify(const unsigned char *spki, size_t spki_len, const unsigned char *signature,
                            size_t signature_len, const unsigned char *message, size_t message_len, int prehashed) {
    const unsigned char *cursor = spki;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &cursor, (long)spki_len);
    if (key == NULL) { ERR_clear_error(); return -1; }
    int type = EVP_PKEY_get_base_id(key);
    int result = 0;
    if (prehashed) {
        /* An Ed25519 signature covers the message, never a digest of it. */
        EVP_PKEY_CTX *ctx = type == EVP_PKEY_ED25519 ? NULL : EVP_PKEY_CTX_new(key, NULL);
        if (ctx == NULL) { result = -1; goto done; }
        if (EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)
            result = EVP_PKEY_verify(ctx, signature, signature_len, message, message_len) == 1;
        else
            result = -1;
        EVP_PKEY_CTX_free(ctx);
    } else {
        const EVP_MD *md = EVP_sha256();
        if (type == EVP_PKEY_ED25519) md = NULL;
        else if (type == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 384) md = EVP_sha384();
        else if (type == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 521) md = EVP_sha512();
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (ctx == NULL) { result = -1; goto done; }
        if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1)
            result = EVP_DigestVerify(ctx, signature, signature_len, message, message_len) == 1;
        else
            result = -1;
        EVP_MD_CTX_free(ctx);
    }
done:
    EVP_PKEY_free(key);
    ERR_clear_error();
    return result;
}
