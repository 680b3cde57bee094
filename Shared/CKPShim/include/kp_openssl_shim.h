#ifndef KP_OPENSSL_SHIM_H
#define KP_OPENSSL_SHIM_H

/*
 * Functions for what Swift cannot import from OpenSSL: function-like macros, stack macros
 * and option constants. Each wraps one macro and does nothing else.
 */

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>

/// SSL_CTX_set_min_proto_version; returns 1 on success.
int kp_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version);

/// SSL_CTX_set_max_proto_version; returns 1 on success.
int kp_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version);

/// SSL_CTX_set_mode; returns the new mode bits.
long kp_ssl_ctx_set_mode(SSL_CTX *ctx, long mode);

/// SSL_CTX_set_read_ahead: OpenSSL reads as much as the socket has, not one record part at a
/// time, so a record costs one read(2) instead of two.
void kp_ssl_ctx_set_read_ahead(SSL_CTX *ctx, int yes);

/// SSL_CTX_set_session_cache_mode; returns the previous mode.
long kp_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode);

/// SSL_CTX_set1_groups_list; returns 1 on success.
int kp_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list);

/// SSL_CTX_set_options with the options that the mesh always wants.
void kp_ssl_ctx_set_default_options(SSL_CTX *ctx);

/// SSL_set_tlsext_host_name; returns 1 on success.
int kp_ssl_set_tlsext_host_name(SSL *ssl, const char *name);

/// The TLS 1.2 and 1.3 protocol version numbers.
int kp_tls1_2_version(void);
int kp_tls1_3_version(void);

/// SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS.
long kp_ssl_mode_nonblocking(void);

/// OPENSSL_free.
void kp_openssl_free(void *pointer);

/// BIO_get_mem_data; stores the data pointer and returns its length.
long kp_bio_get_mem_data(BIO *bio, char **data);

/// The number of entries in a GENERAL_NAMES stack.
int kp_general_names_count(const GENERAL_NAMES *names);

/// The entry at an index of a GENERAL_NAMES stack.
const GENERAL_NAME *kp_general_names_value(const GENERAL_NAMES *names, int index);

/// GENERAL_NAMES_free.
void kp_general_names_free(GENERAL_NAMES *names);

/// When the name is a URI, stores its bytes and returns its length; otherwise returns -1.
int kp_general_name_uri(const GENERAL_NAME *name, const unsigned char **data);

/// When the name is a DNS name, stores its bytes and returns its length; otherwise returns -1.
int kp_general_name_dns(const GENERAL_NAME *name, const unsigned char **data);

/// SSL_get_ex_new_index with no callbacks; returns a new per-SSL application-data index.
int kp_ssl_get_ex_new_index(void);

/// SSL_CTX_add1_chain_cert (takes its own reference); returns 1 on success.
int kp_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *certificate);

/// ERR_GET_LIB of a packed error code.
int kp_err_get_lib(unsigned long code);

/// ERR_GET_REASON of a packed error code.
int kp_err_get_reason(unsigned long code);

/// The library number of libssl errors (ERR_LIB_SSL).
int kp_err_lib_ssl(void);

/// EVP_EC_gen("P-256"): a new EC P-256 key pair, or NULL on failure.
EVP_PKEY *kp_evp_pkey_generate_p256(void);

#endif
