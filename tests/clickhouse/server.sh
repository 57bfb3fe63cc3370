# server.sh - run Debian's ClickHouse (18.16) as a plain process for tests and benchmarks.
#
# Source it, then:
#   ch_start DIR      writes DIR/config.xml + DIR/users.xml (127.0.0.1 only, free ports, data, tmp and
#                     logs under DIR), starts clickhouse-server in the background, waits for /ping.
#                     Sets CH_HTTP_PORT, CH_TCP_PORT, CH_PID. Users (all loopback only):
#                       default  no password
#                       chroma   password $CH_TEST_PASSWORD (special characters on purpose)
#                       ro       no password, readonly=1 (may not change settings)
#                       limited  no password, at most 3000 result rows in blocks of 500 rows
#                                (a query over that fails after the answer has started)
#                     With CH_TLS_CERT and CH_TLS_KEY set (PEM files), also an HTTPS port:
#                     CH_HTTPS_PORT (18.16's <https_port> and <openSSL><server> section).
#   ch_stop           SIGTERM to CH_PID, waits (SIGKILL after 20 s). Safe to call twice.
#   ch_query SQL [USER [PASSWORD]]   runs SQL over HTTP (POST body), prints the body; rc 1 on HTTP != 200
# Needs: clickhouse-server, curl, bash (free ports are found by probing /dev/tcp/127.0.0.1/PORT).

CH_TEST_PASSWORD=${CH_TEST_PASSWORD:-'p@ss:w/rd %41&é'}

ch__free_port() { # prints a TCP port on 127.0.0.1 nobody listens on
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

ch__xml_escape() { local s=$1; s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; printf '%s' "$s"; }

ch_start() {
  local dir=$1
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas"
  command -v clickhouse-server >/dev/null || { echo "clickhouse-server not installed (scripts/install-test-deps.sh)" >&2; return 1; }
  local attempt
  for attempt in 1 2 3; do
    CH_HTTP_PORT=$(ch__free_port) && CH_TCP_PORT=$(ch__free_port) || return 1
    [ "$CH_HTTP_PORT" != "$CH_TCP_PORT" ] || continue
    local tls_xml=""
    if [ -n "${CH_TLS_CERT:-}" ]; then
      CH_HTTPS_PORT=$(ch__free_port) || return 1
      tls_xml="<https_port>$CH_HTTPS_PORT</https_port>
    <openSSL><server><certificateFile>$CH_TLS_CERT</certificateFile><privateKeyFile>$CH_TLS_KEY</privateKeyFile>
      <verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions><disableProtocols>sslv2,sslv3</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers></server></openSSL>"
    fi
    cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/server.log</log>
        <errorlog>$dir/log/server.err.log</errorlog>
        <console>0</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    $tls_xml
    <max_connections>64</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>32</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
    cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
        <ro>
            <readonly>1</readonly>
        </ro>
        <limited>
            <max_block_size>500</max_block_size>
            <max_result_rows>3000</max_result_rows>
            <result_overflow_mode>throw</result_overflow_mode>
        </limited>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <chroma>
            <password>$(ch__xml_escape "$CH_TEST_PASSWORD")</password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </chroma>
        <ro>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>ro</profile>
            <quota>default</quota>
        </ro>
        <limited>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>limited</profile>
            <quota>default</quota>
        </limited>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
    (cd "$dir" && exec clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1) &
    CH_PID=$!
    local i
    for i in $(seq 1 300); do
      if curl -s --max-time 1 "http://127.0.0.1:$CH_HTTP_PORT/ping" 2>/dev/null | grep -q '^Ok'; then
        return 0
      fi
      kill -0 "$CH_PID" 2>/dev/null || break
      sleep 0.1
    done
    echo "clickhouse-server did not come up (attempt $attempt, http port $CH_HTTP_PORT); log tail:" >&2
    tail -n 20 "$dir/log/server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null
    ch_stop
  done
  return 1
}

ch_stop() {
  [ -n "${CH_PID:-}" ] || return 0
  if kill -0 "$CH_PID" 2>/dev/null; then
    kill -TERM "$CH_PID" 2>/dev/null
    local i
    for i in $(seq 1 200); do
      kill -0 "$CH_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$CH_PID" 2>/dev/null && kill -KILL "$CH_PID" 2>/dev/null
    wait "$CH_PID" 2>/dev/null
  fi
  CH_PID=
}

ch_query() { # SQL [USER [PASSWORD]]
  local auth=() out code
  [ -n "${2:-}" ] && auth+=(-H "X-ClickHouse-User: $2")
  [ -n "${3:-}" ] && auth+=(-H "X-ClickHouse-Key: $3")
  out=$(mktemp)
  code=$(curl -sS -o "$out" -w '%{http_code}' "${auth[@]}" --data-binary "$1" "http://127.0.0.1:$CH_HTTP_PORT/")
  cat "$out"
  rm -f "$out"
  [ "$code" = 200 ]
}
