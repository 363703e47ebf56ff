-- A leakgate state database at schema version 2 (before migration 3),
-- as written by that version (sqlite3 .dump), with five audit events.
-- tests/api/upgrade.sh loads it and checks that the migration keeps everything.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE events ( id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, kind TEXT NOT NULL, repo TEXT NOT NULL DEFAULT '', pusher TEXT NOT NULL DEFAULT '', protocol TEXT NOT NULL DEFAULT '', refs TEXT NOT NULL DEFAULT '[]', findings TEXT NOT NULL DEFAULT '[]', reason TEXT NOT NULL DEFAULT '', exemptions TEXT NOT NULL DEFAULT '[]', duration_ms INTEGER NOT NULL DEFAULT 0, bytes_scanned INTEGER NOT NULL DEFAULT 0, objects_scanned INTEGER NOT NULL DEFAULT 0, ruleset TEXT NOT NULL DEFAULT '');
INSERT INTO events VALUES(1,1793354721786,'accepted','/srv/git/a.git','alice','ssh','[{"ref":"refs/heads/main","old":"0000000000000000000000000000000000000000","new":"1111111111111111111111111111111111111111"}]','[]','','[]',8,1200,3,'r1');
INSERT INTO events VALUES(2,1793354722786,'rejected','/srv/git/a.git','bob','http','[{"ref":"refs/heads/dev","old":"1111111111111111111111111111111111111111","new":"2222222222222222222222222222222222222222"}]','[{"rule_id":"aws-access-key-id","path":"x.env","line":1,"preview":"AKIA************","fingerprint":"00112233445566778899aabbccddeeff"}]','','[]',40,52000,10,'r1');
INSERT INTO events VALUES(3,1793354723786,'warned','/srv/git/b.git','carol','ssh','[]','[]','','[]',300,2000000,40,'r1');
INSERT INTO events VALUES(4,1793354724786,'failed','/srv/git/b.git','carol','ssh','[]','[]','','[]',61000,20000000,400,'r1');
INSERT INTO events VALUES(5,1793354725786,'accepted','/srv/git/b.git','alice','local','[]','[]','','[]',2,500,1,'r1');
CREATE TABLE rules ( id TEXT PRIMARY KEY, json TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, updated_by TEXT NOT NULL DEFAULT '');
CREATE TABLE rule_states ( id TEXT PRIMARY KEY, enabled INTEGER NOT NULL, updated_ms INTEGER NOT NULL, updated_by TEXT NOT NULL DEFAULT '');
CREATE TABLE exemptions ( id INTEGER PRIMARY KEY AUTOINCREMENT, repo_glob TEXT NOT NULL DEFAULT '*', fingerprint TEXT, rule_id TEXT, path_glob TEXT, reason TEXT NOT NULL, created_by TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, expires_ms INTEGER);
CREATE TABLE tokens ( id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL CHECK (role IN ('admin', 'read')), prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
CREATE TABLE webhook_cursors ( url TEXT PRIMARY KEY, last_event_id INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX events_time ON events(time_ms);
CREATE INDEX events_repo ON events(repo, time_ms);
CREATE INDEX tokens_prefix ON tokens(prefix);
PRAGMA user_version = 2;
COMMIT;
