// Linked into every executable of a sanitizer build: leaks inside Debian's
// system libraries that Steward cannot fix (c-ares keeps a small resolver
// allocation for the life of the process) must not fail the run.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcares.so\n"; }
