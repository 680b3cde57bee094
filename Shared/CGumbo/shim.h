#ifndef KP_CGUMBO_SHIM_H
#define KP_CGUMBO_SHIM_H

#include <gumbo.h>

#endif
