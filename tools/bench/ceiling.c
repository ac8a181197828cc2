/*
 * ceiling.c - the benchmark's ceiling: the smallest CivetWeb server, with
 * the options porticod uses (keep-alive, tcp_nodelay), answering every
 * request with one fixed JSON body in one mg_write.  It never looks at
 * the Authorization header wrk sends, so its rate is what CivetWeb alone
 * costs for a request of that size on this machine.
 *
 *   cc -O2 ceiling.c -o ceiling -lcivetweb
 *   ./ceiling PORT THREADS        (runs until SIGTERM/SIGINT)
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char response[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 180\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"username\":\"bench-001.p0000001\",\"display_name\":\"Bench Person\",\"org\":\"bench-001\","
    "\"status\":\"employee\",\"roles\":[],\"memberships\":[{\"org\":\"bench-001\",\"status\":"
    "\"employee\"}]"
    ",\"mfa\":false}";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    mg_write(conn, response, sizeof(response) - 1);
    return 200;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ceiling PORT THREADS\n");
        return 2;
    }
    char ports[64];
    snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
    const char *opts[] = {"listening_ports",
                          ports,
                          "num_threads",
                          argv[2],
                          "tcp_nodelay",
                          "1",
                          "enable_keep_alive",
                          "yes",
                          "request_timeout_ms",
                          "30000",
                          "max_request_size",
                          "65536",
                          NULL};
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    struct mg_context *ctx = mg_start(&cb, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "ceiling: cannot listen on %s\n", ports);
        return 1;
    }
    mg_set_request_handler(ctx, "/", on_request, NULL);
    while (!stop)
        pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
