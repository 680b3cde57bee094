// protoc-c's output for google/protobuf/descriptor.proto, used by kp-protogen to read the
// FileDescriptorSet that protoc writes.
#ifndef KP_DESCRIPTOR_H
#define KP_DESCRIPTOR_H

#ifdef __cplusplus
extern "C" {
#endif

// The protobuf-c message descriptor (a `const ProtobufCMessageDescriptor *`) of
// google.protobuf.FileDescriptorSet.
const void *kp_descriptor_file_descriptor_set(void);

#ifdef __cplusplus
}
#endif

#endif
