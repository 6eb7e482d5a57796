/* The one publish path of a cluster, as a Lua script run by Redis: see
 * cluster_script.c for what it does in one atomic step. */
#ifndef SSED_CLUSTER_SCRIPT_H
#define SSED_CLUSTER_SCRIPT_H

extern const char cluster_publish_script[];

#endif
