/*
 * Background debuginfod fetches: a queue of build IDs and one thread.
 * libdebuginfod is opened only when DEBUGINFOD_URLS is set, as libdwfl
 * does it: linked, it brings libcurl and its TLS and LDAP libraries into
 * every start of pfwatch (44 libraries instead of 20; under QEMU's
 * emulation that start took longer than the tests' second of grace).
 */
#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "debug_fetch.h"

struct fetch_request {
	char build_id[41];
	enum fetch_state state;
	char *path;			/* in libdebuginfod's cache, once DONE */
};

/* The libdebuginfod calls pfwatch makes, found in the opened library. */
struct debuginfod_calls {
	void *library;
	debuginfod_client *(*begin)(void);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	void (*end)(debuginfod_client *);
};

struct debug_fetcher {
	struct debuginfod_calls calls;
	pthread_mutex_t lock;
	pthread_cond_t work, done;	/* a request came; a fetch ended */
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	struct fetch_request requests[DEBUG_FETCH_MAX];
	size_t nr_requests, nr_pending, nr_ended;
};

/* 0, or -1 (the library closed again) if it or a call is missing. */
static int open_debuginfod(struct debuginfod_calls *calls)
{
	calls->library = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!calls->library)
		return -1;
	*(void **)&calls->begin = dlsym(calls->library, "debuginfod_begin");
	*(void **)&calls->find_debuginfo = dlsym(calls->library, "debuginfod_find_debuginfo");
	*(void **)&calls->set_progressfn = dlsym(calls->library, "debuginfod_set_progressfn");
	*(void **)&calls->end = dlsym(calls->library, "debuginfod_end");
	if (calls->begin && calls->find_debuginfo && calls->set_progressfn && calls->end)
		return 0;
	dlclose(calls->library);
	return -1;
}

struct debug_fetcher *debug_fetcher_new(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	struct debug_fetcher *fetcher;

	if (!urls || !*urls)
		return NULL;	/* the user asked for no network: none */
	fetcher = calloc(1, sizeof(*fetcher));
	if (!fetcher)
		return NULL;
	if (open_debuginfod(&fetcher->calls)) {
		fprintf(stderr, "pfwatch: DEBUGINFOD_URLS is set but libdebuginfod.so.1 cannot be opened: no debug files will be fetched\n");
		free(fetcher);
		return NULL;
	}
	if (pthread_mutex_init(&fetcher->lock, NULL)) {
		dlclose(fetcher->calls.library);
		free(fetcher);
		return NULL;
	}
	if (pthread_cond_init(&fetcher->work, NULL) || pthread_cond_init(&fetcher->done, NULL)) {
		pthread_mutex_destroy(&fetcher->lock);
		dlclose(fetcher->calls.library);
		free(fetcher);
		return NULL;
	}
	return fetcher;
}

/*
 * The fetch thread's fetcher, for the progress callback, which is given
 * only the client (its user data is reached through the library's own
 * calls, which the callback cannot find without the fetcher).
 */
static _Thread_local struct debug_fetcher *thread_fetcher;

/* libdebuginfod calls this while it waits: a non-zero answer aborts. */
static int abort_when_stopping(debuginfod_client *client, long done, long total)
{
	(void)client;
	(void)done;
	(void)total;
	return atomic_load(&thread_fetcher->stopping);
}

static struct fetch_request *next_pending(struct debug_fetcher *fetcher)
{
	for (size_t i = 0; i < fetcher->nr_requests; i++)
		if (fetcher->requests[i].state == FETCH_PENDING)
			return &fetcher->requests[i];
	return NULL;
}

/* One build ID's debug file, without the lock held. */
static void fetch_one(debuginfod_client *client, struct debug_fetcher *fetcher,
		      struct fetch_request *request)
{
	char build_id[41], *path = NULL;
	int fd;

