/* A shared library whose constructor misbehaves before any plugin code can
 * run, chosen at compile time: -DSEGV, -DABORT, -DEXIT3 or -DHANG. Built by
 * tests/faults.rs with the system C compiler. */
#include <stdlib.h>

__attribute__((constructor)) static void misbehave(void) {
#if defined(SEGV)
    volatile int *p = (volatile int *)0;
    *p = 1;
#elif defined(ABORT)
    abort();
#elif defined(EXIT3)
    exit(3);
#elif defined(HANG)
    for (;;) {
    }
#endif
}

int iterable_fault_marker(void) { return 42; }
