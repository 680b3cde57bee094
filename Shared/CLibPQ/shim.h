#ifndef KP_CLIBPQ_SHIM_H
#define KP_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
