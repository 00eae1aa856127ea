// libclang's C API, from Debian's libclang-dev (clang 14). Debian ships no
// pkg-config file for it, so Package.swift adds /usr/lib/llvm-14/include to
// the include path of every target that imports this module.
#include <clang-c/Index.h>
