// The C library, imported once for the whole engine (and re-exported to its clients) instead of in every file
// that makes a POSIX call: Glibc on Linux, Darwin on Apple platforms.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif
