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

#endif
