/*
 * import.c - `portico import`: bulk CSV load with a progress bar.
 */
#include "admin/people.h"
#include "base/common.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A progress bar on stderr, drawn only for a terminal so that logs and
 * pipes stay clean: "[#####.....] 120/500".
 */
typedef struct progress {
    bool tty;
    size_t last_drawn;
} progress;

static void progress_draw(void *arg, size_t done, size_t total)
{
    progress *p = arg;
    if (!p->tty || total == 0)
        return;
    if (done != total && done - p->last_drawn < 1 + total / 200 && p->last_drawn != 0)
        return;
    p->last_drawn = done;
    char bar[41];
    size_t width = sizeof bar - 1;
    size_t fill = done >= total ? width : done * width / total;
    memset(bar, '#', fill);
    memset(bar + fill, '.', width - fill);
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu", bar, done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int read_whole_file(char **out, size_t *len, const char *path, size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail("cannot open %s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return cli_fail("%s is too big or out of memory", path);
    if (err) {
        free(buf);
        return cli_fail("cannot read %s", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

int cmd_import(cli *c, int argc, char **argv)
{
    const char *pos[2];
    int npos, rc;
    char *csv = NULL;
    size_t len = 0;

    if ((rc = cli_parse_args(argc, argv, NULL, pos, 2, &npos)) != 0)
        return rc;
    if (npos != 2)
        return cli_usage_error("usage: portico import ORG FILE.csv");
    if (!pt_slug_valid(pos[0]))
        return cli_usage_error("'%s' is not a valid organisation id", pos[0]);
    if ((rc = read_whole_file(&csv, &len, pos[1], (size_t)1 << 30)) != 0)
        return rc;
    if ((rc = cli_open(c, true)) != 0) {
        free(csv);
        return rc;
    }

    progress p = {isatty(STDERR_FILENO) == 1, 0};
    json_t *errors = NULL;
    size_t imported = 0;
    int err = pt_people_import_csv(&imported, &errors, c->store, &c->cfg, pos[0], cli_actor(), csv,
                                   len, 0, progress_draw, &p);
    free(csv);
    if (errors && json_array_size(errors) > 0) {
        fprintf(stderr, "portico: import: nothing imported; %zu problem(s):\n",
                json_array_size(errors));
        cli_print_errors(errors);
        json_decref(errors);
        return 1;
    }
    json_decref(errors);
    if (err < 0)
        return cli_fail("import: %s", cli_detail());
    printf("imported %zu people into %s\n", imported, pos[0]);
    return 0;
}
