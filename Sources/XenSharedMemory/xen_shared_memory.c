// The primitives are static inline functions in include/xen_shared_memory.h; this file only gives
// SwiftPM a translation unit for the target.
#include "xen_shared_memory.h"
