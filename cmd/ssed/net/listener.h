/* Listening sockets, in the manner of redis's anet: small helpers that
 * return -1 with a message in err instead of printing. */
#ifndef SSED_LISTENER_H
#define SSED_LISTENER_H

#include <stddef.h>

/* Open a non-blocking listening socket for ADDR (HOST:PORT, [IPv6]:PORT,
 * :PORT, unix:PATH). On success writes the URL it serves into url. */
/* reuse_port: SO_REUSEPORT, so several ssed processes share the port and
 * the kernel spreads connections over them (--reuse-port). */
int listener_open(const char *addr, int reuse_port, char *url, size_t url_size, char *err, size_t errlen);
/* What is wrong with ADDR's form (no scheme), before anything is opened:
 * 0, or -1 with a message in err (not naming ADDR). A port is 0 to 65535;
 * a host that does not resolve is found only by listener_open. */
int listener_address_problem(const char *addr, char *err, size_t errlen);

/* The URL a listening socket serves ("http://127.0.0.1:8080/",
 * "http://[::]:8080/", "unix:/run/ssed.sock"), from its own address: also
 * for sockets ssed did not open (socket activation). -1 with errno. */
int listener_url(int fd, char *url, size_t url_size);
/* --listen's optional scheme: http:// or https:// before the address says
 * whether the listener speaks TLS; without one, the default applies. */
enum listener_scheme { LISTENER_DEFAULT, LISTENER_HTTP, LISTENER_HTTPS };
/* The address after the scheme; the scheme in *scheme. */
const char *listener_split_scheme(const char *addr, enum listener_scheme *scheme);
/* A URL listener_open wrote, changed to say it is served over TLS
 * ("https://...", or "unix:PATH (TLS)"). */
void listener_url_tls(char *url, size_t url_size);

/* Describe a connected peer ("127.0.0.1:5555", "[::1]:5555", "unix"). */
void listener_peer_name(int fd, char *out, size_t size);

/* Is this socket's own address a loopback one (not a unix socket, not a
 * wildcard)? */
int listener_is_loopback(int fd);

/* Is the connected peer on a loopback address or a unix socket? */
int listener_peer_is_local(int fd);
struct sockaddr_storage;
int listener_address_is_local(const struct sockaddr_storage *ss);

#endif
