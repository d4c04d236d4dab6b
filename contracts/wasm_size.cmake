# Prints the size of a built contract (called after each wasm link).
file(SIZE ${FILE} size)
get_filename_component(name ${FILE} NAME)
math(EXPR kib "${size} / 1024")
message("contract ${name}: ${size} bytes (${kib} KiB)")
