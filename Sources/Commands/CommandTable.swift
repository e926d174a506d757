import MCPAuth

/// The one table of every command, option and argument. The parser, `--help`, completions and the man
/// page are all rendered from it, so they cannot disagree.
public enum CommandTable {
    public static let version = "0.1.0"

    static let durationHelp = "a duration like 30m, 24h, 90d"
    static let scopeValues = CompletionHint.values(["read", "write", "delete", "read,write", "read,write,delete"])

    public static let globalOptions: [OptionSpec] = [
        OptionSpec("db", value: "PATH", help: "Path of the store, or a postgresql:// URL (default: $MCPCTL_DB, else $XDG_DATA_HOME/mcpctl/mcpctl.db, else ~/.local/share/mcpctl/mcpctl.db).", completion: .file),
        OptionSpec("json", help: "Machine output: one JSON value on stdout (RFC 3339 UTC times, snake_case keys)."),
    ]

    static let email = ArgumentSpec("EMAIL", help: "The user's email address (case-insensitive).")
    static let emailOption = OptionSpec("email", value: "EMAIL", help: "The user's email address.")
    static let appOption = OptionSpec("app", value: "APP", help: "The app (one upstream MCP server family).")
    static let envOption = OptionSpec("env", value: "ENV", help: "The environment of the app (e.g. production).")
    static let optionalEmail = ArgumentSpec("EMAIL", help: "The user's email address (case-insensitive); omit it with --group.", optional: true)
    static let groupName = ArgumentSpec("NAME", help: "The group's name: printable text, at most 64 characters, compared ignoring ASCII case.")
    static func groupOption(_ help: String) -> OptionSpec { OptionSpec("group", value: "NAME", help: help) }

    /// `--upstream-header` and `--env-var`, on `app add` and `app update`.
    static func credentialOptions(update: Bool) -> [OptionSpec] {
        let removal = update ? "; NAME= removes it" : ""
        return [
            OptionSpec("upstream-header", value: "NAME=REF", help: "Send header NAME to this HTTP upstream, its value read by serve from REF: env:VAR (serve's environment) or file:PATH (mode 0600 or stricter). Repeatable\(removal). Host, Content-Length, Transfer-Encoding, Connection, Cookie and Mcp-* are refused.", repeating: true),
            OptionSpec("env-var", value: "NAME=REF", help: "Set environment variable NAME for this stdio upstream's processes, its value read by serve from REF: env:VAR or file:PATH. Repeatable\(removal).", repeating: true),
        ]
    }

    static let auditFilters: [OptionSpec] = [
        OptionSpec("since", value: "WHEN", help: "Only events at or after WHEN: \(durationHelp) ago, or an RFC 3339 time."),
        OptionSpec("until", value: "WHEN", help: "Only events before WHEN: \(durationHelp) ago, or an RFC 3339 time."),
        OptionSpec("source", value: "SOURCE", help: "Only events from \(AuditSource.names).", completion: .values(AuditSource.allCases.map(\.rawValue))),
        OptionSpec("email", value: "EMAIL", help: "Only events of this user."),
        OptionSpec("client", value: "CLIENT_ID", help: "Only events of this OAuth client."),
        OptionSpec("token", value: "ID", help: "Only events of this token."),
        OptionSpec("app", value: "APP", help: "Only events on this app."),
        OptionSpec("env", value: "ENV", help: "Only events on this environment."),
        OptionSpec("tool", value: "TOOL", help: "Only calls of this tool."),
        OptionSpec("action", value: "ACTION", help: "Only this action (e.g. tools/call, token.revoke)."),
        OptionSpec("decision", value: "DECISION", help: "Only events with this decision: \(AuditDecision.names).", completion: .values(AuditDecision.allCases.map(\.rawValue))),
    ]

