// The primitive is a static inline function in include/xen_hypercall_page.h; this file only gives
// SwiftPM a translation unit for the target.
#include "xen_hypercall_page.h"
