/*
 * Panapipe bench: the busy-polling C reference, and CPU time for the blocking one.
 *
 *   uds_spin pingpong SIZE MAX_ITERS MAX_SECONDS
 *       Two processes over an AF_UNIX SOCK_STREAM socketpair. Both ends poll with non-blocking
 *       recv/send (MSG_DONTWAIT) and never sleep in the kernel: the round trip a spinning waiter can
 *       reach, at the price of two busy cores. After YIELD_AFTER empty polls in a row a poller calls
 *       sched_yield() (and stays runnable): with two free cores an answer comes long before that, so
 *       it never happens; when both ends share one core it lets the other end run instead of
 *       burning the rest of a time slice. Stops after MAX_ITERS round trips or MAX_SECONDS,
 *       whichever comes first (so a machine without two free cores still finishes).
 *       Prints: pingpong-spin size=S iters=N rtt_us=T cpu_us=C
 *       (cpu_us: user+system time of both processes over the timed round trips, per round trip)
 *
 *   uds_spin rusage PROGRAM [ARGS...]
 *       Runs PROGRAM, passing its output through, then prints its CPU time and that of the
 *       children it waited for: rusage cpu_us=C
 *
 * Compiled at run time by io.panapipe.bench.CReference (gcc -O2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#define WARMUP 1000
#define YIELD_AFTER 256

#if defined(__x86_64__) || defined(__i386__)
#define RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define RELAX() __asm__ __volatile__("yield")
#else
#define RELAX() do { } while (0)
#endif

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_us(struct timeval tv) { return tv.tv_sec * 1e6 + tv.tv_usec; }

static double cpu_us(int who) {
    struct rusage ru;
    if (getrusage(who, &ru) != 0) return -1;
    return tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Receives exactly n bytes, polling; returns 0 at end of stream before the first byte, else 1. */
static int spin_recv(int fd, char *p, size_t n) {
    size_t have = 0;
    unsigned empty = 0;
    while (have < n) {
        ssize_t r = recv(fd, p + have, n - have, MSG_DONTWAIT);
        if (r > 0) {
            have += (size_t) r;
            empty = 0;
        } else if (r == 0) {
            if (have == 0) return 0;
            fprintf(stderr, "uds_spin: end of stream inside a message\n");
            exit(1);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (++empty % YIELD_AFTER == 0) sched_yield();
            else RELAX();
        } else {
            die("recv");
        }
    }
    return 1;
}

static void spin_send(int fd, const char *p, size_t n) {
    size_t done = 0;
    unsigned full = 0;
    while (done < n) {
        ssize_t r = send(fd, p + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) done += (size_t) r;
        else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (++full % YIELD_AFTER == 0) sched_yield();
            else RELAX();
        } else die("send");
    }
}

static int pingpong(size_t size, long max_iters, double max_seconds) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
    char *buf = calloc(1, size ? size : 1);
    if (!buf) die("calloc");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        /* The echo end: echoes until end of stream, then sends back its CPU time after the warm-up. */
        close(sv[0]);
        long n = 0;
        double c0 = 0;
        while (spin_recv(sv[1], buf, size)) {
            spin_send(sv[1], buf, size);
            if (++n == WARMUP) c0 = cpu_us(RUSAGE_SELF);
        }
        double used = n >= WARMUP ? cpu_us(RUSAGE_SELF) - c0 : 0;
        spin_send(sv[1], (const char *) &used, sizeof used);
        _exit(0);
    }
    close(sv[1]);
    for (int i = 0; i < WARMUP; i++) {
        spin_send(sv[0], buf, size);
        if (!spin_recv(sv[0], buf, size)) die("echo ended early");
    }
    double c0 = cpu_us(RUSAGE_SELF);
    double t0 = mono_seconds();
    double deadline = t0 + max_seconds;
    long iters = 0;
    while (iters < max_iters) {
        spin_send(sv[0], buf, size);
        if (!spin_recv(sv[0], buf, size)) die("echo ended early");
        iters++;
        if ((iters & 255) == 0 && mono_seconds() > deadline) break;
    }
    double elapsed = mono_seconds() - t0;
    double mine = cpu_us(RUSAGE_SELF) - c0;
    if (shutdown(sv[0], SHUT_WR) != 0) die("shutdown");
    double theirs = 0;
    if (!spin_recv(sv[0], (char *) &theirs, sizeof theirs)) die("echo sent no CPU time");
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    printf("pingpong-spin size=%zu iters=%ld rtt_us=%.3f cpu_us=%.3f\n", size, iters,
           elapsed / iters * 1e6, (mine + theirs) / iters);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int rusage_of(char **argv) {
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        execv(argv[0], argv);
        die("execv");
    }
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    printf("rusage cpu_us=%.1f\n", cpu_us(RUSAGE_CHILDREN));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "pingpong") == 0) {
        long size = atol(argv[2]);
        long iters = atol(argv[3]);
        double secs = atof(argv[4]);
        if (size < 1 || iters < 1 || secs <= 0) {
            fprintf(stderr, "uds_spin: SIZE, MAX_ITERS and MAX_SECONDS must be positive\n");
            return 2;
        }
        return pingpong((size_t) size, iters, secs);
    }
    if (argc >= 3 && strcmp(argv[1], "rusage") == 0) return rusage_of(argv + 2);
    fprintf(stderr, "usage: uds_spin pingpong SIZE MAX_ITERS MAX_SECONDS | uds_spin rusage PROGRAM [ARGS...]\n");
    return 2;
}
