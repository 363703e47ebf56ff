/* Subcommands of the leakgate command. */
#ifndef LG_CLI_H
#define LG_CLI_H

#include "lg.h"

/* Each returns the process exit status. */
int cmd_scan(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_exemptions(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_db(int argc, char **argv);
/* rules add|disable|enable|remove, argv[0] being the verb */
int cmd_rules_store(int argc, char **argv);
/* rules check-candidate: the isolated check leakgated runs (store/ops.h) */
int cmd_rules_check_candidate(void);

struct lg_store;
/*
 * Open the state database db (NULL: $LEAKGATE_DB or the default path),
 * creating it when create is set; NULL after saying why on stderr. With
 * path_out, the path used (or NULL) is stored there for the caller to free.
 */
struct lg_store *cli_open_store(const char *db, int create, char **path_out);

/* Print every entry of d on stderr, one line each, after a headline. */
void cli_print_diag(const char *headline, const struct lg_diag *d);

#endif
