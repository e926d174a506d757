# bash completion for mcpctl
# Generated from mcpctl's command table by 'mcpctl completion bash'; do not edit.
# Install: save as /usr/share/bash-completion/completions/mcpctl, or source it from ~/.bashrc.

# Adds to COMPREPLY each of $2... that starts with $1.
_mcpctl_add() {
    local cur="$1" word
    shift
    for word in "$@"; do
        if [[ "$word" == "$cur"* ]]; then
            COMPREPLY+=("$word")
        fi
    done
}

# Succeeds when the first argument equals one of the others.
_mcpctl_contains() {
    local word="$1" item
    shift
    for item in "$@"; do
        [[ "$item" == "$word" ]] && return 0
    done
    return 1
}

# Adds file names (compgen -f) or directory names (compgen -d) starting with $2.
_mcpctl_paths() {
    local line
    compopt -o filenames 2>/dev/null
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(compgen "$1" -- "$2")
}

# Sets cmds, opts and value_opts for the command path $1.
_mcpctl_spec() {
    cmds=() opts=() value_opts=()
    case "$1" in
        '')
            cmds=(init user app tool group issuer idp grant can-i token client audit serve doctor store completion help)
            ;;
        'user')
            cmds=(add list show disable enable remove passwd)
            ;;
        'user add')
            opts=(--name --password-stdin)
            value_opts=(--name)
            ;;
        'user passwd')
            opts=(--password-stdin)
            ;;
        'app')
            cmds=(add update show list remove)
            ;;
        'app add')
            opts=(--env --upstream --command --timeout --upstream-header --env-var)
            value_opts=(--env --upstream --command --timeout --upstream-header --env-var)
            ;;
        'app update')
            opts=(--env --upstream --command --timeout --upstream-header --env-var)
            value_opts=(--env --upstream --command --timeout --upstream-header --env-var)
            ;;
        'app show')
            opts=(--env)
            value_opts=(--env)
            ;;
        'app remove')
            opts=(--env)
            value_opts=(--env)
            ;;
        'tool')
            cmds=(list scope approve diff)
            ;;
        'tool list')
            opts=(--env)
            value_opts=(--env)
            ;;
        'tool approve')
            opts=(--env)
            value_opts=(--env)
            ;;
        'tool diff')
            opts=(--env)
            value_opts=(--env)
            ;;
        'group')
            cmds=(add list show remove member)
            ;;
        'group add')
            opts=(--idp-group --idp)
            value_opts=(--idp-group --idp)
            ;;
        'group member')
            cmds=(add remove)
            ;;
        'issuer')
            cmds=(add list remove)
            ;;
        'issuer add')
            opts=(--issuer --audience --introspection-url --client-id --client-secret-file --email-claim --allowed-domain --token-prefix)
            value_opts=(--issuer --audience --introspection-url --client-id --client-secret-file --email-claim --allowed-domain --token-prefix)
            ;;
        'idp')
            cmds=(add list remove unbind)
            ;;
        'idp add')
            opts=(--issuer --client-id --client-secret-file --scopes --groups-claim --allowed-domain --create-users --trust-email)
            value_opts=(--issuer --client-id --client-secret-file --scopes --groups-claim --allowed-domain)
            ;;
        'grant')
            cmds=(add list revoke)
            ;;
        'grant add')
            opts=(--group --app --env --role --scopes)
            value_opts=(--group --app --env --role --scopes)
            ;;
        'grant list')
            opts=(--email --app --group)
            value_opts=(--email --app --group)
            ;;
        'grant revoke')
            opts=(--group --app --env)
            value_opts=(--group --app --env)
            ;;
        'can-i')
            opts=(--app --env --token --list)
            value_opts=(--app --env --token)
            ;;
        'token')
            cmds=(create list show rotate revoke scan)
            ;;
        'token create')
            opts=(--email --name --scopes --app --env --expires --introspection --print-config --url)
            value_opts=(--email --name --scopes --app --env --expires --url)
            ;;
        'token list')
            opts=(--email --all)
            value_opts=(--email)
            ;;
        'token rotate')
            opts=(--grace)
            value_opts=(--grace)
            ;;
        'token revoke')
            opts=(--email --all)
            value_opts=(--email)
            ;;
        'client')
            cmds=(list show register revoke block prune)
            ;;
        'client list')
            opts=(--email --all)
            value_opts=(--email)
            ;;
        'client register')
            opts=(--name --redirect-uri --confidential)
            value_opts=(--name --redirect-uri)
            ;;
        'client prune')
            opts=(--unused-for --dry-run)
            value_opts=(--unused-for)
            ;;
        'audit')
            cmds=(list tail export verify head prune)
            ;;
        'audit list')
            opts=(--since --until --source --email --client --token --app --env --tool --action --decision --limit)
            value_opts=(--since --until --source --email --client --token --app --env --tool --action --decision --limit)
            ;;
        'audit tail')
            opts=(--follow -f --lines -n --format --since --until --source --email --client --token --app --env --tool --action --decision)
            value_opts=(--lines -n --format --since --until --source --email --client --token --app --env --tool --action --decision)
            ;;
        'audit export')
            opts=(--format --since --until --source --email --client --token --app --env --tool --action --decision)
            value_opts=(--format --since --until --source --email --client --token --app --env --tool --action --decision)
            ;;
        'audit verify')
            opts=(--expect-head)
            value_opts=(--expect-head)
            ;;
        'audit prune')
            opts=(--before)
            value_opts=(--before)
            ;;
        'serve')
            opts=(--listen --public-url --access-token-ttl --refresh-reuse-grace --allowed-origin --max-body --max-buffered-bytes --upstream-timeout --max-connections --max-connections-per-address --keep-alive-timeout --log-level --insecure-http --unauthenticated-introspection --trusted-user-header --trusted-proxy --unauthenticated-rate --session-idle --session-max-age --max-token-ttl --no-self-service-tokens --quickstart --email --tool-approval --audit-sync --audit-forward --metrics-listen --audit-forward-header --otlp-endpoint --otlp-header)
            value_opts=(--listen --public-url --access-token-ttl --refresh-reuse-grace --allowed-origin --max-body --max-buffered-bytes --upstream-timeout --max-connections --max-connections-per-address --keep-alive-timeout --log-level --trusted-user-header --trusted-proxy --unauthenticated-rate --session-idle --session-max-age --max-token-ttl --email --tool-approval --audit-sync --audit-forward --metrics-listen --audit-forward-header --otlp-endpoint --otlp-header)
            ;;
        'doctor')
            opts=(--public-url)
            value_opts=(--public-url)
            ;;
        'store')
            cmds=(backup restore copy)
            ;;
        'store backup')
            opts=(--force)
            ;;
        'store restore')
            opts=(--force)
            ;;
        'store copy')
            opts=(--to)
            value_opts=(--to)
            ;;
    esac
    opts+=(--db --json --version --help -h)
    value_opts+=(--db)
}

