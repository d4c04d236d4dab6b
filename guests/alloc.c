/* alloc: allocates 1 MiB blocks and touches them, without end (a test program for the memory limit).
 * When malloc finally fails it says so on stderr and exits with status 3. */
#include "outlayer.h"

int main(void)
{
    size_t total = 0;
    for (;;) {
        char *p = malloc(1u << 20);
        if (!p) {
            fprintf(stderr, "alloc: malloc failed after %zu MiB\n", total >> 20);
            return 3;
        }
        memset(p, 0xAB, 1u << 20);
        total += 1u << 20;
    }
}
