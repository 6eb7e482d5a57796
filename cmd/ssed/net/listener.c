#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockets.h"

#define LISTEN_BACKLOG 4096

static int open_unix(const char *addr, const char *path, char *url, size_t url_size, char *err, size_t errlen) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "listen %s: socket path empty or too long", addr);
        return -1;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    /* A socket left by an earlier run would make bind fail; only a socket
     * is removed, never another kind of file. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = sockets_open(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "listen %s: socket: %s", addr, strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(url, url_size, "unix:%s", path);
    return fd;
}

/* Split HOST:PORT, [HOST]:PORT or :PORT. host is "" for all addresses. */
static int split_host_port(const char *addr, char *host, size_t host_size, char *port, size_t port_size) {
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return -1;
        if ((size_t)(close - addr - 1) >= host_size)
            return -1;
        memcpy(host, addr + 1, (size_t)(close - addr - 1));
        host[close - addr - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= host_size || memchr(addr, ':', (size_t)(colon - addr)))
            return -1;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) >= port_size || strspn(p, "0123456789") != strlen(p))
        return -1;
    strcpy(port, p);
    return 0;
}

/* A port getaddrinfo would take modulo 65536 (99999 is 34463) is refused. */
static int port_in_range(const char *port) { return strlen(port) <= 5 && atoi(port) <= 65535; }

int listener_address_problem(const char *addr, char *err, size_t errlen) {
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un sa;
        size_t len = strlen(addr + 5);
        if (len == 0 || len >= sizeof sa.sun_path) {
            snprintf(err, errlen, "socket path empty or longer than %zu bytes", sizeof sa.sun_path - 1);
            return -1;
        }
        return 0;
    }
    char host[256], port[16];
    if (split_host_port(addr, host, sizeof host, port, sizeof port) < 0) {
        if (addr[0] && strspn(addr, "0123456789") == strlen(addr))
            snprintf(err, errlen, "expected HOST:PORT, [IPv6]:PORT, :PORT or unix:PATH (a port alone is :%s)", addr);
        else
            snprintf(err, errlen, "expected HOST:PORT, [IPv6]:PORT, :PORT or unix:PATH");
        return -1;
    }
    if (!port_in_range(port)) {
        snprintf(err, errlen, "port %s is out of range (0 to 65535; 0 picks a free one)", port);
        return -1;
    }
    return 0;
}

int listener_open(const char *addr, int reuse_port, char *url, size_t url_size, char *err, size_t errlen) {
    if (strncmp(addr, "unix:", 5) == 0)
        return open_unix(addr, addr + 5, url, url_size, err, errlen);
    char host[256], port[16];
    if (split_host_port(addr, host, sizeof host, port, sizeof port) < 0 || !port_in_range(port)) {
        snprintf(err, errlen, "listen %s: expected HOST:PORT, [IPv6]:PORT, :PORT or unix:PATH, PORT 0 to 65535", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "listen %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    /* With no host, prefer IPv6 with dual-stack so one socket takes both. */
    struct addrinfo *pick = res;
    if (!host[0])
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
            if (ai->ai_family == AF_INET6)
                pick = ai;
    int fd = sockets_open(pick->ai_family, pick->ai_socktype, pick->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "listen %s: socket: %s", addr, strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        (pick->ai_family == AF_INET6 && !host[0] && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)) {
        snprintf(err, errlen, "listen %s: setsockopt: %s", addr, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    if (bind(fd, pick->ai_addr, pick->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    if (listener_url(fd, url, url_size) < 0) {
        snprintf(err, errlen, "listen %s: getsockname: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int listener_url(int fd, char *url, size_t url_size) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -1;
    char shown[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, shown, sizeof shown);
        snprintf(url, url_size, "http://[%s]:%u/", shown, ntohs(s6->sin6_port));
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, shown, sizeof shown);
        snprintf(url, url_size, "http://%s:%u/", shown, ntohs(s4->sin_port));
    } else if (ss.ss_family == AF_UNIX) {
        /* An abstract name starts with a NUL; shown with '@' as ss(8) does. */
        const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;
        size_t path_len = sl > offsetof(struct sockaddr_un, sun_path) ? sl - offsetof(struct sockaddr_un, sun_path) : 0;
        if (path_len > 0 && su->sun_path[0] == '\0')
            snprintf(url, url_size, "unix:@%.*s", (int)(path_len - 1), su->sun_path + 1);
        else
            snprintf(url, url_size, "unix:%.*s", (int)strnlen(su->sun_path, path_len), su->sun_path);
    } else {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return 0;
}

const char *listener_split_scheme(const char *addr, enum listener_scheme *scheme) {
    *scheme = LISTENER_DEFAULT;
    if (strncmp(addr, "http://", 7) == 0) {
        *scheme = LISTENER_HTTP;
        return addr + 7;
    }
    if (strncmp(addr, "https://", 8) == 0) {
        *scheme = LISTENER_HTTPS;
        return addr + 8;
    }
    return addr;
}

void listener_url_tls(char *url, size_t url_size) {
    char plain[300];
    snprintf(plain, sizeof plain, "%s", url);
    if (strncmp(plain, "http://", 7) == 0)
        snprintf(url, url_size, "https://%s", plain + 7);
    else
        snprintf(url, url_size, "%s (TLS)", plain);
}

void listener_peer_name(int fd, char *out, size_t size) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(out, size, "unknown");
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        snprintf(out, size, "%s:%u", ip, ntohs(s4->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        snprintf(out, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else {
        snprintf(out, size, "unix");
    }
}

int listener_is_loopback(int fd) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return 0;
    return ss.ss_family != AF_UNIX && listener_address_is_local(&ss);
}

int listener_peer_is_local(int fd) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        return 0;
    return listener_address_is_local(&ss);
}

int listener_address_is_local(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_UNIX)
        return 1;
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}
