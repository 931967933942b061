/*
 * store-crypto.c: SHA-256 and constant-time comparison from libcrypto, for
 * token hashes. A file of its own because OpenSSL's headers declare an
 * ERR_STATE of their own that collides with common/err.h.
 */
#include "common/compat.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store/store-int.h"

int
store_crypto_sha256_hex(const char *s, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 ||
	    len * 2 != STORE_HASH_LEN)
		return -1;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[STORE_HASH_LEN] = '\0';
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

bool
store_crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
