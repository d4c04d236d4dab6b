/* echo: replies with its input text (surrounding whitespace trimmed), who sent it and at which block,
 * from the NEAR context variables a worker sets: `alice.near said "hi" at block 123`. */
#include "outlayer.h"

int main(void)
{
    size_t len;
    char *in = outlayer_read_input(&len);
    char *s = in, *e = in + len;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
    const char *sender = outlayer_env("NEAR_SENDER_ID", "unknown");
    const char *height = outlayer_env("NEAR_BLOCK_HEIGHT", "0");
    outlayer_write_str(sender);
    outlayer_write_str(" said \"");
    outlayer_write_output(s, (size_t)(e - s));
    outlayer_write_str("\" at block ");
    outlayer_write_str(height);
    free(in);
    return 0;
}
