# A throwaway PostgreSQL 15 cluster for the bench scripts (source it after bench/lib.sh). The approach of
# .ci/postgres (initdb into a temporary directory as an unprivileged user, loopback only, SCRAM password,
# a non-superuser role owning the database), but durable by default: the figures are meant to be compared
# with a SQLite store that syncs its WAL, so fsync, full_page_writes and synchronous_commit stay on unless
# PG_FSYNC=off says otherwise (then every figure measures a non-durable database; the script prints which).
#
#   start_postgres DIR   sets PG_PORT, PG_URL (postgresql://mcpctl:…@127.0.0.1:PORT/mcpctl_bench), PG_DATA, PG_BINDIR,
#                        PG_SETTINGS (a line describing the durability settings); the cluster lives in DIR/data
#   pg_sql SQL           runs SQL as the superuser on the bench database (unaligned, no headers)
#   postgres_pids        prints the postmaster's pid and its children's (backends, WAL writer, checkpointer…)
#   stop_postgres        stops it (immediate) — call it from the caller's cleanup

PG_FSYNC=${PG_FSYNC:-on}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-300}
# pg_stat_statements (Debian's postgresql-15 ships it) counts statements per request for the profile part;
# PG_STAT_STATEMENTS=0 leaves it out (it costs the server a little on every statement).
PG_STAT_STATEMENTS=${PG_STAT_STATEMENTS:-1}
PG_DIR="" PG_PORT="" PG_DATA="" PG_BINDIR="" PG_URL="" PG_SETTINGS=""
PG_AS_OWNER=()

# find_postgres: sets PG_BINDIR, installing Debian's postgresql-15 when no initdb is found (as root).
find_postgres() {
    local candidate
    for candidate in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then PG_BINDIR=$candidate; return 0; fi
    done
    [ "$(id -u)" = 0 ] || { echo "postgresql-15 is missing: apt-get install postgresql-15" >&2; return 1; }
    echo "installing postgresql-15 from Debian…" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null ||
        return 1
    PG_BINDIR=/usr/lib/postgresql/15/bin
}

start_postgres() {
    local port password durability
    find_postgres || return 1
    # PostgreSQL refuses to run as root: the cluster belongs to `nobody` then.
    PG_AS_OWNER=()
    [ "$(id -u)" = 0 ] && PG_AS_OWNER=(runuser -u nobody --)
    PG_DIR=$1
    PG_DATA=$PG_DIR/data
    mkdir -p "$PG_DIR" && chmod 700 "$PG_DIR"
    # `nobody` must be able to reach DIR: its parent (e.g. a mktemp -d directory, mode 700) gets o+x.
    [ "$(id -u)" = 0 ] && chown nobody "$PG_DIR" && chmod o+x "$(dirname "$PG_DIR")"
    port=$(free_port) || return 1
    PG_PORT=$port
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" >"$PG_DIR/pwfile"
    [ "$(id -u)" = 0 ] && chown nobody "$PG_DIR/pwfile"
    "${PG_AS_OWNER[@]}" "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_DIR/pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    if [ "$PG_FSYNC" = off ]; then
        durability="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    else
        durability="-c fsync=on -c full_page_writes=on -c synchronous_commit=on"
    fi
    [ "$PG_STAT_STATEMENTS" = 1 ] && durability="$durability -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    # shellcheck disable=SC2086
    "${PG_AS_OWNER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR -c max_connections=$PG_MAX_CONNECTIONS $durability" \
        start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
    "${PG_AS_OWNER[@]}" "$PG_BINDIR/psql" -q -h "$PG_DIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL || return 1
CREATE ROLE mcpctl LOGIN PASSWORD '$password';
CREATE DATABASE mcpctl_bench OWNER mcpctl;
SQL
    if [ "$PG_STAT_STATEMENTS" = 1 ]; then
        pg_sql "CREATE EXTENSION pg_stat_statements" >/dev/null || return 1
    fi
    PG_URL="postgresql://mcpctl:$password@127.0.0.1:$port/mcpctl_bench"
    PG_SETTINGS="PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $PG_DATA; $(
        pg_sql "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
                WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections', 'shared_preload_libraries')")"
}

# pg_sql SQL: runs SQL as the superuser on the bench database, unaligned output without headers.
pg_sql() {
    "${PG_AS_OWNER[@]}" "$PG_BINDIR/psql" -X -q -A -t -h "$PG_DIR" -p "$PG_PORT" -U postgres -d mcpctl_bench -c "$1"
}

postgres_pids() {
    local master
    master=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 0
    printf '%s\n' "$master"
    pgrep -P "$master" || true
}

stop_postgres() {
    [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] &&
        "${PG_AS_OWNER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
    return 0
}
