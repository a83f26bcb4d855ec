#ifndef CLZ4_SHIM_H
#define CLZ4_SHIM_H
// The frame API only: every journal segment and snapshot is a sequence of standard LZ4 frames.
#include <lz4frame.h>
#endif
