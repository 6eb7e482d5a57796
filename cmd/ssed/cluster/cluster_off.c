/* ssed built without hiredis (make REDIS=0): --redis is refused at start
 * with a clear error; nothing else changes. */
#include "cluster_link.h"

#include <stdio.h>

cluster_link *cluster_link_open(const cluster_link_config *cfg, loop *l, const cluster_link_hooks *hooks, char *err,
                                size_t errlen) {
    (void)cfg, (void)l, (void)hooks;
    snprintf(err, errlen, "--redis: this ssed was built without Redis support (make REDIS=0); rebuild with "
                          "libhiredis-dev installed");
    return NULL;
}

void cluster_link_step(cluster_link *k, uint64_t now_ms) { (void)k, (void)now_ms; }
void cluster_link_resume_reading(cluster_link *k) { (void)k; }
int cluster_link_timeout(const cluster_link *k, uint64_t now_ms) { return (void)k, (void)now_ms, -1; }
int cluster_link_ready(const cluster_link *k) { return (void)k, 0; }
int cluster_link_publish(cluster_link *k, const char *chan, size_t len, const cluster_batch *b, cluster_published_fn done,
                         void *ctx) {
    return (void)k, (void)chan, (void)len, (void)b, (void)done, (void)ctx, -1;
}
int cluster_link_fill(cluster_link *k, const char *chan, size_t len, uint64_t after) {
    return (void)k, (void)chan, (void)len, (void)after, -1;
}
void cluster_link_check(cluster_link *k, const char *chan, size_t len, const char *msg, size_t msg_len) {
    (void)k, (void)chan, (void)len, (void)msg, (void)msg_len;
}
void cluster_link_check_epoch(cluster_link *k, uint64_t highest) { (void)k, (void)highest; }
void cluster_link_check_persistence(cluster_link *k) { (void)k; }
int cluster_link_write_back(cluster_link *k, const char *chan, size_t len, const uint64_t *numbers,
                            const char *const *msgs, const size_t *msg_lens, size_t count, cluster_written_back_fn done,
                            void *ctx) {
    return (void)k, (void)chan, (void)len, (void)numbers, (void)msgs, (void)msg_lens, (void)count, (void)done,
           (void)ctx, -1;
}
void cluster_link_stats(const cluster_link *k, buf *out) { (void)k, (void)out; }
void cluster_link_close(cluster_link *k) { (void)k; }
