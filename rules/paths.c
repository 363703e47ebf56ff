/*
 * Default locations (paths.h): the XDG variables, the home folder from
 * the environment or the password database, and system folders last.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg.h"
#include "paths.h"

char *lg_home_dir(void)
{
	const char *e = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (e && *e)
		return strdup(e);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_dir &&
	    res->pw_dir[0] == '/' && strcmp(res->pw_dir, "/nonexistent") != 0)
		return strdup(res->pw_dir);
	return NULL;
}

int lg_path_trusted(const char *path, char *why, size_t len)
{
	struct stat ls, st;

	if (lstat(path, &ls) < 0)
		return errno == ENOENT ? LG_ENOTFOUND : LG_EIO;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? LG_ENOTFOUND : LG_EIO;
	/*
	 * Root's own files and folders are as safe as this user's (root can
	 * change anything anyway). A shared folder with the sticky bit (/tmp)
	 * lets others add names but not replace this user's files, and each
	 * file in it is checked on its own.
	 */
	if ((S_ISLNK(ls.st_mode) && ls.st_uid != geteuid() && ls.st_uid != 0) ||
	    (st.st_uid != geteuid() && st.st_uid != 0)) {
		snprintf(why, len, "%s belongs to user %ld, not to this user (%ld): another account could change "
			 "what leakgate trusts; make it this user's (chown) or point leakgate elsewhere",
			 path, (long)st.st_uid, (long)geteuid());
		return LG_EINVALID;
	}
	if ((st.st_mode & S_IWOTH) && !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))) {
		snprintf(why, len, "%s is writable by every user (mode %04o): chmod go-w %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		return LG_EINVALID;
	}
	if ((st.st_mode & S_IWGRP) && !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))) {
		snprintf(why, len, "%s is writable by its group (mode %04o): chmod g-w %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		return LG_EINVALID;
	}
	return LG_OK;
}

char *lg_dir_path(enum lg_dir which, const char *name)
{
	static const char *const xdg[] = {"XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"};
	static const char *const under_home[] = {".local/state", ".local/share", ".cache"};
	const char *e = getenv(xdg[which]);
	char *home = NULL, *p = NULL;
	int n;

	if (e && *e && e[0] == '/') {
		n = asprintf(&p, "%s/leakgate%s%s", e, name ? "/" : "", name ? name : "");
	} else if ((home = lg_home_dir())) {
		n = asprintf(&p, "%s/%s/leakgate%s%s", home, under_home[which], name ? "/" : "",
			     name ? name : "");
		free(home);
	} else {
		n = asprintf(&p, "%s%s%s", which == LG_DIR_CACHE ? LG_SYSTEM_CACHE_DIR : LG_SYSTEM_STATE_DIR,
			     name ? "/" : "", name ? name : "");
	}
	return n < 0 ? NULL : p;
}
