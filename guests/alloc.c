/* alloc: allocates 1 MiB blocks, touches them and keeps them on a list, without end (a test program
 * for the memory limit). When malloc finally fails it says so on stderr and exits with status 3.
 * The list head is volatile so that the compiler cannot elide the allocations. */
#include "outlayer.h"

static void *volatile head;

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
        *(void **)p = head;
        head = p;
        total += 1u << 20;
    }
}
