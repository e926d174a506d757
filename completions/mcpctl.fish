# fish completion for mcpctl
# Generated from mcpctl's command table by 'mcpctl completion fish'; do not edit.
# Install: save as ~/.config/fish/completions/mcpctl.fish.

function __mcpctl_subcommands --argument-names cmdpath --description 'Print the subcommands of a command path'
    switch $cmdpath
        case ''
            printf '%s\n' init user app tool group issuer idp grant can-i token client audit serve doctor store completion help
        case 'user'
            printf '%s\n' add list show disable enable remove passwd
        case 'app'
            printf '%s\n' add update show list remove
        case 'tool'
            printf '%s\n' list scope approve diff
        case 'group'
            printf '%s\n' add list show remove member
        case 'group member'
            printf '%s\n' add remove
        case 'issuer'
            printf '%s\n' add list remove
        case 'idp'
            printf '%s\n' add list remove unbind
        case 'grant'
            printf '%s\n' add list revoke
        case 'token'
            printf '%s\n' create list show rotate revoke scan
        case 'client'
            printf '%s\n' list show register revoke block prune
        case 'audit'
            printf '%s\n' list tail export verify head prune
        case 'store'
            printf '%s\n' backup restore copy
    end
end

function __mcpctl_value_options --argument-names cmdpath --description 'Print the options of a command path that take a value'
    switch $cmdpath
        case 'user add'
            printf '%s\n' --name
        case 'app add'
            printf '%s\n' --env --upstream --command --timeout --upstream-header --env-var
        case 'app update'
            printf '%s\n' --env --upstream --command --timeout --upstream-header --env-var
        case 'app show'
            printf '%s\n' --env
        case 'app remove'
            printf '%s\n' --env
        case 'tool list'
            printf '%s\n' --env
        case 'tool approve'
            printf '%s\n' --env
        case 'tool diff'
            printf '%s\n' --env
        case 'group add'
            printf '%s\n' --idp-group --idp
        case 'issuer add'
            printf '%s\n' --issuer --audience --introspection-url --client-id --client-secret-file --email-claim --allowed-domain --token-prefix
        case 'idp add'
            printf '%s\n' --issuer --client-id --client-secret-file --scopes --groups-claim --allowed-domain
        case 'grant add'
            printf '%s\n' --group --app --env --role --scopes
        case 'grant list'
            printf '%s\n' --email --app --group
        case 'grant revoke'
            printf '%s\n' --group --app --env
        case 'can-i'
            printf '%s\n' --app --env --token
        case 'token create'
            printf '%s\n' --email --name --scopes --app --env --expires --url
        case 'token list'
            printf '%s\n' --email
        case 'token rotate'
            printf '%s\n' --grace
        case 'token revoke'
            printf '%s\n' --email
        case 'client list'
            printf '%s\n' --email
        case 'client register'
            printf '%s\n' --name --redirect-uri
        case 'client prune'
            printf '%s\n' --unused-for
        case 'audit list'
            printf '%s\n' --since --until --source --email --client --token --app --env --tool --action --decision --limit
        case 'audit tail'
            printf '%s\n' --lines -n --format --since --until --source --email --client --token --app --env --tool --action --decision
        case 'audit export'
            printf '%s\n' --format --since --until --source --email --client --token --app --env --tool --action --decision
        case 'audit verify'
            printf '%s\n' --expect-head
        case 'audit prune'
            printf '%s\n' --before
        case 'serve'
            printf '%s\n' --listen --public-url --access-token-ttl --refresh-reuse-grace --allowed-origin --max-body --max-buffered-bytes --upstream-timeout --max-connections --max-connections-per-address --keep-alive-timeout --log-level --trusted-user-header --trusted-proxy --unauthenticated-rate --session-idle --session-max-age --max-token-ttl --email --tool-approval --audit-sync --audit-forward --metrics-listen --audit-forward-header --otlp-endpoint --otlp-header
        case 'doctor'
            printf '%s\n' --public-url
        case 'store copy'
            printf '%s\n' --to
    end
    printf '%s\n' --db
end

# __mcpctl_at PATH: the words before the cursor name the command PATH ('' for mcpctl itself).
# __mcpctl_at PATH N (or N+): also no option value is pending and N (or at least N) positionals precede.
# Every complete line below asks; the walk is done once per command line and cached.
function __mcpctl_at --description 'Test the command path and argument position being completed'
    set -l tokens (commandline -opc)
    set -l key (string join \x1f -- $tokens)
    if not set -q __mcpctl_key; or test "$__mcpctl_key" != "$key"
        __mcpctl_walk $tokens[2..-1]
        set -g __mcpctl_key $key
    end
    test "$__mcpctl_path" = "$argv[1]"; or return 1
    set -q argv[2]; or return 0
    test $__mcpctl_pending -eq 0; or return 1
    if string match -q -- '*+' $argv[2]
        test $__mcpctl_npos -ge (string trim -r -c + -- $argv[2])
    else
        test $__mcpctl_npos -eq $argv[2]
    end
end

