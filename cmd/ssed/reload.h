/* SIGHUP: read again what ssed can change without a restart (the TLS
 * certificate and key, the JWT keys, the --token-file) and say what was
 * done. What fails to load is logged and the old one kept; SIGHUP never
 * ends ssed. */
#ifndef SSED_RELOAD_H
#define SSED_RELOAD_H

#include "server.h"

void reload_all(server *srv);

#endif
