/* Reading a captured event stream from stdin or a file (`ssecat -`,
 * --input FILE) through the same parser and output as a URL. */
#ifndef SSECAT_INPUT_H
#define SSECAT_INPUT_H

#include "limits.h"
#include "sink.h"
#include "sse_parser.h"

/* Parse `path` ("-": stdin) to its end; returns ssecat's exit status. */
int input_run(const char *path, sse_parser *p, sink *s, limits *l);

#endif