function __mcpctl_walk --description 'Set the command path, positional count and pending option of the words given'
    set -l cmdpath
    set -l npos 0
    set -l pending 0
    set -l dashdash 0
    set -l helpmode 0
    for word in $argv
        if test $pending -eq 1
            set pending 0
            continue
        end
        if test $dashdash -eq 1
            set npos (math $npos + 1)
            continue
        end
        switch $word
            case --
                set dashdash 1
            case '--*=*'
            case '-?*'
                set -l valued (__mcpctl_value_options "$cmdpath")
                if contains -- $word $valued
                    set pending 1
                else if not string match -q -- '--*' $word; and contains -- -(string sub -s -1 -- $word) $valued
                    set pending 1
                end
            case '*'
                if test $npos -eq 0 -a $helpmode -eq 0 -a (count $cmdpath) -eq 0 -a "$word" = help
                    set helpmode 1
                else if test $npos -eq 0; and contains -- $word (__mcpctl_subcommands "$cmdpath")
                    set -a cmdpath $word
                else
                    set npos (math $npos + 1)
                end
        end
    end
    if test $helpmode -eq 1
        set -p cmdpath help
    end
    set -g __mcpctl_path "$cmdpath"
    set -g __mcpctl_npos $npos
    set -g __mcpctl_pending $pending
end

complete -c mcpctl -f

# Global options
complete -c mcpctl -l db -r -F -d 'Path of the store, or a postgresql:// URL (default: $MCPCTL_DB, else $XDG_DATA_HOME/mcpctl/mcpctl.db, else ~/.local/share/mcpctl/mcpctl.db).'
complete -c mcpctl -l json -d 'Machine output: one JSON value on stdout (RFC 3339 UTC times, snake_case keys).'
complete -c mcpctl -l version -d 'Show the version.'
complete -c mcpctl -s h -l help -d 'Show help information.'

# mcpctl
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'init' -d 'Create the store and print where it is; on an existing store, change nothing and say so.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'user' -d 'Manage users.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'app' -d 'Manage apps and their environments (upstream MCP servers).'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'tool' -d 'Inspect tools, set the scope each needs, and approve changed tools.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'group' -d 'Manage groups of users; a grant to a group applies to every member.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'issuer' -d 'Accept access tokens from an outside authorization server (your organization\'s IdP).'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'idp' -d 'Let users sign in with your organization\'s OpenID Connect identity provider (single sign-on).'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'grant' -d 'Grant users or groups scopes on apps.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'can-i' -d 'Ask whether a user (or one of their tokens) may do something; exit 0 for yes, 1 for no.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'token' -d 'Manage personal access tokens.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'client' -d 'Manage OAuth clients (connected applications).'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'audit' -d 'Query, export and verify the audit log.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'serve' -d 'Run the OAuth 2.1 authorization server and the MCP gateway.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'doctor' -d 'Check the store, the public URL, the upstreams and the clock; say what to fix, one line each.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'store' -d 'Back up, restore and copy the store.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'completion' -d 'Print a shell completion script.'
complete -c mcpctl -n "__mcpctl_at '' 0" -a 'help' -d 'Show subcommand help information.'

# mcpctl user
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'add' -d 'Add a user.'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'list' -d 'List users.'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'show' -d 'Show one user with their grants and live tokens.'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'disable' -d 'Disable a user and revoke every credential they hold, at once.'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'enable' -d 'Enable a disabled user (revoked credentials stay revoked).'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'remove' -d 'Remove a user with their tokens, grants and consents.'
complete -c mcpctl -n "__mcpctl_at 'user' 0" -a 'passwd' -d 'Set a user\'s password.'

# mcpctl user add
complete -c mcpctl -n "__mcpctl_at 'user add'" -l name -x -d 'Display name.'
complete -c mcpctl -n "__mcpctl_at 'user add'" -l password-stdin -d 'Read the password (for the OAuth login page) from the first line of standard input.'

# mcpctl user passwd
complete -c mcpctl -n "__mcpctl_at 'user passwd'" -l password-stdin -d 'Read the password from the first line of standard input.'

# mcpctl app
complete -c mcpctl -n "__mcpctl_at 'app' 0" -a 'add' -d 'Add an environment of an app, served at /mcp/APP/ENV.'
complete -c mcpctl -n "__mcpctl_at 'app' 0" -a 'update' -d 'Change an environment\'s upstream, timeout or credential references.'
complete -c mcpctl -n "__mcpctl_at 'app' 0" -a 'show' -d 'Show an app\'s environments: upstream, timeout and credential references (never their values).'
complete -c mcpctl -n "__mcpctl_at 'app' 0" -a 'list' -d 'List apps and environments.'
complete -c mcpctl -n "__mcpctl_at 'app' 0" -a 'remove' -d 'Remove an environment, or a whole app.'

# mcpctl app add
complete -c mcpctl -n "__mcpctl_at 'app add'" -l env -x -d 'The environment name (e.g. production).'
complete -c mcpctl -n "__mcpctl_at 'app add'" -l upstream -x -d 'The upstream\'s Streamable HTTP endpoint (http or https).'
complete -c mcpctl -n "__mcpctl_at 'app add'" -l command -x -d 'The command line of a stdio MCP server.'
complete -c mcpctl -n "__mcpctl_at 'app add'" -l timeout -x -d 'How long this upstream may take to answer, e.g. 30s or 2m, from 1s to 24h; slower calls are answered 504 (default: serve\'s --upstream-timeout).'
complete -c mcpctl -n "__mcpctl_at 'app add'" -l upstream-header -x -d 'Send header NAME to this HTTP upstream, its value read by serve from REF: env:VAR (serve\'s environment) or file:PATH (mode 0600 or stricter). Repeatable. Host, Content-Length, Transfer-Encoding, Connection, Cookie and Mcp-* are refused.'
complete -c mcpctl -n "__mcpctl_at 'app add'" -l env-var -x -d 'Set environment variable NAME for this stdio upstream\'s processes, its value read by serve from REF: env:VAR or file:PATH. Repeatable.'

