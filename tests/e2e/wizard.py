#!/usr/bin/env python3
"""The wizard driven in a real pseudo-terminal (tmux): defaults, arrow keys,
numbers, invalid answers re-asked, Ctrl-C; each finished migration is then
checked in the real Chroma server. Also: without a terminal and without
arguments it prints usage and exits 2; non-terminal runs print no escapes.

usage: wizard.py BINARY   (prints 'wizard: N passed, N failed')"""
import os, shutil, subprocess, sys, tempfile, time

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
    def __init__(self, cwd):
        self.cwd = cwd
        tmux("kill-server")
        # The exit code is written to a file when the program ends.
        cmd = f"cd {cwd} && TERM=xterm {BIN}; echo $? > {cwd}/exit_code; sleep 30"
        r = tmux("new-session", "-d", "-x", "200", "-y", "60", "-s", "w", "bash", "-c", cmd)
        assert r.returncode == 0, r.stderr

    def screen(self):
        return tmux("capture-pane", "-p", "-S", "-200", "-t", "w").stdout

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
    d = tempfile.mkdtemp(prefix=f"cm-wiz-{name}-")
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

# 5. No terminal, no arguments: usage and exit 2. Non-terminal runs print no escapes.
r = subprocess.run([BIN], stdin=subprocess.DEVNULL, capture_output=True, text=True)
check(r.returncode == 2 and "usage:" in r.stderr, "no terminal + no arguments: usage, exit 2", r.stderr)
d = tempfile.mkdtemp(prefix="cm-wiz-plain-")
r = subprocess.run([BIN, "migrate", "--from", os.path.join(FIX, "sdan__chatmaps__data"), "--to",
                    os.path.join(d, "out")], stdin=subprocess.DEVNULL, capture_output=True)
check(r.returncode == 0 and b"\x1b" not in r.stdout + r.stderr, "non-terminal migrate prints no escape sequences",
      (r.stdout + r.stderr).decode(errors="replace")[-1500:])
shutil.rmtree(d, ignore_errors=True)

print(f"wizard: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
