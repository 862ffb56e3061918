/*
 * graph/tzdb.h - named time zones ("Europe/Stockholm") from the system's tz
 * database (Debian's tzdata: TZif files under /usr/share/zoneinfo, or $TZDIR),
 * for Cypher's temporal values. Internal to graph/.
 *
 * A zone is loaded on first use and kept for the life of the process (zones are
 * few and small); every function is thread-safe. Offsets are seconds east of UTC.
 */
#ifndef DSGRAPH_GRAPH_TZDB_H
#define DSGRAPH_GRAPH_TZDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tzdb_zone tzdb_zone;

/* The zone named name[0..len), or NULL when there is none (or the name is not a
 * plain relative path of the database: no "..", no leading '/'). */
const tzdb_zone *tzdb_zone_get(const char *name, size_t len);
/* Its name, as stored (NUL-terminated, lives as long as the process). */
const char *tzdb_zone_name(const tzdb_zone *z);
/* The offset in force at an instant (seconds since 1970-01-01T00:00Z). */
int32_t tzdb_offset_at(const tzdb_zone *z, int64_t utc_seconds);
/* The offset for a wall-clock time (local seconds since 1970-01-01T00:00): in an
 * overlap (clocks turned back) `prefer` when it is one of the two, else the
 * earlier; in a gap (clocks turned forward) the offset after it, and *shift gets
 * the gap's length, by which the wall-clock time must move later (else 0). */
int32_t tzdb_offset_for_local(const tzdb_zone *z, int64_t local_seconds, const int32_t *prefer, int64_t *shift);

#endif