# mcpctl app update
complete -c mcpctl -n "__mcpctl_at 'app update'" -l env -x -d 'The environment to change.'
complete -c mcpctl -n "__mcpctl_at 'app update'" -l upstream -x -d 'A new Streamable HTTP endpoint (replaces a command).'
complete -c mcpctl -n "__mcpctl_at 'app update'" -l command -x -d 'A new stdio server command line (replaces a URL).'
complete -c mcpctl -n "__mcpctl_at 'app update'" -l timeout -x -d 'A new answer timeout, from 1s to 24h.'
complete -c mcpctl -n "__mcpctl_at 'app update'" -l upstream-header -x -d 'Send header NAME to this HTTP upstream, its value read by serve from REF: env:VAR (serve\'s environment) or file:PATH (mode 0600 or stricter). Repeatable; NAME= removes it. Host, Content-Length, Transfer-Encoding, Connection, Cookie and Mcp-* are refused.'
complete -c mcpctl -n "__mcpctl_at 'app update'" -l env-var -x -d 'Set environment variable NAME for this stdio upstream\'s processes, its value read by serve from REF: env:VAR or file:PATH. Repeatable; NAME= removes it.'

# mcpctl app show
complete -c mcpctl -n "__mcpctl_at 'app show'" -l env -x -d 'Only this environment.'

# mcpctl app remove
complete -c mcpctl -n "__mcpctl_at 'app remove'" -l env -x -d 'Remove only this environment.'

# mcpctl tool
complete -c mcpctl -n "__mcpctl_at 'tool' 0" -a 'list' -d 'List the tools the gateway has seen, with the scope each needs and why, and its pin state.'
complete -c mcpctl -n "__mcpctl_at 'tool' 0" -a 'scope' -d 'Set the scope a tool needs (auto: follow its annotations).'
complete -c mcpctl -n "__mcpctl_at 'tool' 0" -a 'approve' -d 'Accept a held tool\'s new definition; it is listed and callable again.'
complete -c mcpctl -n "__mcpctl_at 'tool' 0" -a 'diff' -d 'Show how a held tool\'s definition changed, as a unified diff; exit 0 if a change is pending, 1 if none.'

# mcpctl tool list
complete -c mcpctl -n "__mcpctl_at 'tool list'" -l env -x -d 'The environment of the app (e.g. production).'

# mcpctl tool scope
complete -c mcpctl -n "__mcpctl_at 'tool scope' 2" -a 'read write delete auto' -d 'read, write, delete or auto.'

# mcpctl tool approve
complete -c mcpctl -n "__mcpctl_at 'tool approve'" -l env -x -d 'Only this environment (default: every environment where the tool is held).'

# mcpctl tool diff
complete -c mcpctl -n "__mcpctl_at 'tool diff'" -l env -x -d 'Only this environment.'

# mcpctl group
complete -c mcpctl -n "__mcpctl_at 'group' 0" -a 'add' -d 'Add a group.'
complete -c mcpctl -n "__mcpctl_at 'group' 0" -a 'list' -d 'List groups with their number of members and grants.'
complete -c mcpctl -n "__mcpctl_at 'group' 0" -a 'show' -d 'Show one group with its members and grants.'
complete -c mcpctl -n "__mcpctl_at 'group' 0" -a 'remove' -d 'Remove a group with its memberships and grants.'
complete -c mcpctl -n "__mcpctl_at 'group' 0" -a 'member' -d 'Add users to a group or remove them.'

# mcpctl group add
complete -c mcpctl -n "__mcpctl_at 'group add'" -l idp-group -x -d 'The value of the identity provider\'s groups claim this group follows: at each single sign-on with that provider its members are added or removed to match.'
complete -c mcpctl -n "__mcpctl_at 'group add'" -l idp -x -d 'The identity provider whose groups claim --idp-group reads; sign-ins with any other provider never change this group. Required when there are several providers; with one it is that one, and with none yet the first one added.'

# mcpctl group member
complete -c mcpctl -n "__mcpctl_at 'group member' 0" -a 'add' -d 'Make a user a member of a group.'
complete -c mcpctl -n "__mcpctl_at 'group member' 0" -a 'remove' -d 'End a user\'s membership of a group; what the group granted is gone on the next request.'

# mcpctl issuer
complete -c mcpctl -n "__mcpctl_at 'issuer' 0" -a 'add' -d 'Add an outside issuer.'
complete -c mcpctl -n "__mcpctl_at 'issuer' 0" -a 'list' -d 'List the outside issuers.'
complete -c mcpctl -n "__mcpctl_at 'issuer' 0" -a 'remove' -d 'Remove an outside issuer; its tokens are refused from the server\'s next request.'

