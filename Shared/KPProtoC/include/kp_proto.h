// The C side of KnowledgePlane's protocol: protoc-c's output for every file under proto/,
// reached through one lookup so Swift never takes the address of a C global.
#ifndef KP_PROTO_H
#define KP_PROTO_H

#ifdef __cplusplus
extern "C" {
#endif

// The protobuf-c message descriptor (a `const ProtobufCMessageDescriptor *`) of the message
// with the given full name, such as "kp.wire.v1.Envelope", or NULL when there is none.
// Defined in Generated/kp_proto_registry.c, written by kp-protogen.
const void *kp_proto_message_descriptor(const char *full_name);

#ifdef __cplusplus
}
#endif

#endif
