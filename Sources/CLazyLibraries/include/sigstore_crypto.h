#ifndef HANGAR_SIGSTORE_CRYPTO_H
#define HANGAR_SIGSTORE_CRYPTO_H
/* The X.509 and signature operations sigstore verification needs, on plain bytes, done with libcrypto (loaded
   lazily like every libcrypto call). Swift never sees an OpenSSL type: a certificate is an opaque handle. Every
   function that returns bytes returns them malloc()ed in *out / *out_len; the caller free()s them. */
#include <stddef.h>
#include <stdint.h>

/* An X.509 certificate parsed from DER, or NULL when the bytes are not exactly one certificate. */
void *hangar_x509_parse(const unsigned char *der, size_t len);
void hangar_x509_free(void *cert);
/* notBefore / notAfter as Unix seconds; returns 0 when either cannot be read. */
int hangar_x509_validity(void *cert, int64_t *not_before, int64_t *not_after);
/* The SubjectPublicKeyInfo DER of the certificate's key. */
int hangar_x509_public_key(void *cert, unsigned char **out, size_t *out_len);
/* 1 when the certificate is a CA (basicConstraints CA:TRUE or a self-issued v1 root). */
int hangar_x509_is_ca(void *cert);
/* 1 when the certificate has an extendedKeyUsage extension that includes codeSigning. */
int hangar_x509_has_code_signing_eku(void *cert);
/* The contents of the extnValue OCTET STRING of the first extension with this dotted OID; 0 when absent. */
int hangar_x509_extension(void *cert, const char *oid, unsigned char **out, size_t *out_len);
/* The first subjectAltName of `kind` (0 URI, 1 email, 2 otherName with type `other_oid` holding a UTF8String). */
int hangar_x509_san(void *cert, int kind, const char *other_oid, unsigned char **out, size_t *out_len);
/* The TBSCertificate with the embedded-SCT extension removed: what a CT log signed for the precertificate. */
int hangar_x509_precert_tbs(void *cert, unsigned char **out, size_t *out_len);
/* Verifies `leaf` against `chain` (issuing CA first, trust anchor last) with the validity of every certificate
   checked at Unix time `at`. Returns 1 when it chains, else 0 with OpenSSL's reason in `reason`. */
int hangar_x509_verify_chain(void *leaf, void *const *chain, size_t chain_count, int64_t at, char *reason,
                             size_t reason_size);
/* The string inside a DER UTF8String / the bytes inside a DER OCTET STRING; 0 when not exactly that. */
int hangar_der_utf8string(const unsigned char *der, size_t len, unsigned char **out, size_t *out_len);
int hangar_der_octet_string(const unsigned char *der, size_t len, unsigned char **out, size_t *out_len);
/* Verifies `signature` (DER ECDSA, raw Ed25519, RSA PKCS#1 v1.5) by the SPKI-DER key over `message`, hashed with
   the key's hash (SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521; none for Ed25519), or, when
   `prehashed` is 1, over `message` as a SHA-256 digest already. Returns 1 valid, 0 invalid, -1 unusable key. */
int hangar_signature_verify(const unsigned char *spki, size_t spki_len, const unsigned char *signature,
                            size_t signature_len, const unsigned char *message, size_t message_len, int prehashed);
#endif
