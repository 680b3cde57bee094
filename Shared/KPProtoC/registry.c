#include "kp_proto.h"
