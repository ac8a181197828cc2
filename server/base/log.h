/*
 * log.h - one line per event on stderr: time, level, subsystem, message.
 * Never pass secrets (passwords, tokens, TOTP secrets, key material).
 */
#ifndef PT_LOG_H
#define PT_LOG_H

enum pt_log_level { PT_LOG_DEBUG, PT_LOG_INFO, PT_LOG_WARN, PT_LOG_ERROR };

void pt_log_set_level(enum pt_log_level level);
void pt_log(enum pt_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pt_log_info(sub, ...)  pt_log(PT_LOG_INFO, sub, __VA_ARGS__)
#define pt_log_warn(sub, ...)  pt_log(PT_LOG_WARN, sub, __VA_ARGS__)
#define pt_log_error(sub, ...) pt_log(PT_LOG_ERROR, sub, __VA_ARGS__)
#define pt_log_debug(sub, ...) pt_log(PT_LOG_DEBUG, sub, __VA_ARGS__)

#endif
