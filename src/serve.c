/*
 * The metrics endpoint. libmicrohttpd runs without threads of its own
 * (MHD_USE_EPOLL, external polling): the main loop polls serve_fd() next
 * to the ring buffer and calls serve_run(), so a request is answered
 * between two event batches with the aggregate at rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "serve.h"

/* Enough for Prometheus and a few curls; slow clients time out. */
#define MAX_CONNECTIONS 16
#define CONNECTION_TIMEOUT_S 10

struct metrics_server {
	struct MHD_Daemon *daemon;
	struct serve_source source;
};

static const char index_page[] =
	"pfwatch: page-fault metrics are at /metrics\n";

static enum MHD_Result reply(struct MHD_Connection *connection, unsigned status,
			     const char *type, char *body, size_t size,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(size, body, mode);
	enum MHD_Result queued;

	if (!response)
		return MHD_NO;
	if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_NO) {
		MHD_destroy_response(response);
		return MHD_NO;
	}
	queued = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return queued;
}

static enum MHD_Result reply_text(struct MHD_Connection *connection,
				  unsigned status, const char *text)
{
	return reply(connection, status, "text/plain; charset=utf-8", (char *)text,
		     strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* Prometheus asks for OpenMetrics first; curl and older scrapers get text. */
static bool wants_openmetrics(struct MHD_Connection *connection)
{
	const char *accept = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text");
}

static enum MHD_Result answer_metrics(struct metrics_server *server,
				      struct MHD_Connection *connection)
{
	const struct serve_source *source = &server->source;
	bool openmetrics = wants_openmetrics(connection);
	char *text = NULL;
	size_t size = 0;
	FILE *out;
	int err;

	if (source->refresh(source->context))
		return reply_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "pfwatch: cannot read the kernel's counters\n");
	out = open_memstream(&text, &size);
	if (!out)
		return reply_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "pfwatch: out of memory\n");
	err = export_prom(out, source->agg, source->run, openmetrics);
	if (fclose(out) || err) {
		free(text);
		return reply_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "pfwatch: out of memory\n");
	}
	return reply(connection, MHD_HTTP_OK,
		     openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				 : "text/plain; version=0.0.4; charset=utf-8",
		     text, size, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result answer(void *context, struct MHD_Connection *connection,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **request)
{
	(void)version;
	(void)upload_data;
	(void)request;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "pfwatch: only GET and HEAD\n");
	if (*upload_data_size)
		return MHD_NO;
	if (!strcmp(url, "/metrics"))
		return answer_metrics(context, connection);
	if (!strcmp(url, "/"))
		return reply_text(connection, MHD_HTTP_OK, index_page);
	return reply_text(connection, MHD_HTTP_NOT_FOUND, "pfwatch: not found; try /metrics\n");
}

struct metrics_server *serve_start(const struct sockaddr_storage *address,
				   const struct serve_source *source,
				   char *error, size_t error_size)
{
	struct metrics_server *server = calloc(1, sizeof(*server));
	unsigned flags = MHD_USE_EPOLL;

	if (!server) {
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	server->source = *source;
	if (address->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	/* The port argument is unused: MHD_OPTION_SOCK_ADDR has it. */
	server->daemon = MHD_start_daemon(flags, 1, NULL, NULL, answer, server,
					  MHD_OPTION_SOCK_ADDR, address,
					  MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
					  MHD_OPTION_CONNECTION_TIMEOUT,
					  (unsigned)CONNECTION_TIMEOUT_S,
					  MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(error, error_size, "%s",
			 errno ? strerror(errno) : "libmicrohttpd could not start");
		free(server);
		return NULL;
	}
	return server;
}

int serve_fd(const struct metrics_server *server)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

void serve_run(struct metrics_server *server)
{
	MHD_run(server->daemon);
}

void serve_stop(struct metrics_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	free(server);
}

void serve_address_text(const struct sockaddr_storage *address, char *buf,
			size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (address->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)address;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	}
}
