#ifndef KP_CPROTOBUFC_SHIM_H
#define KP_CPROTOBUFC_SHIM_H

#include <protobuf-c/protobuf-c.h>

#endif
