#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H
// SHA-256 only (through the EVP interface, the one OpenSSL 3 keeps undeprecated), for the journal's
// hash chain and file checksums.
#include <openssl/evp.h>
#endif
