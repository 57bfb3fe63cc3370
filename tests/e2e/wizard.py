#!/usr/bin/env python3
"""The wizard driven in a real pseudo-terminal (tmux): defaults, arrow keys,
numbers, invalid answers re-asked, Ctrl-C; each finished migration is then
checked in the real Chroma server. Every source (ClickHouse, a DuckDB
persist_directory, a Chroma server) x every target (a directory, a Chroma
server) is run through the wizard and its result proven by `verify` with the
command line the wizard printed. Header values typed in are never shown. The
progress bars (collection and overall) appear on a terminal; without a
terminal and without arguments it prints usage and exits 2; non-terminal runs
print no escapes.

usage: wizard.py BINARY   (prints 'wizard: N passed, N failed')
env (set by tests/suites/70-wizard.sh): CM_WIZ_CH_PORT (a loaded ClickHouse),
CM_WIZ_SRC_URL (a Chroma server holding the chroma-migrate fixture),
CM_WIZ_DST_URL (an empty Chroma server)."""
import json, os, shlex, shutil, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.environ.get("CM_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")))
NODE_DIR = os.path.join(ROOT, "tests", "node")
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "chroma-migrate"))
FIX = os.path.join(ROOT, "..", "shared", "fixtures", "legacy")
SOCK = f"cmwiz{os.getpid()}"
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}\n{detail}")


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCK, *args], capture_output=True, text=True)


