/* Replays the fuzz_contract_json corpus (fuzz/contract_json/corpus) through the same invariants in the
 * normal test run, so every checked-in input stays covered without libFuzzer. */
#include <dirent.h>

#include "../../fuzz/contract_json/fuzz_contract_json.c"
#include "test.h"

int main(int argc, char **argv) {
    if (argc != 2) T_FAIL("usage: test_contracts_json_corpus DIR");
    DIR *d = opendir(argv[1]);
    if (!d) T_FAIL("cannot open %s", argv[1]);
    static uint8_t buf[65537];
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) T_FAIL("cannot open %s", path);
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        n++;
    }
    closedir(d);
    ASSERT_TRUE(n >= 8);
    printf("test_contracts_json_corpus: %d inputs ok\n", n);
    return 0;
}
