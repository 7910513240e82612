// Linked into every fuzz executable. The fuzz build compiles with recoverable UBSan checks, so
// make each report fatal: otherwise libFuzzer would log undefined behaviour and keep going.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
