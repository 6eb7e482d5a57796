/* A token kept in a file. */
#include "token_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *token_file_read(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *line = malloc(TOKEN_FILE_MAX_LINE + 2);
    int got = line && fgets(line, TOKEN_FILE_MAX_LINE + 2, f) != NULL;
    fclose(f);
    const char *problem = !line ? "out of memory" : !got ? "empty file" : NULL;
    if (!problem && !strchr(line, '\n') && strlen(line) > TOKEN_FILE_MAX_LINE)
        problem = "the first line is longer than 16KiB";
    if (!problem) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strpbrk(line, " \t"))
            problem = "the first line must be the token (no spaces)";
    }
    if (problem) {
        snprintf(err, errlen, "%s: %s", path, problem);
        free(line);
        return NULL;
    }
    return line;
}
