/* The cluster's Lua scripts, run by Redis each in one atomic step: the one
 * publish path (cluster_script.c), the epoch that tells a Redis that lost
 * its data, and the write-back of a node's history after such a loss
 * (cluster_script_restore.c). */
#ifndef SSED_CLUSTER_SCRIPT_H
#define SSED_CLUSTER_SCRIPT_H

extern const char cluster_publish_script[];
extern const char cluster_epoch_script[];
extern const char cluster_restore_script[];

#endif
