/* exitcode: exits with the status given as its input (a decimal 0..255), after writing "bye". */
#include "outlayer.h"

int main(void)
{
    char *in = outlayer_read_input(NULL);
    int code = atoi(in);
    outlayer_write_str("bye\n");
    fflush(stdout);
    exit(code);
}
