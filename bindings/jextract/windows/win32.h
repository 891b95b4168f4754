/*
 * Panapipe Windows bindings: kernel32 (named pipes, overlapped I/O, I/O completion ports,
 * events, waits), advapi32 (tokens, SIDs, security descriptors, SDDL) and ws2_32 (overlapped
 * sockets). Input to jextract (see bindings/regenerate.sh); only the symbols named in
 * includes.txt are generated.
 *
 * Parsed on Linux against the MinGW-w64 SDK headers for x86_64-w64-windows-gnu. windows.h is
 * not included directly; winsock2.h and aclapi.h pull it in themselves, and
 * WIN32_LEAN_AND_MEAN keeps the rest of it out.
 */
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#define _WIN32_WINNT 0x0A00 /* Windows 10 */
#define WINVER 0x0A00

#include <winsock2.h> /* before anything that includes windows.h */
#include <windef.h>
#include <winbase.h>
#include <winerror.h>
#include <namedpipeapi.h>
#include <ioapiset.h>
#include <securitybaseapi.h>
#include <sddl.h>
#include <aclapi.h>
