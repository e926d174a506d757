/// The man page, rendered from the command table plus the sections the table cannot know.
public enum ManPage {
    /// Fixed per release so the committed file is reproducible.
    public static let date = "2026-11-22"

    public static func render() -> String {
        ManPageRenderer.render(parser: CommandTable.parser, date: date, sections: [
            ManSection(title: "ENVIRONMENT", body: """
            MCPCTL_DB
            Path of the store, unless --db is given.

            XDG_DATA_HOME
            If set (and MCPCTL_DB is not), the store is $XDG_DATA_HOME/mcpctl/mcpctl.db.

            HOME
            Otherwise the store is ~/.local/share/mcpctl/mcpctl.db.

            MCPCTL_<OPTION>
            Every option of 'mcpctl serve' can be given as an environment variable: the option's name in upper case with dashes as underscores, e.g. MCPCTL_LISTEN, MCPCTL_PUBLIC_URL, MCPCTL_ACCESS_TOKEN_TTL, MCPCTL_INSECURE_HTTP=1. A command-line option wins over the variable.

            MCPCTL_CA_BUNDLE
            A PEM file of CA certificates that 'mcpctl serve' trusts instead of the system's, for https upstreams and client metadata documents signed by a private CA.

            NO_COLOR
            If set to anything, output is never coloured (colour is used only on a terminal anyway).
            """),
            ManSection(title: "FILES", body: """
            ~/.local/share/mcpctl/mcpctl.db
            The default store: one SQLite file (with -wal and -shm companions) holding users, token hashes, OAuth clients, grants and the audit log. Created with directory mode 0700 and file mode 0600; mcpctl refuses a store that other users can read. Secrets are never stored, only their SHA-256; passwords as PBKDF2-HMAC-SHA256 with 600,000 iterations.
            """),
            ManSection(title: "EXIT STATUS", body: """
            0
            Success; for 'can-i', the answer is yes.

            1
            Failure, including "not found", a refused store, a broken audit chain ('audit verify'), a live token found ('token scan') and the answer no ('can-i').

            2
            'token scan' could not read a path (and found no live token).

            64
            Usage error: unknown command or option, missing or invalid argument.
            """),
            ManSection(title: "SECURITY", body: """
            Tokens look like mcp_pat_ followed by 38 characters, the last six a checksum, so they can be found by scanners ('mcpctl token scan'). A secret is printed exactly once, when it is created; lists, JSON output, audit rows and error messages show only a token's id (tok_...) and the last four characters. A revoked token, a disabled user, a removed grant or a blocked client takes effect on the server's next request.
            """),
            ManSection(title: "SEE ALSO", body: "sqlite3(1), caddy(1), nginx(8)"),
        ])
    }
}
