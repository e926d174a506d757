/// The store's schema history: a named, append-only list of steps. Each step commits together with
/// its record in `schema_migrations`; a store that knows a step this binary does not is refused.
public enum Migrations {
    public struct Step: Sendable {
        public let name: String
        public let sql: String
    }

    /// Never edit or reorder a shipped step: append a new one.
    public static let steps: [Step] = [
        Step(name: "0001_initial", sql: """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT,
            password_hash BLOB,
            password_salt BLOB,
            password_iterations INTEGER,
            created_at INTEGER NOT NULL,
            disabled_at INTEGER
        );
        CREATE TABLE apps (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE environments (
            id INTEGER PRIMARY KEY,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            upstream_url TEXT,
            command_json TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (app_id, name)
        );
        CREATE TABLE grants (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            env TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (user_id, app_id, env)
        );
        CREATE TABLE clients (
            client_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            redirect_uris TEXT NOT NULL,
            auth_method TEXT NOT NULL,
            secret_hash BLOB,
            registration TEXT NOT NULL CHECK (registration IN ('dcr', 'cimd', 'cli')),
            metadata TEXT,
            fingerprint TEXT,
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            blocked_at INTEGER,
            expires_at INTEGER
        );
        CREATE INDEX clients_fingerprint ON clients (fingerprint);
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('pat', 'access', 'refresh')),
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            client_id TEXT REFERENCES clients(client_id) ON DELETE CASCADE,
            name TEXT,
            secret_hash BLOB NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            scopes TEXT NOT NULL,
            app TEXT,
            env TEXT,
            ttl_seconds INTEGER,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            last_used_at INTEGER,
            revoked_at INTEGER,
            revoked_reason TEXT,
            family_id TEXT,
            parent_id TEXT,
            used_at INTEGER,
            rotated_from TEXT,
            introspection INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX tokens_user ON tokens (user_id, kind);
        CREATE INDEX tokens_client ON tokens (client_id);
        CREATE INDEX tokens_family ON tokens (family_id);
        CREATE TABLE consents (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
            app TEXT NOT NULL,
            env TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, client_id, app, env)
        );
        CREATE TABLE auth_codes (
            code_hash BLOB PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            redirect_uri TEXT NOT NULL,
            code_challenge TEXT NOT NULL,
            app TEXT NOT NULL,
            env TEXT NOT NULL,
            resource TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            family_id TEXT
        );
        CREATE TABLE tools (
            app TEXT NOT NULL,
            env TEXT NOT NULL,
            name TEXT NOT NULL,
            annotations TEXT,
            description TEXT,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY (app, env, name)
        );
        CREATE TABLE tool_scopes (
            app TEXT NOT NULL,
            tool TEXT NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'delete')),
            set_at INTEGER NOT NULL,
            PRIMARY KEY (app, tool)
        );
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT,
            email TEXT,
            token_id TEXT,
            client_id TEXT,
            app TEXT,
            env TEXT,
            method TEXT,
            tool TEXT,
            decision TEXT,
            reason TEXT,
            status INTEGER,
            duration_ms REAL,
            remote_addr TEXT,
            target TEXT,
            args_digest TEXT,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);
        CREATE INDEX audit_email_at ON audit (email, at);
        CREATE INDEX audit_token_at ON audit (token_id, at);
        CREATE INDEX audit_client_at ON audit (client_id, at);
        CREATE INDEX audit_app_at ON audit (app, env, at);
        CREATE INDEX audit_tool_at ON audit (tool, at);
        CREATE INDEX audit_action_at ON audit (action, at);
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash BLOB NOT NULL,
            pruned_before_seq INTEGER NOT NULL DEFAULT 0,
            pruned_prev_hash BLOB
        );
        CREATE TABLE login_failures (
            key TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX login_failures_key ON login_failures (key, at);
        """),
        // No cache may outlive a change: one counter that every change to what decides a
        // request (users, apps, environments, grants, tools, tool scopes, clients, tokens) bumps in the
        // same transaction, from any process, including a hand-edit with the sqlite3 shell. The gateway keeps
        // those rows in memory for one value of the counter and reads only the counter per request
        // (Sources/MCPAuth/Access/AccessCache.swift). `PRAGMA data_version` cannot serve: the audit writer
        // commits to the same file many times a second. `last_used_at` is left out on purpose (written in
        // batches, decides nothing). A later step that adds a column to tokens or clients must add it to
        // their UPDATE OF lists. The counter starts at a random value so that two stores never share one.
        Step(name: "0002_policy_generation", sql: """
        CREATE TABLE policy_generation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        );
        INSERT INTO policy_generation (id, value) VALUES (1, abs(random() / 4));
        CREATE TRIGGER users_policy_insert AFTER INSERT ON users BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER users_policy_delete AFTER DELETE ON users BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER users_policy_update AFTER UPDATE ON users BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER apps_policy_insert AFTER INSERT ON apps BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER apps_policy_delete AFTER DELETE ON apps BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER apps_policy_update AFTER UPDATE ON apps BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER environments_policy_insert AFTER INSERT ON environments BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER environments_policy_delete AFTER DELETE ON environments BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER environments_policy_update AFTER UPDATE ON environments BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER grants_policy_insert AFTER INSERT ON grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER grants_policy_delete AFTER DELETE ON grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER grants_policy_update AFTER UPDATE ON grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tools_policy_insert AFTER INSERT ON tools BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tools_policy_delete AFTER DELETE ON tools BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tools_policy_update AFTER UPDATE ON tools BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tool_scopes_policy_insert AFTER INSERT ON tool_scopes BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tool_scopes_policy_delete AFTER DELETE ON tool_scopes BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tool_scopes_policy_update AFTER UPDATE ON tool_scopes BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER clients_policy_insert AFTER INSERT ON clients BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER clients_policy_delete AFTER DELETE ON clients BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER clients_policy_update AFTER UPDATE OF client_id, name, redirect_uris, auth_method, secret_hash, registration, metadata, fingerprint, created_at, blocked_at, expires_at ON clients BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tokens_policy_insert AFTER INSERT ON tokens BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tokens_policy_delete AFTER DELETE ON tokens BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tokens_policy_update AFTER UPDATE OF id, kind, user_id, client_id, name, secret_hash, hint, scopes, app, env, ttl_seconds, created_at, expires_at, revoked_at, revoked_reason, family_id, parent_id, used_at, rotated_from, introspection ON tokens BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        """),
        // Which user opened each MCP session on an HTTP upstream, so that a session id seen by another user
        // is worthless, across restarts too (MCP security best practices, "session hijacking"). Only the
        // SHA-256 of the id is kept: for the upstream it is a bearer value.
        Step(name: "0003_mcp_sessions", sql: """
        CREATE TABLE mcp_sessions (
            id_hash BLOB PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            app TEXT NOT NULL,
            env TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX mcp_sessions_created ON mcp_sessions (created_at);
        """),
        // How long each environment's upstream may take to answer, in milliseconds; NULL: the server's default.
        Step(name: "0004_environment_timeout", sql: """
        ALTER TABLE environments ADD COLUMN timeout_ms INTEGER CHECK (timeout_ms IS NULL OR timeout_ms > 0);
        """),
        // Signed-in browsers, kept across restarts. Only the SHA-256 of the cookie is stored; `id` is the
        // public name operators see and end sessions by. Idle and absolute limits are checked at lookup.
        Step(name: "0005_browser_sessions", sql: """
        CREATE TABLE browser_sessions (
            id TEXT PRIMARY KEY,
            secret_hash BLOB NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            remote_addr TEXT,
            user_agent TEXT
        );
        CREATE INDEX browser_sessions_user ON browser_sessions (user_id);
        CREATE INDEX browser_sessions_last_seen ON browser_sessions (last_seen_at);
        """),
        // Upstream credentials by reference only (`env:VAR` / `file:PATH`, as JSON arrays of {name, reference}):
        // their values are read by `serve` and never stored. Tool pins: per app/env and tool, the SHA-256 of
        // the canonical definition an operator accepted (NULL: a new tool held for approval) and, while the
        // upstream offers a different one, that pending definition; a tool with a pending hash is quarantined.
        // Pins decide requests, so they bump the policy generation like the other tables that do.
        Step(name: "0006_upstream_credentials", sql: """
        ALTER TABLE environments ADD COLUMN upstream_headers_json TEXT;
        ALTER TABLE environments ADD COLUMN env_vars_json TEXT;
        CREATE TABLE tool_pins (
            app TEXT NOT NULL,
            env TEXT NOT NULL,
            name TEXT NOT NULL,
            approved_hash TEXT,
            approved_definition TEXT,
            pending_hash TEXT,
            pending_definition TEXT,
            pinned_at INTEGER NOT NULL,
            changed_at INTEGER,
            approved_at INTEGER,
            PRIMARY KEY (app, env, name)
        );
        CREATE TRIGGER tool_pins_policy_insert AFTER INSERT ON tool_pins BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tool_pins_policy_delete AFTER DELETE ON tool_pins BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER tool_pins_policy_update AFTER UPDATE ON tool_pins BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        """),
        // Groups of users, their members, and grants to a group: a member's effective grants are their own
        // and their groups'. Every change bumps the policy generation (0002) like a change to `grants`, so a
        // membership removed from the shell is honoured on the gateway's next request. `idp_group` is the
        // value of an identity provider's groups claim that the group follows (NULL: managed by hand).
        Step(name: "0007_groups", sql: """
        CREATE TABLE user_groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            idp_group TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE group_members (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            group_id INTEGER NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
            added_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, group_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_members_group ON group_members (group_id);
        CREATE TABLE group_grants (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            env TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (group_id, app_id, env)
        );
        CREATE TRIGGER user_groups_policy_insert AFTER INSERT ON user_groups BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER user_groups_policy_delete AFTER DELETE ON user_groups BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER user_groups_policy_update AFTER UPDATE ON user_groups BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_members_policy_insert AFTER INSERT ON group_members BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_members_policy_delete AFTER DELETE ON group_members BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_members_policy_update AFTER UPDATE ON group_members BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_grants_policy_insert AFTER INSERT ON group_grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_grants_policy_delete AFTER DELETE ON group_grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER group_grants_policy_update AFTER UPDATE ON group_grants BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        """),
        Step(name: "0009_issuers", sql: """
        CREATE TABLE outside_issuers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            issuer TEXT NOT NULL UNIQUE,
            audience TEXT,
            introspection_url TEXT,
            client_id TEXT,
            client_secret_file TEXT,
            email_claim TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TRIGGER outside_issuers_policy_insert AFTER INSERT ON outside_issuers BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER outside_issuers_policy_delete AFTER DELETE ON outside_issuers BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER outside_issuers_policy_update AFTER UPDATE ON outside_issuers BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
        """),
        // OpenID Connect providers users sign in with. `client_secret_file` is a path: the secret is read
        // at each token request and never copied here. `allowed_domains` is space-separated.
        Step(name: "0010_identity_providers", sql: """
        CREATE TABLE identity_providers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            client_secret_file TEXT NOT NULL,
            scopes TEXT NOT NULL,
            groups_claim TEXT,
            allowed_domains TEXT NOT NULL,
            create_users INTEGER NOT NULL,
            trust_email INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        """),
        // Bounds on what an outside identity may speak for. `user_groups.idp` names the identity provider
        // whose groups claim an `idp_group` mapping follows (a mapping made while exactly one provider
        // existed is bound to it; with several it stays unbound and follows none). `outside_issuers`
        // gets the email domains its tokens may name (space-separated; empty: any) and the prefix that
        // attributes an opaque token to it for introspection.
        Step(name: "0011_identity_bounds", sql: """
        ALTER TABLE user_groups ADD COLUMN idp TEXT;
        UPDATE user_groups SET idp = (SELECT name FROM identity_providers)
            WHERE idp_group IS NOT NULL AND (SELECT count(*) FROM identity_providers) = 1;
        ALTER TABLE outside_issuers ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '';
        ALTER TABLE outside_issuers ADD COLUMN token_prefix TEXT;
        """),
        // Rate limits shared by every server on one PostgreSQL store: per key, the time (Unix milliseconds)
        // at which its allowance is whole again (the generic cell rate algorithm's theoretical arrival time).
        Step(name: "0012_rate_limits", sql: """
        CREATE TABLE rate_limits (
            key TEXT PRIMARY KEY,
            tat INTEGER NOT NULL
        );
        """),
        // Browser flows in progress (an authorization awaiting sign-in and consent, an SSO sign-in awaiting
        // the provider's callback), shared by every replica on the store. Only the SHA-256 of each flow's id
        // and of its browser's binding cookie are kept; `address` bounds how many one visitor may hold.
        Step(name: "0013_pending_flows", sql: """
        CREATE TABLE pending_flows (
            id_hash BLOB PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('authorization', 'sso')),
            browser_hash BLOB NOT NULL,
            body TEXT NOT NULL,
            notice TEXT,
            address TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX pending_flows_expires ON pending_flows (expires_at);
        CREATE INDEX pending_flows_address ON pending_flows (address, expires_at);
        """),
        // Which identity at which provider (OpenID Connect `iss` is the provider; `sub` its subject) signs
        // a user in. The first sign-in binds it; afterwards only that subject signs that user in, so an
        // email the provider later gives to another account does not hand it this user. Provider names are
        // kept lower-cased (they are compared without case elsewhere).
        Step(name: "0014_sso_subjects", sql: """
        CREATE TABLE sso_subjects (
            idp TEXT NOT NULL,
            subject TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            bound_at INTEGER NOT NULL,
            PRIMARY KEY (idp, subject)
        );
        CREATE UNIQUE INDEX sso_subjects_user ON sso_subjects (idp, user_id);
        """),
    ]

    /// Applies every step the store lacks, each in its own immediate transaction, and refuses a store
    /// that records a step this binary does not know (it was written by a newer mcpctl).
    public static func apply(to db: Database) throws {
        // Every connection a server's pool opens passes here. On SQLite the statement is a no-op once the
        // table exists and must not take the write lock (BEGIN IMMEDIATE would wait behind the audit writer's
        // commits, stalling the request that needed the connection); PostgreSQL serialises concurrent
        // creators in a transaction.
        let create = "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
        if db.dialect == .postgres { try db.write { try db.execute(create) } } else { try db.execute(create) }
        let known = Set(steps.map(\.name))
        let applied = try db.query("SELECT name FROM schema_migrations").compactMap { $0.string("name") }
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StoreError.newerStore(path: StoreLocation(db.path).display, migration: unknown)
        }
        for step in steps where !applied.contains(step.name) {
            try db.write {
                // Another process may have applied it while we waited for the lock.
                if try db.first("SELECT 1 FROM schema_migrations WHERE name = ?", [.text(step.name)]) != nil { return }
                try db.execute(step.sql)
                try db.run("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", [.text(step.name), .integer(Clock.nowMillis())])
            }
        }
    }
}
