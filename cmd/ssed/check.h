/* ssed --check: the files the options name, read and checked without
 * serving (check.c says what is and is not checked). */
#ifndef SSED_CHECK_H
#define SSED_CHECK_H

#include "options.h"

/* Log each problem; EXIT_OK when there is none, else EXIT_USAGE. */
int check_run(const ssed_options *o);

#endif
