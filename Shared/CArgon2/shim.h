#ifndef KP_CARGON2_SHIM_H
#define KP_CARGON2_SHIM_H

/* libargon2 (Debian's libargon2-dev), for argon2id password hashes. */
#include <argon2.h>

#endif
