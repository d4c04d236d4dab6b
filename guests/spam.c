/* spam: prints numbered lines to stdout without end (a test program for the output limit). */
#include "outlayer.h"

int main(void)
{
    for (uint64_t i = 0;; i++) outlayer_printf("line %llu: all work and no play\n", (unsigned long long)i);
}
