/*
 * Panapipe Linux bindings: libc sockets, epoll, eventfd, mmap, poll, errno and io_uring.
 * Input to jextract (see bindings/regenerate.sh); only the symbols named in includes.txt
 * are generated.
 *
 * _GNU_SOURCE is deliberately NOT defined: with it, glibc declares the sockaddr parameters of
 * bind/connect/accept/getsockname/... as transparent unions (__SOCKADDR_ARG), which jextract
 * cannot turn into plain pointers. The few GNU-only declarations needed are repeated at the
 * end of this file, exactly as glibc and the man pages give them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <linux/io_uring.h>

/* <bits/socket.h> under __USE_GNU: SO_PEERCRED result, and its control-message type. */
struct ucred {
    pid_t pid; /* PID of sending process. */
    uid_t uid; /* UID of sending process. */
    gid_t gid; /* GID of sending process. */
};
#define SCM_CREDENTIALS 0x02

/* <sys/socket.h> and <unistd.h> under __USE_GNU; accept4(2), pipe2(2). */
extern int accept4(int __fd, struct sockaddr *__restrict __addr, socklen_t *__restrict __addr_len, int __flags);
extern int pipe2(int __pipedes[2], int __flags);

/* <bits/poll.h> under __USE_GNU (the value is the same on every Linux architecture but sparc). */
#define POLLRDHUP 0x2000
