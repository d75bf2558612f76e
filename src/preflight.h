/*
 * Pre-flight checks: what the options name exists and is usable (the
 * processes, the cgroup, the output file) before anything is loaded.
 * Each says why on stderr, in one line, when it fails.
 */
#ifndef PFWATCH_PREFLIGHT_H
#define PFWATCH_PREFLIGHT_H

#include <stdbool.h>
#include <sys/types.h>
#include "options.h"

/* Alive: exists and is not a zombie waiting for its parent. */
bool process_exists(pid_t pid);
/* Every -p process and the -t thread alive; 0, or -1. */
int check_pids(const struct options *opts);
/* --cgroup: a cgroup v2 directory's id (its inode number); 0, or -1. */
int cgroup_id_of(const char *path, unsigned long long *id);
/* -o: writable by @user (NULL: by us) at @uid/@gid; 0, or -1. */
int check_output_as(const char *path, const char *user, uid_t uid, gid_t gid);

#endif
