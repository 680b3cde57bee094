// The wire envelope's C types and functions, for the RPC runtime's frame codec: it packs and
// unpacks `kp.wire.v1.Envelope` with protobuf-c's generated code and reads the C structs
// directly, without the generic field tree other messages go through.
#ifndef KP_WIRE_H
#define KP_WIRE_H

#include "../Generated/kp/wire/v1/wire.pb-c.h"

#endif
