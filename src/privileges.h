/*
 * Privileges after loading: once the programs are attached and the ring
 * buffer is mapped, pfwatch keeps only the capabilities its reading and
 * writing need, and becomes --user if asked.
 */
#ifndef PFWATCH_PRIVILEGES_H
#define PFWATCH_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>

struct privilege_plan {
	const char *user;	/* --user NAME, or NULL to stay who we are */
	uid_t uid;		/* its IDs, from privileges_find_user() */
	gid_t gid;
	bool read_maps;		/* --where, --stacks, --min-latency: any /proc/PID/maps */
	bool write_anywhere;	/* -o as root: directories root does not own */
	bool signal_command;	/* pfwatch -- CMD: pass SIGTERM to a root command */
};

/* @user's IDs, looked up before loading; 0, or -1 after one line on stderr. */
int privileges_find_user(const char *user, uid_t *uid, gid_t *gid);
/*
 * Drops every capability but CAP_BPF (map access) and what @plan needs,
 * from the bounding set too, becomes @plan->user, and sets no_new_privs.
 * 0, or -1 after one line on stderr.
 */
int privileges_drop(const struct privilege_plan *plan, bool verbose);

#endif
