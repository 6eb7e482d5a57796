/* A token kept in a file (so it is not on the command line, where ps shows
 * it): ssed's --token-file, ssecat's and ssepub's --token-file. */
#ifndef SSETOOLS_TOKEN_FILE_H
#define SSETOOLS_TOKEN_FILE_H

#include <stddef.h>

/* The longest first line read: room for an 8KiB JWT and more. */
#define TOKEN_FILE_MAX_LINE 16384

/* The first line of the file at `path`, without its line end: a malloc'ed
 * string, or NULL with err naming the problem ("PATH: No such file or
 * directory", "PATH: empty file", "PATH: the first line must be the token
 * (no spaces)"). */
char *token_file_read(const char *path, char *err, size_t errlen);

#endif
