# Fails a test with the message MSG (used when the spec suite is missing).
message(FATAL_ERROR "${MSG}")
