// Hands the FileDescriptorSet descriptor to Swift as an opaque pointer.
#include "kp_descriptor.h"

#include "google/protobuf/descriptor.pb-c.h"

const void *kp_descriptor_file_descriptor_set(void) {
  return &google__protobuf__file_descriptor_set__descriptor;
}