class Session:
    def __init__(self, cwd, args=""):
        self.cwd = cwd
        tmux("kill-server")
        # The exit code is written to a file when the program ends.
        q = shlex.quote
        cmd = f"cd {q(cwd)} && TERM=xterm {q(BIN)} {args}; echo $? > {q(cwd)}/exit_code; sleep 30"
        r = tmux("new-session", "-d", "-x", "200", "-y", "60", "-s", "w", "bash", "-c", cmd)
        assert r.returncode == 0, r.stderr

    def screen(self):
        return tmux("capture-pane", "-p", "-J", "-S", "-400", "-t", "w").stdout

    def wait_for(self, text, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            s = self.screen()
            if text in s:
                return True
            time.sleep(0.1)
        print(f"--- timed out waiting for {text!r}; screen:\n{self.screen()}")
        return False

    def keys(self, *k):
        tmux("send-keys", "-t", "w", *k)

    def type(self, s):
        tmux("send-keys", "-t", "w", "-l", s)

    def exit_code(self, timeout=120):
        """The program's exit code; "signal" when a signal ended it (the pane's shell then
        dies with it and never writes the file); None on timeout."""
        end = time.time() + timeout
        p = os.path.join(self.cwd, "exit_code")
        while time.time() < end:
            if os.path.exists(p) and open(p).read().strip():
                return int(open(p).read().strip())
            if tmux("has-session", "-t", "w").returncode != 0:
                return "signal"
            time.sleep(0.2)
        return None

    def close(self):
        tmux("kill-server")


def checker(store, out):
    r = subprocess.run(["node", "check-migrated.mjs", "--store", store, "--dir", out], cwd=NODE_DIR,
                       capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


Q_FROM = "Where would you like to migrate your data from?"
Q_TO = "Where is the Chroma instance you want to migrate to?"
Q_PATH = "What is the path to the persist directory"
Q_TARGET = "What is the path you would like your data to be stored in?"


def fresh(name, fixture):
    d = tempfile.mkdtemp(prefix="cm-wiz-%s-" % "".join(c if c.isalnum() else "_" for c in name))
    if fixture:
        shutil.copytree(os.path.join(FIX, fixture), os.path.join(d, "chroma"))
    return d


# 1. Defaults everywhere except the source kind, chosen by number; a store with
#    duplicate ids asks which copy to keep (Enter: the first).
d = fresh("defaults", "sdan__chatmaps__data")
s = Session(d)
check(s.wait_for(Q_FROM), "asks where from first")
s.type("2")
check(s.wait_for(Q_TO), "number picks the source, then asks where to")
s.keys("Enter")
check(s.wait_for(Q_PATH) and "[./chroma]" in s.screen(), "asks the persist directory with default ./chroma")
s.keys("Enter")
check(s.wait_for(Q_TARGET) and "[./chroma_migrated]" in s.screen(), "asks the target with default ./chroma_migrated")
s.keys("Enter")
check(s.wait_for("Which copy should be kept?"), "shows the store and asks about duplicate ids")
check("cafe_collection" in s.screen(), "the inspect summary lists the collection")
s.keys("Enter")
check(s.wait_for("Migrate now?"), "asks to go on")
check("chroma-migrate migrate --from ./chroma --to ./chroma_migrated --duplicates first" in s.screen(),
      "prints the equivalent command line", s.screen())
s.keys("Enter")
check(s.wait_for("PersistentClient(path=", 120), "ends with how to open the result")
check(s.exit_code() == 0, "exit code 0")
ok, log = checker(os.path.join(d, "chroma"), os.path.join(d, "chroma_migrated"))
check(ok, "the wizard's result checks out in the real Chroma server", log)
s.close()
shutil.rmtree(d, ignore_errors=True)

# 2. Arrow keys, an invalid path re-asked with a reason, a typed target.
d = fresh("arrows", "chroma-core__chroma-migrate__test_data_duckdb")
s = Session(d)
s.wait_for(Q_FROM)
s.keys("Down")
s.keys("Enter")
check(s.wait_for(Q_TO), "arrow down + Enter picks the source")
s.keys("Enter")
s.wait_for(Q_PATH)
s.type("./nope")
s.keys("Enter")
check(s.wait_for("does not exist"), "a missing path is re-asked with a reason")
s.type("chroma")
s.keys("Enter")
s.wait_for(Q_TARGET)
os.makedirs(os.path.join(d, "busy"))
open(os.path.join(d, "busy", "x"), "w").write("x")
s.type("busy")
s.keys("Enter")
check(s.wait_for("already exists and is not empty"), "a non-empty target is re-asked with a reason")
s.type("out")
s.keys("Enter")
check(s.wait_for("Migrate now?"), "reaches the confirmation")
s.type("y")
check(s.wait_for("PersistentClient(path=", 120) and s.exit_code() == 0, "migrates after 'y'")
ok, log = checker(os.path.join(d, "chroma"), os.path.join(d, "out"))
check(ok, "arrow-key run checks out in the real Chroma server", log)
s.close()
shutil.rmtree(d, ignore_errors=True)

# 2b. A late error (the target folder filled by someone else after it was chosen) is not the end:
#     the wizard asks for the target again and retries, keeping every other answer.
d = fresh("late", "chroma-core__chroma-migrate__test_data_duckdb")
s = Session(d)
s.wait_for(Q_FROM)
s.type("2")
s.wait_for(Q_TO)
s.keys("Enter")
s.wait_for(Q_PATH)
s.type("chroma")
s.keys("Enter")
s.wait_for(Q_TARGET)
s.type("late-out")
s.keys("Enter")
check(s.wait_for("Migrate now?"), "late error: reaches the confirmation")
os.makedirs(os.path.join(d, "late-out"))
open(os.path.join(d, "late-out", "x"), "w").write("someone else's")
s.type("y")
check(s.wait_for("Choose the target again and retry?", 60), "late error: the failed run offers to retry", s.screen())
check("not an empty directory" in s.screen(), "late error: the reason is shown", s.screen())
s.keys("Enter")
check(s.wait_for(Q_TO), "late error: asks where to again")
s.keys("Enter")
check(s.wait_for(Q_TARGET), "late error: asks the target path again")
s.type("late-out2")
s.keys("Enter")
check(s.wait_for("--to late-out2"), "late error: the new command names the new target", s.screen())
s.type("y")
check(s.wait_for("PersistentClient(path=", 120) and s.exit_code() == 0, "late error: the retry migrates, exit 0")
check(open(os.path.join(d, "late-out", "x")).read() == "someone else's", "late error: the other folder is untouched")
ok, log = checker(os.path.join(d, "chroma"), os.path.join(d, "late-out2"))
check(ok, "late error: the retried run checks out in the real Chroma server", log)
s.close()
shutil.rmtree(d, ignore_errors=True)

# 3. Ctrl-C at a prompt leaves with nothing written, exit 130.
d = fresh("ctrlc", "sdan__chatmaps__data")
s = Session(d)
s.wait_for(Q_FROM)
s.type("2")
s.wait_for(Q_TO)
s.keys("Enter")
s.wait_for(Q_PATH)
s.keys("C-c")
check(s.wait_for("Cancelled: nothing was written."), "Ctrl-C cancels")
check(s.exit_code() == 130, "exit code 130 after Ctrl-C")
check(sorted(os.listdir(d)) == ["chroma", "exit_code"], "nothing written after Ctrl-C", str(os.listdir(d)))
s.close()
shutil.rmtree(d, ignore_errors=True)

# 4. Answering 'no' at the end writes nothing; an invalid port is re-asked.
d = fresh("no", "sdan__chatmaps__data")
s = Session(d)
s.wait_for(Q_FROM)
s.keys("Enter")  # ClickHouse, the original tool's first choice
s.wait_for(Q_TO)
s.keys("Enter")
s.wait_for("What is the ip/hostname of your clickhouse server")
check("[localhost]" in s.screen(), "ClickHouse host default localhost")
s.keys("Enter")
check(s.wait_for("What is the port of your clickhouse server") and "[8123]" in s.screen(), "port default 8123")
s.type("80a")
s.keys("Enter")
check(s.wait_for("is not a port"), "an invalid port is re-asked with a reason")
s.keys("C-c")
check(s.exit_code() == 130, "Ctrl-C at the port prompt exits 130")
s.close()
shutil.rmtree(d, ignore_errors=True)

# 6. Every source x every target, through the real ClickHouse and Chroma servers.
CH_PORT = os.environ.get("CM_WIZ_CH_PORT")
SRC_URL = os.environ.get("CM_WIZ_SRC_URL")
DST_URL = os.environ.get("CM_WIZ_DST_URL")
SECRET = "s3cret-wizard-value"


def host_port(url):
    hp = url.split("://", 1)[1]
    return hp.rsplit(":", 1)


def answer_server(s, what, url, headers=None):
    host, port = host_port(url)
    s.wait_for(f"What is the ip/hostname of your {what}")
    s.type(host)
    s.keys("Enter")
    s.wait_for(f"What is the port of your {what}")
    s.type(port)
    s.keys("Enter")
    s.wait_for("Any HTTP headers to send")
    if headers:
        s.type(headers)
    s.keys("Enter")


def printed_command(screen):
    lines = screen.splitlines()
    for i, l in enumerate(lines):
        if "The same migration without questions:" in l and i + 1 < len(lines):
            return shlex.split(lines[i + 1].strip())
    return None


def combo(name, src_kind, dst_kind):
    """src_kind: ch | duckdb | server; dst_kind: dir | server."""
    d = fresh(name, "sdan__chatmaps__data" if src_kind == "duckdb" else None)
    s = Session(d)
    s.wait_for(Q_FROM)
    s.type({"ch": "1", "duckdb": "2", "server": "3"}[src_kind])
    s.wait_for(Q_TO)
    s.type({"dir": "1", "server": "2"}[dst_kind])
    headers = None
    if src_kind == "ch":
        s.wait_for("What is the ip/hostname of your clickhouse server")
        s.type("127.0.0.1")
        s.keys("Enter")
        s.wait_for("What is the port of your clickhouse server")
        s.type(CH_PORT)
        s.keys("Enter")
        s.wait_for("Which ClickHouse user")
        s.keys("Enter")
        s.wait_for("Its password")
        s.keys("Enter")
    elif src_kind == "duckdb":
        s.wait_for(Q_PATH)
        s.keys("Enter")
    else:
        headers = '{"X-Wizard-Test": "%s"}' % SECRET  # the server ignores it; it must never be shown
        answer_server(s, "chroma server", SRC_URL, headers)
    if dst_kind == "dir":
        s.wait_for(Q_TARGET)
        s.keys("Enter")
    else:
        answer_server(s, "target chroma server", DST_URL)
    # Every decision the store needs: its default (the first choice), once per question.
    answered, end = 0, time.time() + 60
    while time.time() < end:
        scr = s.screen()
        if "Migrate now?" in scr:
            break
        asked = sum(scr.count(q) for q in ("Which copy should be kept?", "What should happen?", "New name for"))
        if asked > answered:
            s.keys("Enter")
            answered += 1
        time.sleep(0.1)
    check(s.wait_for("Migrate now?"), f"{name}: reaches the confirmation")
    cmd = printed_command(s.screen())
    check(cmd is not None and cmd[:2] == ["chroma-migrate", "migrate"], f"{name}: prints the equivalent command",
          s.screen()[-2000:])
    s.keys("Enter")
    done = s.wait_for("JS:      new ChromaClient(" if dst_kind == "server" else "JS:      (with that server", 180)
    code = s.exit_code()
    check(done and code == 0, f"{name}: migrates (exit 0)", f"exit {code}\n{s.screen()[-3000:]}")
    if headers:
        check(SECRET not in s.screen(), f"{name}: the header value typed in is never shown", s.screen()[-2000:])
        hf = cmd[cmd.index("--from-headers") + 1] if cmd and "--from-headers" in cmd else ""
        check(hf.startswith("@") and SECRET not in " ".join(cmd), f"{name}: the printed command names a file "
              "for the headers, not their values", " ".join(cmd or []))
    if dst_kind == "dir":
        check("PersistentClient(path=" in s.screen(), f"{name}: says how to open the directory")
    else:
        host, port = host_port(DST_URL)
        check(f'HttpClient(host="{host}", port={port})' in s.screen(), f"{name}: says how to reach the server",
              s.screen()[-1500:])
    s.close()
    if cmd:
        # verify with the same options; the masked header value put back
        args = ["verify", "--quiet", "--json"] + cmd[2:]
        for i in range(len(args) - 1):
            if args[i] in ("--from-headers", "--headers") and not args[i + 1].startswith("@"):
                args[i + 1] = headers or "{}"
        r = subprocess.run([BIN, *args], cwd=d, capture_output=True, text=True)
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            rep = None
        check(r.returncode == 0 and rep and rep["ok"] and rep["collections"],
              f"{name}: verify proves the result ({' '.join(shlex.quote(a) for a in args[3:]).replace(SECRET, '***')})",
              (r.stdout + r.stderr)[-2500:])
    shutil.rmtree(d, ignore_errors=True)


if CH_PORT and SRC_URL and DST_URL:
    combo("clickhouse -> directory", "ch", "dir")
    combo("clickhouse -> server", "ch", "server")
    combo("server -> directory", "server", "dir")
    combo("duckdb -> server", "duckdb", "server")
    combo("server -> server", "server", "server")  # collection_0..9: no name taken by the runs above
else:
    check(False, "every source x target: CM_WIZ_CH_PORT, CM_WIZ_SRC_URL and CM_WIZ_DST_URL are set "
          "(run tests/suites/70-wizard.sh)")


# 9. Every answer checked when it is given; secrets never shown, and the printed command works when pasted.
CH_PASSWORD = os.environ.get("CH_TEST_PASSWORD", "p@ss:w/rd %41&é")  # tests/clickhouse/server.sh's user 'chroma'


def until_confirm(s, answers=()):
    """Enter at every decision question up to the confirmation."""
    answered, end = 0, time.time() + 60
    while time.time() < end and "Migrate now?" not in s.screen():
        scr = s.screen()
        asked = sum(scr.count(q) for q in ("Which copy should be kept?", "What should happen?"))
        if asked > answered:
            s.keys("Enter")
            answered += 1
        time.sleep(0.1)
    return s.wait_for("Migrate now?")


def wait_count(s, text, n, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if s.screen().count(text) >= n:
            return True
        time.sleep(0.1)
    print(f"--- timed out waiting for {n} x {text!r}; screen:\n{s.screen()[-1500:]}")
    return False


def run_pasted(line, cwd, env_extra=None):
    """The printed command line as a shell runs it when pasted (chroma-migrate = this binary)."""
    env = {**os.environ, **(env_extra or {})}
    env["PATH"] = os.path.dirname(BIN) + ":" + env["PATH"]
    return subprocess.run(["bash", "-c", line], cwd=cwd, capture_output=True, text=True, env=env)


def command_line(screen):
    lines = screen.splitlines()
    for i, l in enumerate(lines):
        if "The same migration without questions:" in l and i + 1 < len(lines):
            return lines[i + 1].strip()
    return ""


def start_tls_proxy(upstream, token, tmp):
    """nginx with TLS (a test CA) in front of the target server, wanting 'Authorization: Bearer TOKEN'."""
    pki = os.path.join(tmp, "pki")
    os.makedirs(pki)
    sh = ("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=wizard test CA' && "
          "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' && "
          "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' >ext.cnf && "
          "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf")
    subprocess.run(["bash", "-c", sh], cwd=pki, check=True, capture_output=True)
    import socket
    so = socket.socket()
    so.bind(("127.0.0.1", 0))
    port = so.getsockname()[1]
    so.close()
    os.makedirs(os.path.join(tmp, "nginx"))
    user = "user root;" if os.getuid() == 0 else ""
    conf = f"""{user}
worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off; client_body_temp_path {tmp}/nginx/body; proxy_temp_path {tmp}/nginx/proxy;
  fastcgi_temp_path {tmp}/nginx/fastcgi; uwsgi_temp_path {tmp}/nginx/uwsgi; scgi_temp_path {tmp}/nginx/scgi;
  client_max_body_size 64m;
  server {{
    listen 127.0.0.1:{port} ssl; ssl_certificate {pki}/srv.pem; ssl_certificate_key {pki}/srv.key;
    default_type application/json;
    location / {{
      if ($http_authorization != "Bearer {token}") {{ return 401 '{{"error":"AuthError","message":"Unauthorized"}}'; }}
      proxy_pass {upstream};
    }}
  }}
}}
"""
    open(os.path.join(tmp, "nginx.conf"), "w").write(conf)
    proc = subprocess.Popen(["nginx", "-c", os.path.join(tmp, "nginx.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["curl", "-sk", f"https://127.0.0.1:{port}/"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    return proc, port, os.path.join(pki, "ca.pem")


if CH_PORT and SRC_URL and DST_URL:
    src_host, src_port = host_port(SRC_URL)
    dst_host, dst_port = host_port(DST_URL)

    # 9a. Server addresses typed whole (scheme, port) are split; a wrong port or a bad scheme is asked again at once;
    #     each server is connected to right after its questions and its version shown.
    d = fresh("addresses", None)
    s = Session(d)
    s.wait_for(Q_FROM)
    s.type("3")
    s.wait_for(Q_TO)
    s.type("2")
    s.wait_for("What is the ip/hostname of your chroma server")
    s.type(f"{src_host}:{src_port}")  # HOST:PORT
    s.keys("Enter")
    check(s.wait_for(f"port {src_port} (from the address)", 10), "HOST:PORT at the host question: the port is taken",
          s.screen()[-1500:])
    s.wait_for("Any HTTP headers to send")
    s.keys("Enter")
    check(s.wait_for("connected: Chroma 1.0", 20), "the source server is connected to at once, its version shown",
          s.screen()[-1500:])
    s.wait_for("What is the ip/hostname of your target chroma server")
    s.type("ftp://" + dst_host)
    s.keys("Enter")
    check(s.wait_for("is not a scheme the wizard knows", 10), "an unknown scheme is asked again with a reason",
          s.screen()[-1500:])
    s.keys("C-u")
    s.type(dst_host)
    s.keys("Enter")
    s.wait_for("What is the port of your target chroma server")
    s.type("1")  # nobody listens there
    s.keys("Enter")
    s.wait_for("Any HTTP headers to send", 10)
    s.keys("Enter")
    check(s.wait_for("Check the answers", 30) and "cannot reach" in s.screen(),
          "a server that does not answer: said so and asked again, before any confirmation", s.screen()[-1500:])
    s.keys("C-u")
    s.type(f"http://{dst_host}:{dst_port}/")  # the whole URL
    s.keys("Enter")
    s.wait_for("Any HTTP headers to send")
    s.keys("Enter")
    check(s.wait_for("connected: Chroma 1.0", 20) and "(API v2)" in s.screen(),
          "http://HOST:PORT/ at the host question: connected to that server (API v2)", s.screen()[-1500:])
    s.keys("C-c")
    code = s.exit_code(20)
    check(code in (130, "signal"), "Ctrl-C right after the connection ends the wizard at once",
          f"exit {code}; screen:\n{s.screen()[-1500:]}")
    s.close()
    shutil.rmtree(d, ignore_errors=True)

    # 9b. Two collections renamed to the same name: caught when the second name is typed.
    d = tempfile.mkdtemp(prefix="cm-wiz-rename-")
    subprocess.run(["node", "make-store.mjs", os.path.join(d, "chroma"), "--collections", "3", "--rows", "20",
                    "--bad-name"], cwd=NODE_DIR, check=True, stdout=subprocess.DEVNULL)
    s = Session(d)
    s.wait_for(Q_FROM)
    s.type("2")
    s.wait_for(Q_TO)
    s.type("1")
    s.wait_for(Q_PATH)
    s.keys("Enter")
    s.wait_for(Q_TARGET)
    s.keys("Enter")
    s.wait_for("New name for 'my collection'")
    s.keys("C-u")
    s.type("same")
    s.keys("Enter")
    s.wait_for("New name for 'ab'")
    s.keys("C-u")
    s.type("same")
    s.keys("Enter")
    check(s.wait_for("'same' is already the new name of 'my collection'", 10), "a rename onto another new name "
          "is refused as it is typed", s.screen()[-1500:])
    s.keys("C-u")
    s.type("collection_2")
    s.keys("Enter")
    check(s.wait_for("is the name of another collection", 10), "a rename onto a kept name is refused as typed",
          s.screen()[-1500:])
    s.keys("C-u")
    s.type("ab-renamed")
    s.keys("Enter")
    check(until_confirm(s) and "--rename 'my collection=same' --rename ab=ab-renamed" in s.screen(),
          "then the renames go into the command", s.screen()[-1500:])
    s.keys("Enter")
    check(s.exit_code() == 0, "and the migration runs (exit 0)", s.screen()[-1500:])
    s.close()
    shutil.rmtree(d, ignore_errors=True)

    # 9c. ClickHouse user and password (masked; a wrong one asked again); the printed command names
    #     CLICKHOUSE_PASSWORD and works pasted with it set.
    d = fresh("chpass", None)
    s = Session(d)
    s.wait_for(Q_FROM)
    s.type("1")
    s.wait_for(Q_TO)
    s.type("1")
    s.wait_for("What is the ip/hostname of your clickhouse server")
    s.type(f"http://127.0.0.1:{CH_PORT}")
    s.keys("Enter")
    check(s.wait_for("Which ClickHouse user", 10) and "[default]" in s.screen(), "asks the ClickHouse user "
          "(default 'default'), the port taken from the address", s.screen()[-1500:])
    s.type("chroma")
    s.keys("Enter")
    check(s.wait_for("Its password", 10) and "[none]" in s.screen(), "asks its password (default none)")
    s.type("wrong-password")
    s.keys("Enter")
    check(s.wait_for("Check the answers", 30), "a wrong password: said so and asked again", s.screen()[-1500:])
    s.keys("Enter")  # the address kept (the port with it)
    wait_count(s, "Which ClickHouse user", 2)
    s.keys("Enter")  # the user kept
    wait_count(s, "Its password", 2)
    s.type(CH_PASSWORD)
    s.keys("Enter")
    check(s.wait_for("connected: ClickHouse 18.16", 30), "connected to ClickHouse, its version shown",
          s.screen()[-1500:])
    check(s.wait_for(Q_TARGET), "then asks the target")
    s.keys("Enter")
    until_confirm(s)
    scr = s.screen()
    line = command_line(scr)
    check("CLICKHOUSE_PASSWORD" in scr and f"clickhouse://chroma@127.0.0.1:{CH_PORT}" in line,
          "the printed command has the user and names CLICKHOUSE_PASSWORD", scr[-1500:])
    check(CH_PASSWORD not in scr and "wrong-password" not in scr and "%41&" not in scr,
          "the password typed is never shown", scr[-1500:])
    s.type("n")
    s.exit_code()
    s.close()
    r = run_pasted(line, d, {"CLICKHOUSE_PASSWORD": CH_PASSWORD})
    check(r.returncode == 0 and "migrated" in r.stdout + r.stderr and CH_PASSWORD not in r.stdout + r.stderr,
          "that command pasted (CLICKHOUSE_PASSWORD set) migrates, never printing the password",
          (r.stdout + r.stderr)[-1500:])
    r = run_pasted(line.replace(" --to ./chroma_migrated", " --to ./again"), d, {"CLICKHOUSE_PASSWORD": ""})
    check(r.returncode != 0, "and without the password it is refused", (r.stdout + r.stderr)[-800:])
    shutil.rmtree(d, ignore_errors=True)

    # 9d. An https target behind a token: the CA file asked; the printed command has --headers @FILE (mode 0600)
    #     and --cacert, never the token, and works pasted.
    tmp = tempfile.mkdtemp(prefix="cm-wiz-tls-")
    token = "tok-" + os.urandom(8).hex()
    proxy, tport, ca = start_tls_proxy(SRC_URL, token, tmp)  # its cafe_collection is not taken there
    d = fresh("https", "sdan__chatmaps__cafe_data")
    s = Session(d)
    s.wait_for(Q_FROM)
    s.type("2")
    s.wait_for(Q_TO)
    s.type("2")
    s.wait_for(Q_PATH)
    s.keys("Enter")
    s.wait_for("What is the ip/hostname of your target chroma server")
    s.type(f"https://127.0.0.1:{tport}")
    s.keys("Enter")
    s.wait_for("Any HTTP headers to send")
    s.keys("Enter")  # no token first: refused by the server, asked again
    check(s.wait_for("CA certificate file (PEM) to trust for https", 10), "https: asks for a CA file",
          s.screen()[-1500:])
    s.type(ca)
    s.keys("Enter")
    check(s.wait_for("Check the answers", 30) and "401" in s.screen(),
          "no token: the server's 401 is shown at once and the questions asked again", s.screen()[-1500:])
    s.keys("Enter")  # the address kept
    wait_count(s, "Any HTTP headers to send", 2)
    s.type('{"Authorization": "Bearer %s"}' % token)
    s.keys("Enter")
    wait_count(s, "CA certificate file (PEM) to trust for https", 2)
    s.keys("Enter")  # the CA file given before
    check(s.wait_for("connected: Chroma 1.0", 30), "with the token and the CA: connected through TLS",
          s.screen()[-1500:])
    until_confirm(s)
    scr = s.screen()
    line = command_line(scr)
    check(f"--to https://127.0.0.1:{tport}" in line and f"--cacert {ca}" in line and "--headers @" in line,
          "the printed command: https target, --cacert, --headers @FILE", line)
    hfile = shlex.split(line)[shlex.split(line).index("--headers") + 1][1:] if "--headers @" in line else ""
    mode = os.stat(hfile).st_mode & 0o777 if hfile and os.path.exists(hfile) else None
    check(mode == 0o600 and json.load(open(hfile)) == {"Authorization": "Bearer " + token},
          f"the headers file holds them, mode 0600 (mode {oct(mode) if mode else None})")
    check(token not in scr, "the token is never shown", scr[-1500:])
    s.type("n")
    s.exit_code()
    s.close()
    r = run_pasted(line, d)
    check(r.returncode == 0 and "migrated" in r.stdout + r.stderr and token not in r.stdout + r.stderr,
          "that command pasted migrates through TLS with the token, never printing it", (r.stdout + r.stderr)[-1500:])
    proxy.terminate()
    proxy.wait()
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)

# 7. Progress on a terminal: a bar for the collection and one for the whole run, with rate and ETA.
d = tempfile.mkdtemp(prefix="cm-wiz-progress-")
subprocess.run(["node", "make-store.mjs", os.path.join(d, "big"), "--collections", "3", "--total-rows", "45000",
                "--dim", "64"], cwd=NODE_DIR, check=True, stdout=subprocess.DEVNULL)
s = Session(d, f"migrate --from {d}/big --to {d}/out")
seen = set()
end = time.time() + 120
while time.time() < end and not os.path.exists(os.path.join(d, "exit_code")):
    for line in s.screen().splitlines():
        if "overall: collection" in line and "[" in line and "ETA" in line:
            seen.add("overall")
        if ("writing '" in line or "indexing '" in line) and "/s" in line and "[" in line:
            seen.add("collection")
    time.sleep(0.05)
check(seen == {"overall", "collection"}, "a terminal shows a collection bar and an overall bar with rate and ETA",
      f"seen {seen}; screen:\n{s.screen()[-1500:]}")
check(s.exit_code() == 0 and "migrated 3 collections" in s.screen(), "that migration finishes",
      s.screen()[-1500:])
s.close()
r = subprocess.run([BIN, "migrate", "--from", os.path.join(d, "big"), "--to", os.path.join(d, "out2")],
                   stdin=subprocess.DEVNULL, capture_output=True)
check(r.returncode == 0 and b"\x1b" not in r.stdout + r.stderr and b"[####" not in r.stderr,
      "the same run without a terminal: no escape sequences, no bars", r.stderr.decode(errors="replace")[-1500:])
shutil.rmtree(d, ignore_errors=True)

# 5. No terminal, no arguments: usage and exit 2. Non-terminal runs print no escapes.
r = subprocess.run([BIN], stdin=subprocess.DEVNULL, capture_output=True, text=True)
check(r.returncode == 2 and "usage:" in r.stderr, "no terminal + no arguments: usage, exit 2", r.stderr)
d = tempfile.mkdtemp(prefix="cm-wiz-plain-")
r = subprocess.run([BIN, "migrate", "--from", os.path.join(FIX, "sdan__chatmaps__data"), "--to",
                    os.path.join(d, "out")], stdin=subprocess.DEVNULL, capture_output=True)
check(r.returncode == 0 and b"\x1b" not in r.stdout + r.stderr, "non-terminal migrate prints no escape sequences",
      (r.stdout + r.stderr).decode(errors="replace")[-1500:])
shutil.rmtree(d, ignore_errors=True)

# 8. The finish of a command-line tool: --help everywhere, --version, exit 2 on usage errors, the man page.
for sub in ["", "inspect", "migrate", "verify", "export"]:
    r = subprocess.run([BIN, *([sub] if sub else []), "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "usage:" in r.stdout and "\x1b" not in r.stdout, f"'{sub or 'chroma-migrate'} --help': usage on stdout, exit 0",
          r.stdout[-500:] + r.stderr[-500:])
r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
check(r.returncode == 0 and r.stdout.startswith("chroma-migrate "), "--version", r.stdout + r.stderr)
r = subprocess.run([BIN, "frobnicate"], capture_output=True, text=True)
check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--help" in r.stderr,
      "an unknown command: one line pointing at --help, exit 2", r.stderr)
r = subprocess.run([BIN, "migrate", "--from", os.path.join(FIX, "sdan__chatmaps__data")], capture_output=True, text=True)
check(r.returncode == 2 and "--to" in r.stderr, "a missing --to: usage error naming it, exit 2", r.stderr)
d = tempfile.mkdtemp(prefix="cm-wiz-install-")
r = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={d}", "PREFIX=/usr/local"], capture_output=True, text=True)
man = os.path.join(d, "usr/local/share/man/man1/chroma-migrate.1")
check(r.returncode == 0 and os.access(os.path.join(d, "usr/local/bin/chroma-migrate"), os.X_OK) and os.path.exists(man),
      "make install puts the binary and the man page in place", r.stdout + r.stderr)
if os.path.exists(man):
    r = subprocess.run(["man", "-l", man], capture_output=True, text=True, env={**os.environ, "MANPAGER": "cat", "COLUMNS": "100"})
    check(r.returncode == 0 and "EXIT STATUS" in r.stdout and "verify" in r.stdout, "the man page renders (man -l)",
          r.stdout[-500:] + r.stderr[-500:])
shutil.rmtree(d, ignore_errors=True)

print(f"wizard: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