# mcpctl issuer add
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l issuer -x -d 'The issuer identifier, exactly as the tokens\' \'iss\' claim says it (https; plain http only on a loopback host).'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l audience -x -d 'An \'aud\' value accepted besides the resource URL (https://HOST/mcp/APP/ENV), for issuers that cannot put the resource in the audience.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l introspection-url -x -d 'The issuer\'s RFC 7662 introspection endpoint, for opaque (non-JWT) tokens; needs --client-id and --client-secret-file.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l client-id -x -d 'The client ID mcpctl authenticates with at the introspection endpoint.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l client-secret-file -r -F -d 'A file holding that client\'s secret, readable by its owner only (chmod 600); only its path is stored, and it is read at each introspection.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l email-claim -x -d 'The claim holding the user\'s email address (default: email). A token whose email_verified is present and not true is refused.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l allowed-domain -x -d 'Only users of this email domain may be named by this issuer\'s tokens (exact; \'*.example.com\' for its subdomains). Repeat for several; without it the issuer may speak for any user, operators included.'
complete -c mcpctl -n "__mcpctl_at 'issuer add'" -l token-prefix -x -d 'How this issuer\'s opaque tokens start: only tokens with this prefix are sent to its introspection endpoint. Needed when another issuer already introspects, so that no issuer is sent another\'s tokens.'

# mcpctl idp
complete -c mcpctl -n "__mcpctl_at 'idp' 0" -a 'add' -d 'Add an identity provider.'
complete -c mcpctl -n "__mcpctl_at 'idp' 0" -a 'list' -d 'List the identity providers.'
complete -c mcpctl -n "__mcpctl_at 'idp' 0" -a 'remove' -d 'Remove an identity provider; its sign-in button disappears and the --idp-group mappings bound to it are dropped. Users it created and group members stay.'
complete -c mcpctl -n "__mcpctl_at 'idp' 0" -a 'unbind' -d 'Let a user sign in with another account at the provider: the next sign-in naming their email binds that account.'

# mcpctl idp add
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l issuer -x -d 'The provider\'s issuer, exactly as its discovery document and ID tokens say it (https; plain http only on a loopback host).'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l client-id -x -d 'The client ID mcpctl was given when registered at the provider.'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l client-secret-file -r -F -d 'A file holding that client\'s secret, readable by its owner only (chmod 600); only its path is stored, and it is read at each sign-in.'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l scopes -x -d 'The scopes asked for, space-separated; must include openid (default: \'openid email profile\').'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l groups-claim -x -d 'The ID-token claim listing the user\'s groups; groups added with --idp-group follow it at every sign-in (an absent claim removes those memberships).'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l allowed-domain -x -d 'Only emails of this domain may sign in (exact; \'*.example.com\' for its subdomains). Repeat for several; without it any domain may.'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l create-users -d 'Create an unknown user (without a password) at first sign-in; only for an --allowed-domain.'
complete -c mcpctl -n "__mcpctl_at 'idp add'" -l trust-email -d 'Accept the provider\'s email without email_verified: true (only for providers whose emails are all verified).'

# mcpctl grant
complete -c mcpctl -n "__mcpctl_at 'grant' 0" -a 'add' -d 'Grant a user, or every member of a group, a role or scopes on an app (one environment or all).'
complete -c mcpctl -n "__mcpctl_at 'grant' 0" -a 'list' -d 'List grants: users\' own, then groups\'.'
complete -c mcpctl -n "__mcpctl_at 'grant' 0" -a 'revoke' -d 'Revoke a user\'s or a group\'s grant on an app (all environments unless --env).'

# mcpctl grant add
complete -c mcpctl -n "__mcpctl_at 'grant add'" -l group -x -d 'Grant to every member of this group instead of to one user.'
complete -c mcpctl -n "__mcpctl_at 'grant add'" -l app -x -d 'The app.'
complete -c mcpctl -n "__mcpctl_at 'grant add'" -l env -x -d 'The environment, or \'*\' for all (default: *).'
complete -c mcpctl -n "__mcpctl_at 'grant add'" -l role -x -a 'viewer editor admin' -d 'viewer (read), editor (read,write) or admin (read,write,delete).'
complete -c mcpctl -n "__mcpctl_at 'grant add'" -l scopes -x -a 'read write delete read,write read,write,delete' -d 'Comma-separated scopes instead of a role.'

# mcpctl grant list
complete -c mcpctl -n "__mcpctl_at 'grant list'" -l email -x -d 'Only grants that apply to this user: their own and their groups\'.'
complete -c mcpctl -n "__mcpctl_at 'grant list'" -l app -x -d 'The app (one upstream MCP server family).'
complete -c mcpctl -n "__mcpctl_at 'grant list'" -l group -x -d 'Only this group\'s grants.'

# mcpctl grant revoke
complete -c mcpctl -n "__mcpctl_at 'grant revoke'" -l group -x -d 'Revoke the grant of this group instead of a user\'s.'
complete -c mcpctl -n "__mcpctl_at 'grant revoke'" -l app -x -d 'The app.'
complete -c mcpctl -n "__mcpctl_at 'grant revoke'" -l env -x -d 'Only the grant on this environment (\'*\' for the all-environments grant).'

# mcpctl can-i
complete -c mcpctl -n "__mcpctl_at 'can-i'" -l app -x -d 'The app (one upstream MCP server family).'
complete -c mcpctl -n "__mcpctl_at 'can-i'" -l env -x -d 'The environment of the app (e.g. production).'
complete -c mcpctl -n "__mcpctl_at 'can-i'" -l token -x -d 'Answer for this token (its scopes and binding count too).'
complete -c mcpctl -n "__mcpctl_at 'can-i'" -l list -d 'List every app/env and the scopes the user (or token) can use.'
complete -c mcpctl -n "__mcpctl_at 'can-i' 1" -a 'read write delete' -d 'read, write, delete or tool/NAME.'

