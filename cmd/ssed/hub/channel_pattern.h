/* Channel patterns: a channel name whose segments (between slashes) may be
 * a star, any one segment, or two stars, one or more segments (never zero:
 * "builds" then two stars matches builds/1 and builds/1/log, not builds
 * itself). Leading and trailing slashes are ignored, as in channel paths;
 * "" is the root channel. Tokens' claims (jwt_claims.h) and --public use
 * them; man/ssed.1 shows them in full. */
#ifndef SSED_CHANNEL_PATTERN_H
#define SSED_CHANNEL_PATTERN_H

#include <stddef.h>

/* The longest pattern accepted in a claim or --public. */
#define JWT_MAX_PATTERN_LEN 200

/* Is `pattern` well formed (channel characters, `*` and `**` only as whole
 * segments, at most JWT_MAX_PATTERN_LEN bytes)? */
int channel_pattern_valid(const char *pattern, size_t len);
/* Does the channel `name` (slashes trimmed) match the pattern? */
int channel_pattern_matches(const char *pattern, size_t pattern_len, const char *name, size_t name_len);
/* Does any pattern of a '\n'-ended list match the channel? */
int channel_patterns_allow(const char *list, const char *name, size_t name_len);

#endif