    public static let root = CommandSpec(
        "mcpctl",
        abstract: "Authentication, authorization and audit for MCP servers.",
        discussion: """
        mcpctl keeps users, tokens, OAuth clients, grants and an audit log in one local SQLite store. \
        'mcpctl serve' runs an OAuth 2.1 authorization server and an MCP gateway over that store; every other \
        command administers it from the shell. Changes made here take effect on the server's very next request.
        """,
        subcommands: [
            CommandSpec("init", abstract: "Create the store and print where it is; on an existing store, change nothing and say so.",
                        discussion: "A store is created only on purpose: by 'init', 'serve --quickstart', and the commands that add the first record ('user add', 'app add'); every other command on a missing store fails and names the path. The store's directory is created with mode 0700 and the store with mode 0600; a directory other users can write to, or a store they can read, is refused."),
            CommandSpec("user", abstract: "Manage users.", subcommands: [
                CommandSpec("add", abstract: "Add a user.", arguments: [email], options: [
                    OptionSpec("name", value: "NAME", help: "Display name."),
                    OptionSpec("password-stdin", help: "Read the password (for the OAuth login page) from the first line of standard input."),
                ], examples: ["mcpctl user add alice@example.com --name 'Alice'", "printf '%s\\n' 'correct horse battery staple' | mcpctl user add bob@example.com --password-stdin"]),
                CommandSpec("list", abstract: "List users."),
                CommandSpec("show", abstract: "Show one user with their grants and live tokens.", arguments: [email]),
                CommandSpec("disable", abstract: "Disable a user and revoke every credential they hold, at once.", arguments: [email]),
                CommandSpec("enable", abstract: "Enable a disabled user (revoked credentials stay revoked).", arguments: [email]),
                CommandSpec("remove", abstract: "Remove a user with their tokens, grants and consents.", arguments: [email]),
                CommandSpec("passwd", abstract: "Set a user's password.", arguments: [email], options: [
                    OptionSpec("password-stdin", help: "Read the password from the first line of standard input."),
                ]),
            ]),
            CommandSpec("app", abstract: "Manage apps and their environments (upstream MCP servers).", subcommands: [
                CommandSpec("add", abstract: "Add an environment of an app, served at /mcp/APP/ENV.",
                            discussion: "Give exactly one of --upstream (a Streamable HTTP MCP server) or --command (a stdio MCP server, started per session; the command line is split with shell-like quoting but never run through a shell). An upstream that needs its own key gets it by reference: --upstream-header (HTTP) or --env-var (stdio) names an environment variable of 'serve' (env:VAR) or a file only its owner can read (file:PATH, one trailing newline stripped). Only the reference is stored and shown; 'serve' reads the values when it starts (a missing one stops it, naming the reference) and again on SIGHUP, and sends each only to this upstream. A stdio server starts with a clean environment: PATH, HOME, LANG and TZ, plus its --env-var values.",
                            arguments: [ArgumentSpec("APP", help: "The app name.")], options: [
                    OptionSpec("env", value: "ENV", help: "The environment name (e.g. production).", required: true),
                    OptionSpec("upstream", value: "URL", help: "The upstream's Streamable HTTP endpoint (http or https)."),
                    OptionSpec("command", value: "CMD", help: "The command line of a stdio MCP server."),
                    OptionSpec("timeout", value: "DURATION", help: "How long this upstream may take to answer, e.g. 30s or 2m, from 1s to 24h; slower calls are answered 504 (default: serve's --upstream-timeout)."),
                ] + credentialOptions(update: false), examples: ["mcpctl app add notes --env production --upstream http://127.0.0.1:9000/mcp", "mcpctl app add files --env local --command 'python3 server.py --root /srv'"]),
                CommandSpec("update", abstract: "Change an environment's upstream, timeout or credential references.",
                            discussion: "Only what is given changes. --upstream-header and --env-var add or replace one reference by name; NAME= with no reference removes it. Switching between --upstream and --command needs the other kind's references removed first. A running 'serve' uses new references after a restart or SIGHUP.",
                            arguments: [ArgumentSpec("APP", help: "The app name.")], options: [
                    OptionSpec("env", value: "ENV", help: "The environment to change.", required: true),
                    OptionSpec("upstream", value: "URL", help: "A new Streamable HTTP endpoint (replaces a command)."),
                    OptionSpec("command", value: "CMD", help: "A new stdio server command line (replaces a URL)."),
                    OptionSpec("timeout", value: "DURATION", help: "A new answer timeout, from 1s to 24h."),
                ] + credentialOptions(update: true), examples: ["mcpctl app update notes --env production --upstream-header 'Authorization=env:NOTES_UPSTREAM_AUTHORIZATION'",
                                 "mcpctl app update notes --env production --upstream-header 'Authorization='   # remove it again"]),
                CommandSpec("show", abstract: "Show an app's environments: upstream, timeout and credential references (never their values).",
                            arguments: [ArgumentSpec("APP", help: "The app name.")], options: [OptionSpec("env", value: "ENV", help: "Only this environment.")]),
                CommandSpec("list", abstract: "List apps and environments."),
                CommandSpec("remove", abstract: "Remove an environment, or a whole app.", arguments: [ArgumentSpec("APP", help: "The app name.")],
                            options: [OptionSpec("env", value: "ENV", help: "Remove only this environment.")]),
            ]),
            CommandSpec("tool", abstract: "Inspect tools, set the scope each needs, and approve changed tools.", subcommands: [
                CommandSpec("list", abstract: "List the tools the gateway has seen, with the scope each needs and why, and its pin state.",
                            arguments: [ArgumentSpec("APP", help: "The app name.")], options: [envOption]),
                CommandSpec("scope", abstract: "Set the scope a tool needs (auto: follow its annotations).",
                            arguments: [ArgumentSpec("APP", help: "The app name."), ArgumentSpec("TOOL", help: "The tool name."),
                                        ArgumentSpec("SCOPE", help: "read, write, delete or auto.", completion: .values(["read", "write", "delete", "auto"]))]),
                CommandSpec("approve", abstract: "Accept a held tool's new definition; it is listed and callable again.",
                            discussion: "The gateway pins each tool's definition (name, title, description, schemas, annotations) the first time it sees it. When an upstream later offers a different definition, the tool is held: hidden from tools/list and refused on tools/call (audited as tool_changed) until approved here. Review the change with 'mcpctl tool diff' first. Approving an unknown or unchanged tool is an error.",
                            arguments: [ArgumentSpec("APP", help: "The app name."), ArgumentSpec("TOOL", help: "The tool name.")],
                            options: [OptionSpec("env", value: "ENV", help: "Only this environment (default: every environment where the tool is held).")],
                            examples: ["mcpctl tool diff notes search_notes   # exit 0 when a change waits for approval, 1 when none",
                                       "mcpctl tool approve notes search_notes --env production   # exit 1 when nothing is held"]),
                CommandSpec("diff", abstract: "Show how a held tool's definition changed, as a unified diff; exit 0 if a change is pending, 1 if none.",
                            discussion: "Compares the approved canonical definition with the one the upstream offers now. Text from the upstream is shown with control characters and escape sequences made visible, and long lines are cut.",
                            arguments: [ArgumentSpec("APP", help: "The app name."), ArgumentSpec("TOOL", help: "The tool name.")],
                            options: [OptionSpec("env", value: "ENV", help: "Only this environment.")]),
            ]),
            CommandSpec("group", abstract: "Manage groups of users; a grant to a group applies to every member.",
                        discussion: "A member's effective access is the union of their own grants and their groups' ('mcpctl grant add --group'). Adding or removing a member, or changing a group's grants, takes effect on the server's next request. A disabled user gets nothing through a group.",
                        subcommands: [
                CommandSpec("add", abstract: "Add a group.", arguments: [groupName], options: [
                    OptionSpec("idp-group", value: "VALUE", help: "The value of the identity provider's groups claim this group follows: at each single sign-on with that provider its members are added or removed to match."),
                    OptionSpec("idp", value: "NAME", help: "The identity provider whose groups claim --idp-group reads; sign-ins with any other provider never change this group. Required when there are several providers; with one it is that one, and with none yet the first one added."),
                ], examples: ["mcpctl group add eng", "mcpctl group add ops --idp-group 'platform-operators'"]),
                CommandSpec("list", abstract: "List groups with their number of members and grants."),
                CommandSpec("show", abstract: "Show one group with its members and grants.", arguments: [groupName]),
                CommandSpec("remove", abstract: "Remove a group with its memberships and grants.", arguments: [groupName]),
                CommandSpec("member", abstract: "Add users to a group or remove them.", subcommands: [
                    CommandSpec("add", abstract: "Make a user a member of a group.", arguments: [groupName, email],
                                examples: ["mcpctl group member add eng alice@example.com"]),
                    CommandSpec("remove", abstract: "End a user's membership of a group; what the group granted is gone on the next request.",
                                arguments: [groupName, email]),
                ]),
            ]),
            CommandSpec("issuer", abstract: "Accept access tokens from an outside authorization server (your organization's IdP).",
                        discussion: "The gateway then accepts that issuer's JWT access tokens (RS256 or ES256, checked against the JWKS named in its OpenID or RFC 8414 metadata; 'aud' must be the resource URL or --audience; 'exp' checked) and, with --introspection-url, its opaque tokens through RFC 7662 introspection (answers kept at most 60 seconds, never past 'exp'; an opaque token is sent only to the one issuer it belongs to, by --token-prefix, or to the only issuer that introspects without one). A token is mapped to the mcpctl user named by its email claim; a user mcpctl does not know is refused. The token's scopes (read, write, delete in 'scope' or 'scp'; read when it has neither) are intersected with the user's grants. Every request is audited with the issuer's name.",
                        subcommands: [
                CommandSpec("add", abstract: "Add an outside issuer.", arguments: [ArgumentSpec("NAME", help: "A name for the issuer: 1 to 64 letters, digits, '.', '_' or '-'.")], options: [
                    OptionSpec("issuer", value: "URL", help: "The issuer identifier, exactly as the tokens' 'iss' claim says it (https; plain http only on a loopback host).", required: true),
                    OptionSpec("audience", value: "AUD", help: "An 'aud' value accepted besides the resource URL (https://HOST/mcp/APP/ENV), for issuers that cannot put the resource in the audience."),
                    OptionSpec("introspection-url", value: "URL", help: "The issuer's RFC 7662 introspection endpoint, for opaque (non-JWT) tokens; needs --client-id and --client-secret-file."),
                    OptionSpec("client-id", value: "ID", help: "The client ID mcpctl authenticates with at the introspection endpoint."),
                    OptionSpec("client-secret-file", value: "PATH", help: "A file holding that client's secret, readable by its owner only (chmod 600); only its path is stored, and it is read at each introspection.", completion: .file),
                    OptionSpec("email-claim", value: "CLAIM", help: "The claim holding the user's email address (default: email). A token whose email_verified is present and not true is refused."),
                    OptionSpec("allowed-domain", value: "DOMAIN", help: "Only users of this email domain may be named by this issuer's tokens (exact; '*.example.com' for its subdomains). Repeat for several; without it the issuer may speak for any user, operators included.", repeating: true),
                    OptionSpec("token-prefix", value: "PREFIX", help: "How this issuer's opaque tokens start: only tokens with this prefix are sent to its introspection endpoint. Needed when another issuer already introspects, so that no issuer is sent another's tokens."),
                ], examples: ["mcpctl issuer add corp --issuer https://login.example.com --allowed-domain example.com",
                              "printf '%s\\n' 'introspection-secret' > partner-secret && chmod 600 partner-secret",
                              "mcpctl issuer add partner --issuer https://id.partner.example --introspection-url https://id.partner.example/introspect --client-id mcpctl --client-secret-file partner-secret --token-prefix ptr_ --allowed-domain partner.example",
                              "mcpctl issuer add entra --issuer https://login.microsoftonline.com/TENANT/v2.0 --audience api://mcp --email-claim preferred_username"]),
                CommandSpec("list", abstract: "List the outside issuers."),
                CommandSpec("remove", abstract: "Remove an outside issuer; its tokens are refused from the server's next request.",
                            arguments: [ArgumentSpec("NAME", help: "The issuer's name.")]),
            ]),
            CommandSpec("idp", abstract: "Let users sign in with your organization's OpenID Connect identity provider (single sign-on).",
                        discussion: "The sign-in pages then offer \"Sign in with NAME\": the authorization code flow with PKCE, state and nonce. Register PUBLIC_URL/login/sso/NAME/callback as the redirect URI at the provider. The ID token must be signed (RS256 or ES256) by a key of the provider's JWKS, for this client, with the nonce of the sign-in. A user's first sign-in binds their account at the provider (the ID token's sub) to them, matched by verified email; afterwards only that account signs them in (see 'mcpctl idp unbind'). Groups added with --idp-group (bound to one provider, see 'mcpctl group add --idp') follow that provider's groups claim at every sign-in. Refused sign-ins are audited with source sso and count toward the login throttle.",
                        subcommands: [
                CommandSpec("add", abstract: "Add an identity provider.", arguments: [ArgumentSpec("NAME", help: "A name for the provider, shown on the sign-in button and in its URLs: 1 to 64 letters, digits, '.', '_' or '-'.")], options: [
                    OptionSpec("issuer", value: "URL", help: "The provider's issuer, exactly as its discovery document and ID tokens say it (https; plain http only on a loopback host).", required: true),
                    OptionSpec("client-id", value: "ID", help: "The client ID mcpctl was given when registered at the provider.", required: true),
                    OptionSpec("client-secret-file", value: "PATH", help: "A file holding that client's secret, readable by its owner only (chmod 600); only its path is stored, and it is read at each sign-in.", required: true, completion: .file),
                    OptionSpec("scopes", value: "SCOPES", help: "The scopes asked for, space-separated; must include openid (default: 'openid email profile')."),
                    OptionSpec("groups-claim", value: "CLAIM", help: "The ID-token claim listing the user's groups; groups added with --idp-group follow it at every sign-in (an absent claim removes those memberships)."),
                    OptionSpec("allowed-domain", value: "DOMAIN", help: "Only emails of this domain may sign in (exact; '*.example.com' for its subdomains). Repeat for several; without it any domain may.", repeating: true),
                    OptionSpec("create-users", help: "Create an unknown user (without a password) at first sign-in; only for an --allowed-domain."),
                    OptionSpec("trust-email", help: "Accept the provider's email without email_verified: true (only for providers whose emails are all verified)."),
                ], examples: ["printf '%s\\n' 'the-client-secret' > corp-secret && chmod 600 corp-secret",
                              "mcpctl idp add corp --issuer https://login.example.com --client-id mcpctl --client-secret-file corp-secret --allowed-domain example.com",
                              "mcpctl idp add okta --issuer https://example.okta.com --client-id 0oa1 --client-secret-file corp-secret --groups-claim groups --allowed-domain example.com --create-users",
                              "mcpctl group add operators --idp-group mcp-admins --idp okta   # with several providers, name the one whose groups claim it follows"]),
                CommandSpec("list", abstract: "List the identity providers."),
                CommandSpec("remove", abstract: "Remove an identity provider; its sign-in button disappears and the --idp-group mappings bound to it are dropped. Users it created and group members stay.",
                            arguments: [ArgumentSpec("NAME", help: "The provider's name.")]),
                CommandSpec("unbind", abstract: "Let a user sign in with another account at the provider: the next sign-in naming their email binds that account.",
                            discussion: "A user's first single sign-on binds the provider's subject (the ID token's sub) to them; afterwards only that account at the provider signs them in, and another account naming the same email is refused. Unbind when the person's account at the provider was replaced.",
                            arguments: [ArgumentSpec("NAME", help: "The provider's name."), ArgumentSpec("EMAIL", help: "The user's email.")],
                            examples: ["mcpctl idp unbind corp alice@example.com   # exits 1 when alice has not signed in with corp yet"]),
            ]),
            CommandSpec("grant", abstract: "Grant users or groups scopes on apps.", subcommands: [
                CommandSpec("add", abstract: "Grant a user, or every member of a group, a role or scopes on an app (one environment or all).",
                            discussion: "Give the user's EMAIL or --group NAME. A user's effective access is the union of their own grants and those of every group they belong to; an existing grant of the same user or group on the same environment is replaced.",
                            arguments: [optionalEmail], options: [
                    groupOption("Grant to every member of this group instead of to one user."),
                    OptionSpec("app", value: "APP", help: "The app.", required: true),
                    OptionSpec("env", value: "ENV", help: "The environment, or '*' for all (default: *)."),
                    OptionSpec("role", value: "ROLE", help: "viewer (read), editor (read,write) or admin (read,write,delete).", completion: .values(["viewer", "editor", "admin"])),
                    OptionSpec("scopes", value: "SCOPES", help: "Comma-separated scopes instead of a role.", completion: scopeValues),
                ], examples: ["mcpctl grant add alice@example.com --app notes --env production --role viewer",
                              "mcpctl grant add --group eng --app notes --env '*' --role editor"]),
                CommandSpec("list", abstract: "List grants: users' own, then groups'.",
                            options: [OptionSpec("email", value: "EMAIL", help: "Only grants that apply to this user: their own and their groups'."),
                                      appOption, groupOption("Only this group's grants.")]),
                CommandSpec("revoke", abstract: "Revoke a user's or a group's grant on an app (all environments unless --env).",
                            discussion: "Give the user's EMAIL or --group NAME. Takes effect on the server's next request.",
                            arguments: [optionalEmail],
                            options: [groupOption("Revoke the grant of this group instead of a user's."),
                                      OptionSpec("app", value: "APP", help: "The app.", required: true), OptionSpec("env", value: "ENV", help: "Only the grant on this environment ('*' for the all-environments grant).")]),
            ]),
            CommandSpec("can-i", abstract: "Ask whether a user (or one of their tokens) may do something; exit 0 for yes, 1 for no.",
                        arguments: [email, ArgumentSpec("ACTION", help: "read, write, delete or tool/NAME.", optional: true, completion: .values(["read", "write", "delete"]))],
                        options: [appOption, envOption, OptionSpec("token", value: "ID", help: "Answer for this token (its scopes and binding count too)."),
                                  OptionSpec("list", help: "List every app/env and the scopes the user (or token) can use.")],
                        examples: ["mcpctl can-i alice@example.com write --app notes --env production   # exit 1: a viewer may only read", "mcpctl can-i alice@example.com --list"]),
            CommandSpec("token", abstract: "Manage personal access tokens.", subcommands: [
                CommandSpec("create", abstract: "Create a personal token; prints only the secret on stdout.",
                            discussion: "The secret is shown exactly once and stored only as a SHA-256 hash. A one-line summary goes to stderr.",
                            options: [
                    OptionSpec("email", value: "EMAIL", help: "The user the token belongs to.", required: true),
                    OptionSpec("name", value: "NAME", help: "A name to recognise the token by."),
                    OptionSpec("scopes", value: "SCOPES", help: "Comma-separated scopes (default: read).", completion: scopeValues),
                    OptionSpec("app", value: "APP", help: "Bind the token to this app (with --env)."),
                    OptionSpec("env", value: "ENV", help: "Bind the token to this environment (with --app)."),
                    OptionSpec("expires", value: "WHEN", help: "Lifetime: \(durationHelp), or 'never' (default: 90d).", completion: .values(["30d", "90d", "never"])),
                    OptionSpec("introspection", help: "Also allow this token to call the OAuth introspection endpoint (RFC 7662)."),
                    OptionSpec("print-config", help: "Print an MCP client configuration block instead of the bare secret. Without --app/--env it points at the one app environment the user has grants on (named on stderr), the built-in mcpctl/local if none; with several, give --app and --env."),
                    OptionSpec("url", value: "URL", help: "Server URL for --print-config (default: the public URL of the last 'mcpctl serve' on this store, else http://127.0.0.1:8000)."),
                ], examples: ["T=$(mcpctl token create --email alice@example.com --scopes read --name ci)"]),
                CommandSpec("list", abstract: "List tokens (live ones unless --all).", options: [
                    emailOption, OptionSpec("all", help: "Include revoked and expired tokens."),
                ]),
                CommandSpec("show", abstract: "Show one token.", arguments: [ArgumentSpec("ID", help: "The token id (tok_…).")]),
                CommandSpec("rotate", abstract: "Issue a new secret for a token; the old one dies after the grace period.",
                            arguments: [ArgumentSpec("ID", help: "The token id (tok_…) or its secret.")],
                            options: [OptionSpec("grace", value: "DURATION", help: "Keep the old secret valid this long (default: 0, dead at once).")]),
                CommandSpec("revoke", abstract: "Revoke tokens by id or pasted secret, or every credential of a user.",
                            discussion: "With --email E --all every credential of the user is cancelled: personal tokens, OAuth access and refresh tokens, and consents. Revocation takes effect on the server's next request.",
                            arguments: [ArgumentSpec("ID", help: "Token ids (tok_…) or secrets (mcp_…).", optional: true, repeating: true)],
                            options: [emailOption, OptionSpec("all", help: "With --email: revoke everything the user holds.")]),
                CommandSpec("scan", abstract: "Find mcpctl tokens in files, directories or stdin and say which are live.",
                            discussion: "Directories are searched recursively; inside them symbolic links, .git directories, binary files (a NUL byte in the first 8000 bytes) and special files are skipped, while a path named on the command line is always read. A path that cannot be read is reported on stderr and the scan goes on. Matches are checked offline by their checksum, then looked up by hash. Secrets are never printed: only their prefix and last four characters. Exit status: 1 if a live token was found, else 2 if a path could not be read, else 0.",
                            arguments: [ArgumentSpec("PATH", help: "Files or directories to scan; '-' or none reads standard input.", optional: true, repeating: true, completion: .file)]),
            ]),
            CommandSpec("client", abstract: "Manage OAuth clients (connected applications).", subcommands: [
                CommandSpec("list", abstract: "List connected applications.", options: [
                    OptionSpec("email", value: "EMAIL", help: "Only applications this user has connected."),
                    OptionSpec("all", help: "Include blocked clients."),
                ]),
                CommandSpec("show", abstract: "Show one client with its consents and tokens.", arguments: [ArgumentSpec("CLIENT_ID", help: "The client id.")]),
                CommandSpec("register", abstract: "Register a client by hand.", options: [
                    OptionSpec("name", value: "NAME", help: "The client's name.", required: true),
                    OptionSpec("redirect-uri", value: "URI", help: "An allowed redirect URI (repeat for several).", repeating: true, required: true),
                    OptionSpec("confidential", help: "Issue a client secret (shown once)."),
                ]),
                CommandSpec("revoke", abstract: "Delete a client with its consents and every token issued to it.", arguments: [ArgumentSpec("CLIENT_ID", help: "The client id.")]),
                CommandSpec("block", abstract: "Keep the client's record but refuse all its future use.", arguments: [ArgumentSpec("CLIENT_ID", help: "The client id.")]),
                CommandSpec("prune", abstract: "Delete clients with no live token and no use for a while.", options: [
                    OptionSpec("unused-for", value: "DURATION", help: "Unused for at least this long (default: 30d)."),
                    OptionSpec("dry-run", help: "Only list what would be deleted."),
                ]),
            ]),
            CommandSpec("audit", abstract: "Query, export and verify the audit log.", subcommands: [
                CommandSpec("list", abstract: "List audit events, newest first.",
                            options: auditFilters + [OptionSpec("limit", value: "N", help: "At most N events (default: 100).")]),
                CommandSpec("tail", abstract: "Print the latest events, oldest first; -f follows new ones.",
                            options: [OptionSpec("follow", short: "f", help: "Keep printing new events as they are written, by any process."),
                                      OptionSpec("lines", short: "n", value: "N", help: "How many of the latest events to print first (default: 10)."),
                                      OptionSpec("format", value: "FORMAT", help: "text (default): one table line per event. jsonl: every event, those printed first too, as one JSON object per line with the keys of 'audit list --json', for pipes into a SIEM.",
                                                 completion: .values(["text", "jsonl"]))] + auditFilters),
                CommandSpec("export", abstract: "Stream every matching event, oldest first.",
                            options: [OptionSpec("format", value: "FORMAT", help: "jsonl (default) or csv.", completion: .values(["jsonl", "csv"]))] + auditFilters),
                CommandSpec("verify", abstract: "Walk the hash chain; name the first bad sequence number.",
                            options: [OptionSpec("expect-head", value: "SEQ:HASH", help: "Also check that the chain still contains a head recorded earlier with 'audit head'.")]),
                CommandSpec("head", abstract: "Print the latest sequence number and chain hash."),
                CommandSpec("prune", abstract: "Delete old events, keeping the chain verifiable from the cut point.",
                            options: [OptionSpec("before", value: "WHEN", help: "Delete events older than this: \(durationHelp) ago, or an RFC 3339 time.", required: true)]),
            ]),
            CommandSpec("serve", abstract: "Run the OAuth 2.1 authorization server and the MCP gateway.",
                        discussion: "Every option can also be set with an MCPCTL_<NAME> environment variable (e.g. MCPCTL_LISTEN, MCPCTL_PUBLIC_URL). MCPCTL_CA_BUNDLE names a PEM file of CA certificates to trust instead of the system's, for https upstreams and client metadata documents.",
                        options: [
                OptionSpec("listen", value: "ADDR", help: "Address and port to listen on (default: 127.0.0.1:8000)."),
                OptionSpec("public-url", value: "URL", help: "The URL clients use to reach this server (default: http://LISTEN)."),
                OptionSpec("access-token-ttl", value: "DURATION", help: "Lifetime of OAuth access tokens (default: 1h)."),
                OptionSpec("refresh-reuse-grace", value: "DURATION", help: "A refresh token used again this soon after its rotation (two client threads refreshing at once) gets another token pair instead of revoking its family; at most 5m (default: 0s, off)."),
                OptionSpec("allowed-origin", value: "ORIGIN", help: "An extra allowed browser Origin (repeatable).", repeating: true),
                OptionSpec("max-body", value: "BYTES", help: "Largest request body accepted, and longest message line a stdio upstream may write before it is ended, in bytes: 1024 to 268435456 (default: 4194304)."),
                OptionSpec("max-buffered-bytes", value: "BYTES", help: "Most bytes of upstream answers held in memory at once, all requests together; an answer past it is refused with 503 (default: 268435456, 256 MiB)."),
                OptionSpec("upstream-timeout", value: "DURATION", help: "How long an upstream may take to answer, e.g. 30s or 2m, from 1s to 24h; slower calls are answered 504 (default: 60s; an app's --timeout wins)."),
                OptionSpec("max-connections", value: "N", help: "Most concurrent connections (default: 1024)."),
                OptionSpec("max-connections-per-address", value: "N", help: "Most concurrent connections from one client address; more are answered 503 and closed (default: 64)."),
                OptionSpec("keep-alive-timeout", value: "DURATION", help: "Close a connection idle this long between requests, e.g. 10s or 1m (default: 10s)."),
                OptionSpec("log-level", value: "LEVEL", help: "error, warn, info (default) or debug.", completion: .values(["error", "warn", "info", "debug"])),
                OptionSpec("insecure-http", help: "Allow a non-loopback listen address without an https public URL."),
                OptionSpec("unauthenticated-introspection", help: "Let anyone call the introspection endpoint."),
                OptionSpec("trusted-user-header", value: "NAME", help: "Take the logged-in user's email from this header set by a reverse proxy."),
                OptionSpec("trusted-proxy", value: "ADDR", help: "Address of a reverse proxy in front: its X-Forwarded-For names the client in audit rows and per-address limits, and it may set the trusted user header (repeatable).", repeating: true),
                OptionSpec("unauthenticated-rate", value: "N", help: "MCP requests without a valid credential allowed per client address per minute (default: 120); beyond it they get 429 and one audit row per address per minute."),
                OptionSpec("session-idle", value: "DURATION", help: "Sign a browser out after this long without a request to the account pages or the authorization flow, from 5m to 30d (default: 12h)."),
                OptionSpec("session-max-age", value: "DURATION", help: "Sign a browser out this long after it signed in, however active, from 5m to 90d and not shorter than --session-idle (default: 7d)."),
                OptionSpec("max-token-ttl", value: "DURATION", help: "Longest lifetime of a personal token that users create for themselves on the account page, from 1h to 10y (default: 90d)."),
                OptionSpec("no-self-service-tokens", help: "Hide token creation on the account page (users can still see, rotate and revoke their tokens; operators create tokens with 'mcpctl token create')."),
                OptionSpec("quickstart", help: "First create (or reuse) a user, a viewer grant on mcpctl/local and a fresh token, and print a ready-to-paste client configuration."),
                OptionSpec("email", value: "EMAIL", help: "With --quickstart: the user to set up (default: admin@localhost)."),
                OptionSpec("tool-approval", value: "MODE", help: "Which tools wait for 'mcpctl tool approve': changed (default: a tool is trusted when first seen, and held when its definition later changes), new (also every tool never seen before; tools already pinned stay approved) or off (no pinning).",
                           completion: .values(ToolApproval.allCases.map(\.rawValue))),
                OptionSpec("audit-sync", value: "MODE", help: "full (default): every acknowledged request's audit row is synced to disk before the answer (one sync per group commit), surviving power loss and a file system going read-only. normal: rows survive a crash of the server but the last ones before a power loss or OS failure can be lost, while the requests were answered.",
                           completion: .values(["full", "normal"])),
                OptionSpec("audit-forward", value: "URL", help: "Also ship every audit event (all sources) to this SIEM collector (https; plain http only on a loopback host): JSON arrays of events as 'audit list --json' prints them, POSTed in batches, oldest first. Non-2xx answers and connection errors are retried with backoff (0.5s doubling to 30s); the last acknowledged event is kept in the store, so a restart resumes there (at most the batch in flight is sent twice). The first run starts with the oldest event. Requests are never held up by it."),
                OptionSpec("metrics-listen", value: "ADDR", help: "Also serve GET /metrics (Prometheus text format) on this second address, e.g. 127.0.0.1:9464; off by default. Labels carry app and environment names known to the store (others count as \"unknown\"), decisions and statuses; never emails or token ids."),
                OptionSpec("audit-forward-header", value: "NAME=env:VAR", help: "A header for --audit-forward requests (e.g. Authorization=env:SIEM_TOKEN) whose value is read from environment variable VAR when the server starts; never logged (repeatable). With a header, the endpoint must be https unless it is on a loopback host.", repeating: true),
                OptionSpec("otlp-endpoint", value: "URL", help: "Export OpenTelemetry traces (OTLP/HTTP, JSON) to this collector base URL, e.g. http://127.0.0.1:4318 (/v1/traces is appended unless the path already ends with it): a server span per MCP request with child spans for authentication, authorization, the upstream call and the audit write. Without it, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as given) or OTEL_EXPORTER_OTLP_ENDPOINT (/v1/traces appended) turn it on; OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1 exports a tenth of new traces (a caller's sampling decision is kept). Spans are sent in batches from a bounded queue and dropped (and counted in /metrics) when the collector is down or slow; requests never wait for it."),
                OptionSpec("otlp-header", value: "NAME=env:VAR", help: "A header for --otlp-endpoint requests (e.g. Authorization=env:OTLP_TOKEN) whose value is read from environment variable VAR when the server starts; never logged (repeatable).", repeating: true),
            ], examples: ["mcpctl serve --quickstart", "mcpctl serve --listen 0.0.0.0:8000 --public-url https://mcp.example.com"]),
            CommandSpec("doctor", abstract: "Check the store, the public URL, the upstreams and the clock; say what to fix, one line each.",
                        discussion: "Checks the store's permissions, migrations, integrity (PRAGMA quick_check) and audit chain; with --public-url, that the authorization server metadata is reachable through the reverse proxy with an issuer byte-identical to that URL, and the clock skew against its Date header; each HTTP upstream answers initialize and tools/list, and each stdio upstream starts and answers tools/list. Warnings do not fail it; any failed check exits 1. Read-only: it changes nothing.",
                        options: [OptionSpec("public-url", value: "URL", help: "The URL clients use to reach the server (default: $MCPCTL_PUBLIC_URL); without it the public URL and clock checks are skipped.")],
                        examples: ["mcpctl doctor                                          # exits 1 when any check fails", "mcpctl doctor --json --public-url http://127.0.0.1:8000   # exits 1 when any check fails"]),
            CommandSpec("store", abstract: "Back up, restore and copy the store.", subcommands: [
                CommandSpec("backup", abstract: "Write a consistent copy of the store to FILE (mode 0600), safe while 'serve' runs.",
                            discussion: "Uses SQLite's online backup, so the copy is one consistent snapshot even while the server writes. Copying or moving the store file by hand while it is in use is not a backup: it can miss or tear the latest changes.",
                            arguments: [ArgumentSpec("FILE", help: "Where to write the backup.", completion: .file)],
                            options: [OptionSpec("force", help: "Replace FILE if it exists.")],
                            examples: ["mkdir -p -m 700 ~/backups", "mcpctl store backup ~/backups/mcpctl-$(date +%F).db"]),
                CommandSpec("restore", abstract: "Replace the store with a backup, after checking its integrity and audit chain.",
                            discussion: "Refuses while a server has the store open (stop it first). Lists the tokens that were revoked or deleted after the backup, which become valid again, and the time of the backup's last audit row: everything after it is gone. The store is replaced atomically and the restore is audited.",
                            arguments: [ArgumentSpec("FILE", help: "The backup made by 'mcpctl store backup'.", completion: .file)],
                            options: [OptionSpec("force", help: "Restore even while a server has the store open (the server then refuses every request until restarted).")],
                            examples: ["mcpctl store restore ~/backups/mcpctl-$(date +%F).db   # with the server stopped"]),
                CommandSpec("copy", abstract: "Copy the whole store into a new, empty store: SQLite to PostgreSQL or back.",
                            discussion: "The source is --db (or MCPCTL_DB). Copies every user, app, grant, client, token and the audit log with the key that signs it, then verifies the copy's audit chain. Sign-in sessions, one-time codes, MCP sessions and login throttles are not copied. Stop the server first: changes made during the copy are not in it.",
                            options: [OptionSpec("to", value: "PATH|URL", help: "The new store: a SQLite file path, or a postgresql:// URL naming an empty database or schema.", required: true)],
                            examples: ["mcpctl store copy --to 'postgresql://mcpctl@db.example/mcpctl?sslmode=verify-full'   # exits 1 when the database cannot be reached",
                                       "mcpctl --db postgresql://mcpctl@db.example/mcpctl store copy --to ~/mcpctl-copy.db   # exits 1 when the database cannot be reached"]),
            ]),
            CommandSpec("completion", abstract: "Print a shell completion script.",
                        arguments: [ArgumentSpec("SHELL", help: "bash, zsh or fish.", completion: .values(["bash", "zsh", "fish"]))],
                        examples: ["mkdir -p ~/.local/share/bash-completion/completions", "mcpctl completion bash > ~/.local/share/bash-completion/completions/mcpctl"]),
        ]
    )

    public static let parser = ArgumentParser(program: "mcpctl", version: version, root: root, globalOptions: globalOptions)
}