# mcpctl token
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'create' -d 'Create a personal token; prints only the secret on stdout.'
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'list' -d 'List tokens (live ones unless --all).'
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'show' -d 'Show one token.'
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'rotate' -d 'Issue a new secret for a token; the old one dies after the grace period.'
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'revoke' -d 'Revoke tokens by id or pasted secret, or every credential of a user.'
complete -c mcpctl -n "__mcpctl_at 'token' 0" -a 'scan' -d 'Find mcpctl tokens in files, directories or stdin and say which are live.'

# mcpctl token create
complete -c mcpctl -n "__mcpctl_at 'token create'" -l email -x -d 'The user the token belongs to.'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l name -x -d 'A name to recognise the token by.'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l scopes -x -a 'read write delete read,write read,write,delete' -d 'Comma-separated scopes (default: read).'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l app -x -d 'Bind the token to this app (with --env).'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l env -x -d 'Bind the token to this environment (with --app).'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l expires -x -a '30d 90d never' -d 'Lifetime: a duration like 30m, 24h, 90d, or \'never\' (default: 90d).'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l introspection -d 'Also allow this token to call the OAuth introspection endpoint (RFC 7662).'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l print-config -d 'Print an MCP client configuration block instead of the bare secret. Without --app/--env it points at the one app environment the user has grants on (named on stderr), the built-in mcpctl/local if none; with several, give --app and --env.'
complete -c mcpctl -n "__mcpctl_at 'token create'" -l url -x -d 'Server URL for --print-config (default: the public URL of the last \'mcpctl serve\' on this store, else http://127.0.0.1:8000).'

# mcpctl token list
complete -c mcpctl -n "__mcpctl_at 'token list'" -l email -x -d 'The user\'s email address.'
complete -c mcpctl -n "__mcpctl_at 'token list'" -l all -d 'Include revoked and expired tokens.'

# mcpctl token rotate
complete -c mcpctl -n "__mcpctl_at 'token rotate'" -l grace -x -d 'Keep the old secret valid this long (default: 0, dead at once).'

# mcpctl token revoke
complete -c mcpctl -n "__mcpctl_at 'token revoke'" -l email -x -d 'The user\'s email address.'
complete -c mcpctl -n "__mcpctl_at 'token revoke'" -l all -d 'With --email: revoke everything the user holds.'

# mcpctl token scan
complete -c mcpctl -n "__mcpctl_at 'token scan' 0+" -F -d 'Files or directories to scan; \'-\' or none reads standard input.'

# mcpctl client
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'list' -d 'List connected applications.'
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'show' -d 'Show one client with its consents and tokens.'
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'register' -d 'Register a client by hand.'
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'revoke' -d 'Delete a client with its consents and every token issued to it.'
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'block' -d 'Keep the client\'s record but refuse all its future use.'
complete -c mcpctl -n "__mcpctl_at 'client' 0" -a 'prune' -d 'Delete clients with no live token and no use for a while.'

# mcpctl client list
complete -c mcpctl -n "__mcpctl_at 'client list'" -l email -x -d 'Only applications this user has connected.'
complete -c mcpctl -n "__mcpctl_at 'client list'" -l all -d 'Include blocked clients.'

# mcpctl client register
complete -c mcpctl -n "__mcpctl_at 'client register'" -l name -x -d 'The client\'s name.'
complete -c mcpctl -n "__mcpctl_at 'client register'" -l redirect-uri -x -d 'An allowed redirect URI (repeat for several).'
complete -c mcpctl -n "__mcpctl_at 'client register'" -l confidential -d 'Issue a client secret (shown once).'

# mcpctl client prune
complete -c mcpctl -n "__mcpctl_at 'client prune'" -l unused-for -x -d 'Unused for at least this long (default: 30d).'
complete -c mcpctl -n "__mcpctl_at 'client prune'" -l dry-run -d 'Only list what would be deleted.'

# mcpctl audit
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'list' -d 'List audit events, newest first.'
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'tail' -d 'Print the latest events, oldest first; -f follows new ones.'
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'export' -d 'Stream every matching event, oldest first.'
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'verify' -d 'Walk the hash chain; name the first bad sequence number.'
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'head' -d 'Print the latest sequence number and chain hash.'
complete -c mcpctl -n "__mcpctl_at 'audit' 0" -a 'prune' -d 'Delete old events, keeping the chain verifiable from the cut point.'

# mcpctl audit list
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l since -x -d 'Only events at or after WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l until -x -d 'Only events before WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l source -x -a 'cli mcp oauth account admin sso' -d 'Only events from cli, mcp, oauth, account, admin or sso.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l email -x -d 'Only events of this user.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l client -x -d 'Only events of this OAuth client.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l token -x -d 'Only events of this token.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l app -x -d 'Only events on this app.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l env -x -d 'Only events on this environment.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l tool -x -d 'Only calls of this tool.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l action -x -d 'Only this action (e.g. tools/call, token.revoke).'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l decision -x -a 'allow deny' -d 'Only events with this decision: allow or deny.'
complete -c mcpctl -n "__mcpctl_at 'audit list'" -l limit -x -d 'At most N events (default: 100).'

