/* Intrusive doubly-linked lists: a subscriber sits on several lists at once
 * (its channel, the keep-alive order, the flush queue) with no allocation. */
#ifndef SSED_LIST_H
#define SSED_LIST_H

#include <stddef.h>

typedef struct list_node {
    struct list_node *prev, *next;
} list_node;

static inline void list_init(list_node *head) { head->prev = head->next = head; }
static inline int list_empty(const list_node *head) { return head->next == head; }
static inline int list_linked(const list_node *n) { return n->next != NULL && n->next != n; }

static inline void list_push_back(list_node *head, list_node *n) {
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

/* Unlink n; safe to call on a node that is not on a list (next == NULL). */
static inline void list_remove(list_node *n) {
    if (!n->next)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* Move every node of src, in order, to the end of dst; src is left empty.
 * For walking a snapshot of a list whose nodes may be put back on it. */
static inline void list_move_all(list_node *dst, list_node *src) {
    if (list_empty(src))
        return;
    src->next->prev = dst->prev;
    dst->prev->next = src->next;
    src->prev->next = dst;
    dst->prev = src->prev;
    list_init(src);
}

#define list_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

#endif
