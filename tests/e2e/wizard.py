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
        end = time.time() + timeout
        p = os.path.join(self.cwd, "exit_code")
        while time.time() < end:
            if os.path.exists(p) and open(p).read().strip():
                return int(open(p).read().strip())
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
        check(cmd is not None and '"***"' in " ".join(cmd), f"{name}: the printed command masks it")
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
            if args[i] in ("--from-headers", "--headers"):
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
