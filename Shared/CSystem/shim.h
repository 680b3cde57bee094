#ifndef KP_CSYSTEM_SHIM_H
#define KP_CSYSTEM_SHIM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <errno.h>
#include <sys/prctl.h>

/// Names the calling thread (at most 15 characters are kept), for debuggers and top.
static inline void kp_set_thread_name(const char *name) {
  prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

/// Sets or clears O_NONBLOCK on a descriptor; returns 0 or -1 with errno set.
static inline int kp_set_nonblocking(int fd, int on) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0) return -1;
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, flags);
}

/// Sets FD_CLOEXEC on a descriptor; returns 0 or -1 with errno set.
static inline int kp_set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD, 0);
  if (flags < 0) return -1;
  return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/// The current thread's errno.
static inline int kp_errno(void) { return errno; }

#endif
