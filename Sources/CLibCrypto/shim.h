#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H
/* OpenSSL's libcrypto, only for SHA-256 at disk speed (blob and tarball verification).
   EVP_Digest* rather than SHA256_*: the latter are deprecated in OpenSSL 3 and would warn. */
#include <openssl/sha.h>
#include <openssl/evp.h>
#endif
