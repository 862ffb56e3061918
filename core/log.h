/*
 * core/log.h - the daemon's log: one line per event on stderr,
 * "2026-11-28T14:00:00.123Z info message", journald-friendly.
 */
#ifndef DSGRAPH_LOG_H
#define DSGRAPH_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Parses "debug"|"info"|"warn"|"error"; returns -1 for anything else. */
int log_level_parse(const char *s);
void log_set_level(log_level lvl);
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
