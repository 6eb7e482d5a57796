/* Signals as a descriptor (signal_source.h). */
#include "signal_source.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/signalfd.h>

int signal_source_open(const sigset_t *set) {
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
        return -1;
    return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int signal_source_next(int fd) {
    struct signalfd_siginfo info;
    return read(fd, &info, sizeof info) == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}
#else
/* The pipe's writing end, for the handler: a signal handler has only
 * globals to go by. */
static int signal_pipe_in = -1;

static void on_signal(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    (void)!write(signal_pipe_in, &byte, 1); /* full: that signal is already waiting */
    errno = saved;
}

static int prepare(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 ? 0 : -1;
}

int signal_source_open(const sigset_t *set) {
    int ends[2];
    if (pipe(ends) < 0)
        return -1;
    if (prepare(ends[0]) < 0 || prepare(ends[1]) < 0) {
        int saved = errno;
        close(ends[0]);
        close(ends[1]);
        errno = saved;
        return -1;
    }
    signal_pipe_in = ends[1];
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int signo = 1; signo < NSIG; signo++)
        if (sigismember(set, signo) == 1 && sigaction(signo, &sa, NULL) < 0)
            return -1;
    return ends[0];
}

int signal_source_next(int fd) {
    unsigned char byte;
    return read(fd, &byte, 1) == 1 ? byte : 0;
}
#endif
