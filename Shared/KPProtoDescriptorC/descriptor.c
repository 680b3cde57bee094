#include "kp_descriptor.h"
