#ifndef KP_CHTTPPARSER_SHIM_H
#define KP_CHTTPPARSER_SHIM_H

#include <http_parser.h>

/* Bit-field members of http_parser do not import into Swift; these read them. */

/// The request method of a parsed request (an enum http_method value).
static inline unsigned int kp_http_parser_method(const http_parser *parser) {
  return parser->method;
}

/// The parser's error number (an enum http_errno value); 0 when there is none.
static inline unsigned int kp_http_parser_errno(const http_parser *parser) {
  return parser->http_errno;
}

/// The status code of a parsed response.
static inline unsigned int kp_http_parser_status_code(const http_parser *parser) {
  return parser->status_code;
}

/// Whether the message being parsed has a chunked body (F_CHUNKED in the flags bit-field).
static inline int kp_http_parser_is_chunked(const http_parser *parser) {
  return (parser->flags & F_CHUNKED) != 0;
}

/// Whether the parser stopped because the message asked for a protocol upgrade or CONNECT.
static inline unsigned int kp_http_parser_upgrade(const http_parser *parser) {
  return parser->upgrade;
}

/// The offset and length of one component (a UF_* value) of a parsed URL; returns 0 when the
/// URL has no such component. Swift does not import the array of anonymous structs.
static inline int kp_http_parser_url_field(const struct http_parser_url *url, unsigned int field,
                                           size_t *offset, size_t *length) {
  if (field >= UF_MAX || (url->field_set & (1u << field)) == 0) return 0;
  *offset = url->field_data[field].off;
  *length = url->field_data[field].len;
  return 1;
}

#endif
