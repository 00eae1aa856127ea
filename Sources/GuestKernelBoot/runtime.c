// `free` for the Embedded Swift runtime: Swift may not define it (a reserved runtime name).
#include <stddef.h>

void guest_kernel_free(void *p);

void free(void *p) { guest_kernel_free(p); }
