/* --config FILE: ssed's long options, one per line, so that a service unit
 * stays one short command line.
 *
 *   # comment
 *   listen 127.0.0.1:8080      # a comment after a blank
 *   listen = [::1]:8080
 *   history 5000
 *   no-stdin
 *
 * A line is the option's long name without "--", then, for an option that
 * takes one, its value, after blanks, '=' or both: the rest of the line
 * with the blanks around it removed, taken as it is (no quotes, no escapes,
 * no variables). '#' at the start of a line or after a blank starts a
 * comment; inside a word ("token abc#def") it is part of the value. Blank
 * lines and comment lines are skipped. Every value goes through the same
 * option table and checks as on the command line. An option given twice is
 * an error, but for the repeatable ones (listen, allow-host); so is one that
 * sets what another line set (quiet after verbose). */
#ifndef SSED_CONFIG_FILE_H
#define SSED_CONFIG_FILE_H

#include "cli.h"

/* The largest file read; a larger one is refused. */
#define CONFIG_FILE_MAX (1 << 20)

/* Read path and set each option it names into base through spec's table.
 * CLI_RUN, or CLI_USAGE after reporting the problem on stderr with the
 * file and line ("ssed: /etc/ssed/ssed.conf:3: unknown option 'lisen'").
 * *text receives the file's contents, which string options now point
 * into: the caller frees it after their last use (also after CLI_USAGE). */
cli_outcome config_file_apply(const cli_spec *spec, void *base, const char *path, char **text);

/* The command line replaces, not extends, what the file gave a repeatable
 * option: empty each list of file_base that cmdline_base (the command line
 * parsed alone) has entries in, before the command line is parsed again
 * over file_base. Fixed (.max > 0) and growable (.max == 0) lists alike. */
void config_file_drop_lists(const cli_spec *spec, void *file_base, const void *cmdline_base);

#endif
