/*
 * 0001-init.sql: the registry's first schema: projects and their tags,
 * sessions, API tokens, and the default project of ad-hoc sessions.
 * Times are ms since the epoch; NULL means unset. Applied in one transaction.
 */

CREATE TABLE projects (
	id            TEXT PRIMARY KEY,     -- 'PREFIX-xxxxxxxx', or 'default'
	prefix        TEXT NOT NULL,
	path          TEXT,                 -- NULL: the managed workspace state/projects/<id>
	managed       INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)),
	description   TEXT NOT NULL DEFAULT '',
	pinned        INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL,
	last_activity INTEGER NOT NULL,
	expires_at    INTEGER,              -- NULL: never
	CHECK (path IS NOT NULL OR managed = 1)
) STRICT;
CREATE INDEX projects_prefix ON projects (prefix);
-- One project per directory: "which project is this directory?" has one answer.
CREATE UNIQUE INDEX projects_path ON projects (path) WHERE path IS NOT NULL;

-- A row per tag rather than a JSON array: the tag filter is an index
-- lookup, duplicates are impossible, and it maps 1:1 onto PostgreSQL.
CREATE TABLE project_tags (
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	tag        TEXT NOT NULL,
	PRIMARY KEY (project_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX project_tags_tag ON project_tags (tag);

CREATE TABLE sessions (
	id             TEXT PRIMARY KEY CHECK (length(id) = 12),
	-- RESTRICT: a project's sessions are removed explicitly (store_project_delete with STORE_FORCE)
	project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
	name           TEXT NOT NULL,
	bound          INTEGER NOT NULL DEFAULT 1 CHECK (bound IN (0, 1)), -- holds its name
	-- CASE, not AND: json_type() raises an error on malformed JSON
	command        TEXT NOT NULL CHECK (CASE WHEN json_valid(command)
	                                    THEN json_type(command) = 'array' ELSE 0 END),
	cwd            TEXT NOT NULL,
	env            TEXT NOT NULL DEFAULT '{}'
	               CHECK (CASE WHEN json_valid(env) THEN json_type(env) = 'object' ELSE 0 END),
	resume_command TEXT CHECK (resume_command IS NULL OR
	                           CASE WHEN json_valid(resume_command)
	                           THEN json_type(resume_command) = 'array' ELSE 0 END),
	state          TEXT NOT NULL CHECK (state IN ('starting', 'running', 'exited', 'lost')),
	exit_status    INTEGER,
	holder_pid     INTEGER,
	child_pid      INTEGER,
	created        INTEGER NOT NULL,
	started        INTEGER,
	ended          INTEGER,
	run            INTEGER NOT NULL DEFAULT 1 CHECK (run >= 1),
	cols           INTEGER NOT NULL DEFAULT 80 CHECK (cols > 0),
	rows           INTEGER NOT NULL DEFAULT 24 CHECK (rows > 0),
	bytes          INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0)
) STRICT;
-- Names are unique among the sessions of a project that hold them; a
-- taken-over session keeps its name for display but is reached by id.
CREATE UNIQUE INDEX sessions_bound_name ON sessions (project_id, name) WHERE bound = 1;
CREATE INDEX sessions_name ON sessions (name) WHERE bound = 1;
CREATE INDEX sessions_project_state ON sessions (project_id, state);
CREATE INDEX sessions_state ON sessions (state);

CREATE TABLE tokens (
	id        INTEGER PRIMARY KEY,
	name      TEXT NOT NULL UNIQUE,
	hash      TEXT NOT NULL UNIQUE CHECK (length(hash) = 64), -- SHA-256 hex; never the token
	read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
	created   INTEGER NOT NULL,
	last_used INTEGER
) STRICT;

INSERT INTO projects (id, prefix, path, managed, description, pinned,
                      created, updated, last_activity)
VALUES ('default', 'default', NULL, 1, 'sessions started without a project', 1,
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
