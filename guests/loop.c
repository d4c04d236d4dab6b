/* loop: never ends (a test program for the fuel and time limits). The volatile counter keeps the
 * compiler from proving the loop infinite and deleting it. */
#include "outlayer.h"

int main(void)
{
    volatile uint64_t n = 0;
    for (;;) n = n + 1;
}
