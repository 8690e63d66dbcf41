#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H
/* OpenSSL's libcrypto, only for SHA-256 at disk speed (blob and tarball verification). */
#include <openssl/sha.h>
#endif