# Completes $3 as the value of option $2 of the command path $1.
_mcpctl_value() {
    case "$1|$2" in
        'issuer add|--client-secret-file')
            _mcpctl_paths -f "$3"
            ;;
        'idp add|--client-secret-file')
            _mcpctl_paths -f "$3"
            ;;
        'grant add|--role')
            _mcpctl_add "$3" viewer editor admin
            ;;
        'grant add|--scopes')
            _mcpctl_add "$3" read write delete read,write read,write,delete
            ;;
        'token create|--scopes')
            _mcpctl_add "$3" read write delete read,write read,write,delete
            ;;
        'token create|--expires')
            _mcpctl_add "$3" 30d 90d never
            ;;
        'audit list|--source')
            _mcpctl_add "$3" cli mcp oauth account admin sso
            ;;
        'audit list|--decision')
            _mcpctl_add "$3" allow deny
            ;;
        'audit tail|--format')
            _mcpctl_add "$3" text jsonl
            ;;
        'audit tail|--source')
            _mcpctl_add "$3" cli mcp oauth account admin sso
            ;;
        'audit tail|--decision')
            _mcpctl_add "$3" allow deny
            ;;
        'audit export|--format')
            _mcpctl_add "$3" jsonl csv
            ;;
        'audit export|--source')
            _mcpctl_add "$3" cli mcp oauth account admin sso
            ;;
        'audit export|--decision')
            _mcpctl_add "$3" allow deny
            ;;
        'serve|--log-level')
            _mcpctl_add "$3" error warn info debug
            ;;
        'serve|--tool-approval')
            _mcpctl_add "$3" changed new off
            ;;
        'serve|--audit-sync')
            _mcpctl_add "$3" full normal
            ;;
        *'|--db')
            _mcpctl_paths -f "$3"
            ;;
    esac
}

