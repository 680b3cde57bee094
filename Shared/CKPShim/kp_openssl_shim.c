#include "kp_openssl_shim.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

int kp_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
  return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

int kp_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
  return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

long kp_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }

void kp_ssl_ctx_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); }

long kp_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
  return SSL_CTX_set_session_cache_mode(ctx, mode);
}

int kp_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
  return (int)SSL_CTX_set1_groups_list(ctx, list);
}

void kp_ssl_ctx_set_default_options(SSL_CTX *ctx) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
}

int kp_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
  return (int)SSL_set_tlsext_host_name(ssl, name);
}

int kp_tls1_2_version(void) { return TLS1_2_VERSION; }

int kp_tls1_3_version(void) { return TLS1_3_VERSION; }

long kp_ssl_mode_nonblocking(void) {
  return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
         SSL_MODE_RELEASE_BUFFERS;
}

void kp_openssl_free(void *pointer) { OPENSSL_free(pointer); }

long kp_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

int kp_general_names_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }

const GENERAL_NAME *kp_general_names_value(const GENERAL_NAMES *names, int index) {
  return sk_GENERAL_NAME_value(names, index);
}

void kp_general_names_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }

int kp_general_name_uri(const GENERAL_NAME *name, const unsigned char **data) {
  if (name->type != GEN_URI) return -1;
  *data = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
  return ASN1_STRING_length(name->d.uniformResourceIdentifier);
}

int kp_general_name_dns(const GENERAL_NAME *name, const unsigned char **data) {
  if (name->type != GEN_DNS) return -1;
  *data = ASN1_STRING_get0_data(name->d.dNSName);
  return ASN1_STRING_length(name->d.dNSName);
}

int kp_ssl_get_ex_new_index(void) { return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

int kp_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *certificate) {
  return (int)SSL_CTX_add1_chain_cert(ctx, certificate);
}

int kp_err_get_lib(unsigned long code) { return ERR_GET_LIB(code); }

int kp_err_get_reason(unsigned long code) { return ERR_GET_REASON(code); }

int kp_err_lib_ssl(void) { return ERR_LIB_SSL; }

EVP_PKEY *kp_evp_pkey_generate_p256(void) { return EVP_EC_gen("P-256"); }
