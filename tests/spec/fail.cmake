# Fails a test with the message MSG (used when the spec suite is missing).
cmake_minimum_required(VERSION 3.20)
message(FATAL_ERROR "${MSG}")