# mcpctl audit tail
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -s f -l follow -d 'Keep printing new events as they are written, by any process.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -s n -l lines -x -d 'How many of the latest events to print first (default: 10).'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l format -x -a 'text jsonl' -d 'text (default): one table line per event. jsonl: every event, those printed first too, as one JSON object per line with the keys of \'audit list --json\', for pipes into a SIEM.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l since -x -d 'Only events at or after WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l until -x -d 'Only events before WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l source -x -a 'cli mcp oauth account admin sso' -d 'Only events from cli, mcp, oauth, account, admin or sso.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l email -x -d 'Only events of this user.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l client -x -d 'Only events of this OAuth client.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l token -x -d 'Only events of this token.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l app -x -d 'Only events on this app.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l env -x -d 'Only events on this environment.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l tool -x -d 'Only calls of this tool.'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l action -x -d 'Only this action (e.g. tools/call, token.revoke).'
complete -c mcpctl -n "__mcpctl_at 'audit tail'" -l decision -x -a 'allow deny' -d 'Only events with this decision: allow or deny.'

# mcpctl audit export
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l format -x -a 'jsonl csv' -d 'jsonl (default) or csv.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l since -x -d 'Only events at or after WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l until -x -d 'Only events before WHEN: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l source -x -a 'cli mcp oauth account admin sso' -d 'Only events from cli, mcp, oauth, account, admin or sso.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l email -x -d 'Only events of this user.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l client -x -d 'Only events of this OAuth client.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l token -x -d 'Only events of this token.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l app -x -d 'Only events on this app.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l env -x -d 'Only events on this environment.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l tool -x -d 'Only calls of this tool.'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l action -x -d 'Only this action (e.g. tools/call, token.revoke).'
complete -c mcpctl -n "__mcpctl_at 'audit export'" -l decision -x -a 'allow deny' -d 'Only events with this decision: allow or deny.'

# mcpctl audit verify
complete -c mcpctl -n "__mcpctl_at 'audit verify'" -l expect-head -x -d 'Also check that the chain still contains a head recorded earlier with \'audit head\'.'

# mcpctl audit prune
complete -c mcpctl -n "__mcpctl_at 'audit prune'" -l before -x -d 'Delete events older than this: a duration like 30m, 24h, 90d ago, or an RFC 3339 time.'

