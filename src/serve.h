/*
 * pfwatch serve: /metrics over HTTP (libmicrohttpd), answered from the
 * main loop, so a scrape reads the aggregate without locks.
 */
#ifndef PFWATCH_SERVE_H
#define PFWATCH_SERVE_H

#include <stddef.h>
#include <sys/socket.h>
#include "aggregate.h"

/* Where a scrape's figures come from. */
struct serve_source {
	int (*refresh)(void *context);	/* brings agg and run up to date */
	void *context;
	const struct aggregate *agg;
	const struct run_info *run;
};

struct metrics_server;

/* NULL after writing why to @error. */
struct metrics_server *serve_start(const struct sockaddr_storage *address,
				   const struct serve_source *source,
				   char *error, size_t error_size);
/* Readable when a connection needs serve_run(). */
int serve_fd(const struct metrics_server *server);
/* Answers whatever is ready; never blocks. */
void serve_run(struct metrics_server *server);
void serve_stop(struct metrics_server *server);
/* "127.0.0.1:9479" or "[::1]:9479". */
void serve_address_text(const struct sockaddr_storage *address, char *buf,
			size_t size);

#endif