	memcpy(build_id, request->build_id, sizeof(build_id));
	pthread_mutex_unlock(&fetcher->lock);
	/* A length of 0: the build ID is given as hex text. */
	fd = client ? fetcher->calls.find_debuginfo(client, (const unsigned char *)build_id,
						    0, &path) : -ENOSYS;
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&fetcher->lock);
	request->state = fd >= 0 && path ? FETCH_DONE : FETCH_FAILED;
	request->path = fd >= 0 ? path : NULL;
	if (fd < 0)
		free(path);
	fetcher->nr_pending--;
	fetcher->nr_ended++;
	pthread_cond_broadcast(&fetcher->done);
}

static void *fetch_loop(void *context)
{
	struct debug_fetcher *fetcher = context;
	debuginfod_client *client = fetcher->calls.begin();
	struct fetch_request *request;

	thread_fetcher = fetcher;
	if (client)
		fetcher->calls.set_progressfn(client, abort_when_stopping);
	pthread_mutex_lock(&fetcher->lock);
	while (!atomic_load(&fetcher->stopping)) {
		request = next_pending(fetcher);
		if (request)
			fetch_one(client, fetcher, request);
		else
			pthread_cond_wait(&fetcher->work, &fetcher->lock);
	}
	pthread_mutex_unlock(&fetcher->lock);
	if (client)
		fetcher->calls.end(client);
	return NULL;
}

void debug_fetcher_free(struct debug_fetcher *fetcher)
{
	if (!fetcher)
		return;
	pthread_mutex_lock(&fetcher->lock);
	atomic_store(&fetcher->stopping, true);
	pthread_cond_broadcast(&fetcher->work);
	pthread_mutex_unlock(&fetcher->lock);
	if (fetcher->started)
		pthread_join(fetcher->thread, NULL);
	for (size_t i = 0; i < fetcher->nr_requests; i++)
		free(fetcher->requests[i].path);
	pthread_cond_destroy(&fetcher->work);
	pthread_cond_destroy(&fetcher->done);
	pthread_mutex_destroy(&fetcher->lock);
	dlclose(fetcher->calls.library);
	free(fetcher);
}

/* A new request, the thread started with the first; NULL when full. */
static struct fetch_request *add_request(struct debug_fetcher *fetcher,
					 const char *build_id)
{
	struct fetch_request *request;

	if (fetcher->nr_requests == DEBUG_FETCH_MAX)
		return NULL;
	if (!fetcher->started) {
		if (pthread_create(&fetcher->thread, NULL, fetch_loop, fetcher))
			return NULL;
		fetcher->started = true;
	}
	request = &fetcher->requests[fetcher->nr_requests++];
	snprintf(request->build_id, sizeof(request->build_id), "%s", build_id);
	request->state = FETCH_PENDING;
	fetcher->nr_pending++;
	pthread_cond_signal(&fetcher->work);
	return request;
}

enum fetch_state debug_fetch(struct debug_fetcher *fetcher, const char *build_id,
			     char *path, size_t size)
{
	struct fetch_request *request = NULL;
	enum fetch_state state;

	pthread_mutex_lock(&fetcher->lock);
	for (size_t i = 0; i < fetcher->nr_requests && !request; i++)
		if (!strcmp(fetcher->requests[i].build_id, build_id))
			request = &fetcher->requests[i];
	if (!request)
		request = add_request(fetcher, build_id);
	state = request ? request->state : FETCH_FAILED;
	if (state == FETCH_DONE)
		snprintf(path, size, "%s", request->path);
	pthread_mutex_unlock(&fetcher->lock);
	return state;
}

size_t debug_fetches_ended(struct debug_fetcher *fetcher)
{
	size_t ended;

	pthread_mutex_lock(&fetcher->lock);
	ended = fetcher->nr_ended;
	pthread_mutex_unlock(&fetcher->lock);
	return ended;
}

bool debug_fetcher_wait(struct debug_fetcher *fetcher, int timeout_ms)
{
	struct timespec until;
	bool settled;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fetcher->lock);
	while (fetcher->nr_pending &&
	       pthread_cond_timedwait(&fetcher->done, &fetcher->lock, &until) != ETIMEDOUT)
		;
	settled = !fetcher->nr_pending;
	pthread_mutex_unlock(&fetcher->lock);
	return settled;
}