# Completes $3 as positional argument number $2 (from 0) of the command path $1.
_mcpctl_argument() {
    case "$1" in
        'tool scope')
            if (( $2 == 2 )); then _mcpctl_add "$3" read write delete auto; fi
            ;;
        'can-i')
            if (( $2 == 1 )); then _mcpctl_add "$3" read write delete; fi
            ;;
        'token scan')
            if (( $2 >= 0 )); then _mcpctl_paths -f "$3"; fi
            ;;
        'store backup')
            if (( $2 == 0 )); then _mcpctl_paths -f "$3"; fi
            ;;
        'store restore')
            if (( $2 == 0 )); then _mcpctl_paths -f "$3"; fi
            ;;
        'completion')
            if (( $2 == 0 )); then _mcpctl_add "$3" bash zsh fish; fi
            ;;
    esac
}

_mcpctl() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" word pending=""
    local -a cmds opts value_opts
    local -i i npos=0 dashdash=0 helpmode=0
    COMPREPLY=()
    _mcpctl_spec ""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ -n "$pending" ]]; then
            # COMP_WORDBREAKS splits --opt=value into '--opt' '=' 'value'.
            [[ "$word" == "=" ]] || pending=""
            continue
        fi
        if ((dashdash)); then
            npos+=1
            continue
        fi
        case "$word" in
            --) dashdash=1 ;;
            --*=*) ;;
            -?*)
                if _mcpctl_contains "$word" "${value_opts[@]}"; then
                    pending="$word"
                elif [[ "$word" != --* ]] && _mcpctl_contains "-${word: -1}" "${value_opts[@]}"; then
                    pending="-${word: -1}"
                fi
                ;;
            *)
                if ((npos == 0 && helpmode == 0)) && [[ -z "$cmdpath" && "$word" == help ]]; then
                    helpmode=1
                elif ((npos == 0)) && _mcpctl_contains "$word" "${cmds[@]}"; then
                    cmdpath="${cmdpath:+$cmdpath }$word"
                    _mcpctl_spec "$cmdpath"
                else
                    npos+=1
                fi
                ;;
        esac
    done
    if [[ -n "$pending" ]]; then
        [[ "$cur" == "=" ]] && cur=""
        _mcpctl_value "$cmdpath" "$pending" "$cur"
        return 0
    fi
    if ((dashdash == 0)) && [[ "$cur" == --*=* ]]; then
        _mcpctl_value "$cmdpath" "${cur%%=*}" "${cur#*=}"
        COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
        return 0
    fi
    if ((helpmode)); then
        _mcpctl_add "$cur" "${cmds[@]}"
        return 0
    fi
    if ((dashdash == 0)) && [[ "$cur" == -* ]]; then
        _mcpctl_add "$cur" "${opts[@]}"
        return 0
    fi
    if ((npos == 0)); then
        _mcpctl_add "$cur" "${cmds[@]}"
    fi
    _mcpctl_argument "$cmdpath" "$npos" "$cur"
    return 0
}

complete -F _mcpctl mcpctl
