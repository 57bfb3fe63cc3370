# chroma-server.sh - the real Chroma 1.0 server for shell suites (source it).
#
# Needs $tmp (a scratch folder) and a pids array (killed by the suite's
# cleanup); run from the project root.
#   start_chroma NAME DIR [PORT]  starts tests/node/chroma-server.mjs on DIR (a free port unless PORT),
#                                 output in $tmp/NAME.out, log in $tmp/NAME.log; sets CHROMA_URL and
#                                 CHROMA_PID (the node wrapper); rc 1 (with the output) if it did not start
#   chroma_child PID              the server process itself (the wrapper's child)
#   free_port                     a TCP port on 127.0.0.1 nobody listens on

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_chroma() {
  local out=$tmp/$1.out port=${3:-}
  mkdir -p "$2"
  (cd tests/node && exec node chroma-server.mjs "$2" "$port" "$tmp/$1.log" >"$out" 2>&1) &
  CHROMA_PID=$!
  pids+=("$CHROMA_PID")
  CHROMA_URL=
  for _ in $(seq 600); do
    CHROMA_URL=$(sed -n 's|^chroma server: \(http://[0-9.:]*\) .*|\1|p' "$out" 2>/dev/null)
    [ -n "$CHROMA_URL" ] && break
    kill -0 "$CHROMA_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$CHROMA_URL" ] || { echo "chroma server $1 did not start:"; cat "$out"; return 1; }
}

chroma_child() { pgrep -P "$1" -f 'chroma-server.mjs --child' | head -1; }
