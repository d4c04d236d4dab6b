/* trap: prints a line, then executes `unreachable` (a test program for trap reporting). */
#include "outlayer.h"

int main(void)
{
    outlayer_write_str("before the trap\n");
    __builtin_trap();
}