# mcpctl serve
complete -c mcpctl -n "__mcpctl_at 'serve'" -l listen -x -d 'Address and port to listen on (default: 127.0.0.1:8000).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l public-url -x -d 'The URL clients use to reach this server (default: http://LISTEN).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l access-token-ttl -x -d 'Lifetime of OAuth access tokens (default: 1h).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l refresh-reuse-grace -x -d 'A refresh token used again this soon after its rotation (two client threads refreshing at once) gets another token pair instead of revoking its family; at most 5m (default: 0s, off).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l allowed-origin -x -d 'An extra allowed browser Origin (repeatable).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l max-body -x -d 'Largest request body accepted, and longest message line a stdio upstream may write before it is ended, in bytes: 1024 to 268435456 (default: 4194304).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l max-buffered-bytes -x -d 'Most bytes of upstream answers held in memory at once, all requests together; an answer past it is refused with 503 (default: 268435456, 256 MiB).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l upstream-timeout -x -d 'How long an upstream may take to answer, e.g. 30s or 2m, from 1s to 24h; slower calls are answered 504 (default: 60s; an app\'s --timeout wins).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l max-connections -x -d 'Most concurrent connections (default: 1024).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l max-connections-per-address -x -d 'Most concurrent connections from one client address; more are answered 503 and closed (default: 64).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l keep-alive-timeout -x -d 'Close a connection idle this long between requests, e.g. 10s or 1m (default: 10s).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l log-level -x -a 'error warn info debug' -d 'error, warn, info (default) or debug.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l insecure-http -d 'Allow a non-loopback listen address without an https public URL.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l unauthenticated-introspection -d 'Let anyone call the introspection endpoint.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l trusted-user-header -x -d 'Take the logged-in user\'s email from this header set by a reverse proxy.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l trusted-proxy -x -d 'Address of a reverse proxy in front: its X-Forwarded-For names the client in audit rows and per-address limits, and it may set the trusted user header (repeatable).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l unauthenticated-rate -x -d 'MCP requests without a valid credential allowed per client address per minute (default: 120); beyond it they get 429 and one audit row per address per minute.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l session-idle -x -d 'Sign a browser out after this long without a request to the account pages or the authorization flow, from 5m to 30d (default: 12h).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l session-max-age -x -d 'Sign a browser out this long after it signed in, however active, from 5m to 90d and not shorter than --session-idle (default: 7d).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l max-token-ttl -x -d 'Longest lifetime of a personal token that users create for themselves on the account page, from 1h to 10y (default: 90d).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l no-self-service-tokens -d 'Hide token creation on the account page (users can still see, rotate and revoke their tokens; operators create tokens with \'mcpctl token create\').'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l quickstart -d 'First create (or reuse) a user, a viewer grant on mcpctl/local and a fresh token, and print a ready-to-paste client configuration.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l email -x -d 'With --quickstart: the user to set up (default: admin@localhost).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l tool-approval -x -a 'changed new off' -d 'Which tools wait for \'mcpctl tool approve\': changed (default: a tool is trusted when first seen, and held when its definition later changes), new (also every tool never seen before; tools already pinned stay approved) or off (no pinning).'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l audit-sync -x -a 'full normal' -d 'full (default): every acknowledged request\'s audit row is synced to disk before the answer (one sync per group commit), surviving power loss and a file system going read-only. normal: rows survive a crash of the server but the last ones before a power loss or OS failure can be lost, while the requests were answered.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l audit-forward -x -d 'Also ship every audit event (all sources) to this SIEM collector (https; plain http only on a loopback host): JSON arrays of events as \'audit list --json\' prints them, POSTed in batches, oldest first. Non-2xx answers and connection errors are retried with backoff (0.5s doubling to 30s); the last acknowledged event is kept in the store, so a restart resumes there (at most the batch in flight is sent twice). The first run starts with the oldest event. Requests are never held up by it.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l metrics-listen -x -d 'Also serve GET /metrics (Prometheus text format) on this second address, e.g. 127.0.0.1:9464; off by default. Labels carry app and environment names known to the store (others count as "unknown"), decisions and statuses; never emails or token ids.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l audit-forward-header -x -d 'A header for --audit-forward requests (e.g. Authorization=env:SIEM_TOKEN) whose value is read from environment variable VAR when the server starts; never logged (repeatable). With a header, the endpoint must be https unless it is on a loopback host.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l otlp-endpoint -x -d 'Export OpenTelemetry traces (OTLP/HTTP, JSON) to this collector base URL, e.g. http://127.0.0.1:4318 (/v1/traces is appended unless the path already ends with it): a server span per MCP request with child spans for authentication, authorization, the upstream call and the audit write. Without it, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as given) or OTEL_EXPORTER_OTLP_ENDPOINT (/v1/traces appended) turn it on; OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1 exports a tenth of new traces (a caller\'s sampling decision is kept). Spans are sent in batches from a bounded queue and dropped (and counted in /metrics) when the collector is down or slow; requests never wait for it.'
complete -c mcpctl -n "__mcpctl_at 'serve'" -l otlp-header -x -d 'A header for --otlp-endpoint requests (e.g. Authorization=env:OTLP_TOKEN) whose value is read from environment variable VAR when the server starts; never logged (repeatable).'

# mcpctl doctor
complete -c mcpctl -n "__mcpctl_at 'doctor'" -l public-url -x -d 'The URL clients use to reach the server (default: $MCPCTL_PUBLIC_URL); without it the public URL and clock checks are skipped.'

# mcpctl store
complete -c mcpctl -n "__mcpctl_at 'store' 0" -a 'backup' -d 'Write a consistent copy of the store to FILE (mode 0600), safe while \'serve\' runs.'
complete -c mcpctl -n "__mcpctl_at 'store' 0" -a 'restore' -d 'Replace the store with a backup, after checking its integrity and audit chain.'
complete -c mcpctl -n "__mcpctl_at 'store' 0" -a 'copy' -d 'Copy the whole store into a new, empty store: SQLite to PostgreSQL or back.'

# mcpctl store backup
complete -c mcpctl -n "__mcpctl_at 'store backup'" -l force -d 'Replace FILE if it exists.'
complete -c mcpctl -n "__mcpctl_at 'store backup' 0" -F -d 'Where to write the backup.'

# mcpctl store restore
complete -c mcpctl -n "__mcpctl_at 'store restore'" -l force -d 'Restore even while a server has the store open (the server then refuses every request until restarted).'
complete -c mcpctl -n "__mcpctl_at 'store restore' 0" -F -d 'The backup made by \'mcpctl store backup\'.'

# mcpctl store copy
complete -c mcpctl -n "__mcpctl_at 'store copy'" -l to -x -d 'The new store: a SQLite file path, or a postgresql:// URL naming an empty database or schema.'

# mcpctl completion
complete -c mcpctl -n "__mcpctl_at 'completion' 0" -a 'bash zsh fish' -d 'bash, zsh or fish.'

# mcpctl help
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'init' -d 'Create the store and print where it is; on an existing store, change nothing and say so.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'user' -d 'Manage users.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'app' -d 'Manage apps and their environments (upstream MCP servers).'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'tool' -d 'Inspect tools, set the scope each needs, and approve changed tools.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'group' -d 'Manage groups of users; a grant to a group applies to every member.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'issuer' -d 'Accept access tokens from an outside authorization server (your organization\'s IdP).'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'idp' -d 'Let users sign in with your organization\'s OpenID Connect identity provider (single sign-on).'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'grant' -d 'Grant users or groups scopes on apps.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'can-i' -d 'Ask whether a user (or one of their tokens) may do something; exit 0 for yes, 1 for no.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'token' -d 'Manage personal access tokens.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'client' -d 'Manage OAuth clients (connected applications).'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'audit' -d 'Query, export and verify the audit log.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'serve' -d 'Run the OAuth 2.1 authorization server and the MCP gateway.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'doctor' -d 'Check the store, the public URL, the upstreams and the clock; say what to fix, one line each.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'store' -d 'Back up, restore and copy the store.'
complete -c mcpctl -n "__mcpctl_at 'help' 0" -a 'completion' -d 'Print a shell completion script.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'add' -d 'Add a user.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'list' -d 'List users.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'show' -d 'Show one user with their grants and live tokens.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'disable' -d 'Disable a user and revoke every credential they hold, at once.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'enable' -d 'Enable a disabled user (revoked credentials stay revoked).'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'remove' -d 'Remove a user with their tokens, grants and consents.'
complete -c mcpctl -n "__mcpctl_at 'help user' 0" -a 'passwd' -d 'Set a user\'s password.'
complete -c mcpctl -n "__mcpctl_at 'help app' 0" -a 'add' -d 'Add an environment of an app, served at /mcp/APP/ENV.'
complete -c mcpctl -n "__mcpctl_at 'help app' 0" -a 'update' -d 'Change an environment\'s upstream, timeout or credential references.'
complete -c mcpctl -n "__mcpctl_at 'help app' 0" -a 'show' -d 'Show an app\'s environments: upstream, timeout and credential references (never their values).'
complete -c mcpctl -n "__mcpctl_at 'help app' 0" -a 'list' -d 'List apps and environments.'
complete -c mcpctl -n "__mcpctl_at 'help app' 0" -a 'remove' -d 'Remove an environment, or a whole app.'
complete -c mcpctl -n "__mcpctl_at 'help tool' 0" -a 'list' -d 'List the tools the gateway has seen, with the scope each needs and why, and its pin state.'
complete -c mcpctl -n "__mcpctl_at 'help tool' 0" -a 'scope' -d 'Set the scope a tool needs (auto: follow its annotations).'
complete -c mcpctl -n "__mcpctl_at 'help tool' 0" -a 'approve' -d 'Accept a held tool\'s new definition; it is listed and callable again.'
complete -c mcpctl -n "__mcpctl_at 'help tool' 0" -a 'diff' -d 'Show how a held tool\'s definition changed, as a unified diff; exit 0 if a change is pending, 1 if none.'
complete -c mcpctl -n "__mcpctl_at 'help group' 0" -a 'add' -d 'Add a group.'
complete -c mcpctl -n "__mcpctl_at 'help group' 0" -a 'list' -d 'List groups with their number of members and grants.'
complete -c mcpctl -n "__mcpctl_at 'help group' 0" -a 'show' -d 'Show one group with its members and grants.'
complete -c mcpctl -n "__mcpctl_at 'help group' 0" -a 'remove' -d 'Remove a group with its memberships and grants.'
complete -c mcpctl -n "__mcpctl_at 'help group' 0" -a 'member' -d 'Add users to a group or remove them.'
complete -c mcpctl -n "__mcpctl_at 'help group member' 0" -a 'add' -d 'Make a user a member of a group.'
complete -c mcpctl -n "__mcpctl_at 'help group member' 0" -a 'remove' -d 'End a user\'s membership of a group; what the group granted is gone on the next request.'
complete -c mcpctl -n "__mcpctl_at 'help issuer' 0" -a 'add' -d 'Add an outside issuer.'
complete -c mcpctl -n "__mcpctl_at 'help issuer' 0" -a 'list' -d 'List the outside issuers.'
complete -c mcpctl -n "__mcpctl_at 'help issuer' 0" -a 'remove' -d 'Remove an outside issuer; its tokens are refused from the server\'s next request.'
complete -c mcpctl -n "__mcpctl_at 'help idp' 0" -a 'add' -d 'Add an identity provider.'
complete -c mcpctl -n "__mcpctl_at 'help idp' 0" -a 'list' -d 'List the identity providers.'
complete -c mcpctl -n "__mcpctl_at 'help idp' 0" -a 'remove' -d 'Remove an identity provider; its sign-in button disappears and the --idp-group mappings bound to it are dropped. Users it created and group members stay.'
complete -c mcpctl -n "__mcpctl_at 'help idp' 0" -a 'unbind' -d 'Let a user sign in with another account at the provider: the next sign-in naming their email binds that account.'
complete -c mcpctl -n "__mcpctl_at 'help grant' 0" -a 'add' -d 'Grant a user, or every member of a group, a role or scopes on an app (one environment or all).'
complete -c mcpctl -n "__mcpctl_at 'help grant' 0" -a 'list' -d 'List grants: users\' own, then groups\'.'
complete -c mcpctl -n "__mcpctl_at 'help grant' 0" -a 'revoke' -d 'Revoke a user\'s or a group\'s grant on an app (all environments unless --env).'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'create' -d 'Create a personal token; prints only the secret on stdout.'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'list' -d 'List tokens (live ones unless --all).'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'show' -d 'Show one token.'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'rotate' -d 'Issue a new secret for a token; the old one dies after the grace period.'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'revoke' -d 'Revoke tokens by id or pasted secret, or every credential of a user.'
complete -c mcpctl -n "__mcpctl_at 'help token' 0" -a 'scan' -d 'Find mcpctl tokens in files, directories or stdin and say which are live.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'list' -d 'List connected applications.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'show' -d 'Show one client with its consents and tokens.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'register' -d 'Register a client by hand.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'revoke' -d 'Delete a client with its consents and every token issued to it.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'block' -d 'Keep the client\'s record but refuse all its future use.'
complete -c mcpctl -n "__mcpctl_at 'help client' 0" -a 'prune' -d 'Delete clients with no live token and no use for a while.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'list' -d 'List audit events, newest first.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'tail' -d 'Print the latest events, oldest first; -f follows new ones.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'export' -d 'Stream every matching event, oldest first.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'verify' -d 'Walk the hash chain; name the first bad sequence number.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'head' -d 'Print the latest sequence number and chain hash.'
complete -c mcpctl -n "__mcpctl_at 'help audit' 0" -a 'prune' -d 'Delete old events, keeping the chain verifiable from the cut point.'
complete -c mcpctl -n "__mcpctl_at 'help store' 0" -a 'backup' -d 'Write a consistent copy of the store to FILE (mode 0600), safe while \'serve\' runs.'
complete -c mcpctl -n "__mcpctl_at 'help store' 0" -a 'restore' -d 'Replace the store with a backup, after checking its integrity and audit chain.'
complete -c mcpctl -n "__mcpctl_at 'help store' 0" -a 'copy' -d 'Copy the whole store into a new, empty store: SQLite to PostgreSQL or back.'
