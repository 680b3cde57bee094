#ifndef KP_CPOPPLER_SHIM_H
#define KP_CPOPPLER_SHIM_H

#include <poppler.h>

/// The GObject unreference, taking the object as a plain pointer (the `G_OBJECT` cast is a
/// macro and does not import).
static inline void kp_poppler_release(void *object) {
  if (object != NULL) {
    g_object_unref(object);
  }
}

#endif
