#!/usr/bin/env python3
"""vgpio as a service, with the real tools: systemd-socket-activate hands it
its socket, a real NOTIFY_SOCKET hears READY/STATUS/RELOADING/STOPPING,
--fd and --print-capabilities as QEMU's backend conventions describe them,
and reloads with a frontend connected the whole time.

usage: service_tests.py TEST   (environment: VGPIO_BIN, VGPIO_FRONTEND)
"""
import grp
import json
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "testvm"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
from guestkit import WAIT, Failure, wait_until  # noqa: E402
from guest_tests import check, run  # noqa: E402

VGPIO = os.environ.get("VGPIO_BIN", "vgpio")
FRONTEND = os.environ.get("VGPIO_FRONTEND", "vgpio-frontend")
FDSTORE = os.environ.get("VGPIO_FDSTORE", "vgpio-fdstore")
TESTS = {}


def test(fn):
    TESTS[fn.__name__.removeprefix("test_")] = fn
    return fn


def device(name, socket_path, lines):
    text = f'[[device]]\nname = "{name}"\nsocket = "{socket_path}"\n'
    for line in lines:
        text += f'  [[device.line]]\n  name = "{line}"\n  simulated = true\n'
    return text


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="vgpio-service-")

    def __call__(self, name):
        return os.path.join(self.path, name)

    def write(self, name, text):
        with open(self(name), "w") as f:
            f.write(text)
        return self(name)

    def read(self, name):
        try:
            with open(self(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def start(args, w, log="daemon.log", **kwargs):
    return subprocess.Popen([VGPIO] + args, stdout=open(w(log), "a"), stderr=subprocess.STDOUT, **kwargs)


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=WAIT)


def probe(path):
    out = subprocess.run([VGPIO, "probe", "--json", path], capture_output=True, text=True, timeout=WAIT)
    check(out.returncode == 0, f"probe {path}: {out.stderr}")
    return json.loads(out.stdout)


def connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


@test
def test_capabilities_and_version():
    """--print-capabilities prints the JSON of vhost-user.json and ignores the
    rest of the command line; --version names the program."""
    for extra in ([], ["--socket-path", "/nonexistent/x.sock"]):
        out = subprocess.run([VGPIO, "--print-capabilities"] + extra, capture_output=True, text=True)
        check(out.returncode == 0, f"--print-capabilities {extra}: {out.returncode} {out.stderr}")
        check(json.loads(out.stdout) == {"type": "gpio"}, f"capabilities: {out.stdout!r}")
    out = subprocess.run([VGPIO, "--version"], capture_output=True, text=True)
    check(out.returncode == 0 and out.stdout.startswith("vgpio ") and out.stdout.split()[1][0].isdigit(),
          f"--version: {out.stdout!r}")


@test
def test_fd_handed_over():
    """A management layer makes the socket and runs `vgpio --fd=N`: vgpio
    serves it, never removes it, and stops at once on SIGTERM. An fd that is
    no listening socket is refused with a clear message."""
    w = Workdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(w("handed.sock"))
    listener.listen(4)
    proc = start([f"--fd={listener.fileno()}"], w, pass_fds=[listener.fileno()])
    listener.close()  # vgpio has its own copy now
    wait_until(lambda: os.path.exists(w("handed.sock.ctl")) or proc.poll() is not None, "vgpio to serve the fd")
    check(proc.poll() is None, f"vgpio --fd exited: {w.read('daemon.log')}")
    check(probe(w("handed.sock"))["ngpio"] == 8, "the default device behind the handed-over socket")
    check(stop(proc) == 0, f"exit status after SIGTERM: {w.read('daemon.log')}")
    check(os.path.exists(w("handed.sock")), "vgpio removed a socket file it did not make")
    check(not os.path.exists(w("handed.sock.ctl")), "the control socket was left behind")

    with open(w("plain-file"), "w") as f:
        proc = start(["serve", "--fd", str(f.fileno())], w, log="bad.log", pass_fds=[f.fileno()])
        rc = proc.wait(timeout=WAIT)
    check(rc == 2 and "is not a listening Unix stream socket" in w.read("bad.log"), f"bad --fd: {rc} {w.read('bad.log')}")


@test
def test_socket_activation():
    """systemd-socket-activate listens, and starts vgpio with the socket when
    a frontend connects (LISTEN_FDS, LISTEN_FDNAMES): the frontend is served."""
    w = Workdir()
    config = w.write("vm1.toml", f'control = "{w("ctl.sock")}"\n' + device("vm1", w("vm1.sock"), ["a", "b", "c"]))
    activator = subprocess.Popen(["systemd-socket-activate", "-l", w("vm1.sock"), "--fdname=vm1",
                                  VGPIO, "serve", "--config", config],
                                 stdout=open(w("daemon.log"), "a"), stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: os.path.exists(w("vm1.sock")) or activator.poll() is not None, "the activator to listen")
        check(not os.path.exists(w("ctl.sock")), "vgpio started before anyone connected")
        info = probe(w("vm1.sock"))  # this connection starts vgpio
        check(info["ngpio"] == 3, f"probe through the activated socket: {info}")
        log = w.read("daemon.log")
        check('serving the socket handed over as "vm1"' in log, f"vgpio did not take the socket:\n{log}")
        check(probe(w("vm1.sock"))["ngpio"] == 3, "a second frontend after the first left")
    finally:
        rc = stop(activator)  # it has become vgpio
    check(rc == 0 and os.path.exists(w("vm1.sock")), f"exit {rc}; the activator's socket must stay")


class NotifySocket:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path
        self.seen = []

    def next(self, timeout=WAIT):
        """The next message as a dict; "fds" counts the fds it carried (closed here)."""
        self.sock.settimeout(timeout)
        data, fds, _, _ = socket.recv_fds(self.sock, 4096, 16)
        for fd in fds:
            os.close(fd)
        msg = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
        msg["fds"] = len(fds)
        self.seen.append(msg)
        return msg

    def until(self, predicate, what):
        """The first message that matches; those before it are skipped."""
        while True:
            try:
                msg = self.next()
            except socket.timeout:
                raise Failure(f"no notification {what} after {WAIT:.0f} s")
            if predicate(msg):
                return msg


@test
def test_notify():
    """READY=1 comes only once every device socket accepts connections, and
    after each device's state went to the fd store (FDSTORE=1, a memfd);
    STATUS= counts the frontends; SIGHUP brings RELOADING=1 then READY=1;
    SIGTERM brings STOPPING=1, and the store lets go of what vgpio kept
    (FDSTOREREMOVE=1): a stop is not a restart."""
    w = Workdir()
    config = w.write("v.toml", device("left", w("left.sock"), ["x"]) + device("right", w("right.sock"), ["y", "z"]))
    notify = NotifySocket(w("notify"))
    proc = start(["serve", "--config", config], w, env=dict(os.environ, NOTIFY_SOCKET=w("notify")))
    try:
        msg = notify.until(lambda m: "READY" in m, "of readiness")
        ready_then = [connectable(w("left.sock")), connectable(w("right.sock"))]
        stored = {m["FDNAME"]: m["fds"] for m in notify.seen if m.get("FDSTORE") == "1"}
        check(stored == {"state.left": 1, "state.right": 1}, f"device states kept before READY: {notify.seen}")
        check(msg.get("READY") == "1" and ready_then == [True, True], f"READY before the sockets: {msg} {ready_then}")
        check(msg.get("STATUS", "").startswith("serving 2 devices (left, right), 0 with a frontend"), f"{msg}")
        # (The connection tests above came and went as frontends too.)
        front = subprocess.Popen([FRONTEND, w("right.sock"), "get", "0", "await", w("go")],
                                 stdout=subprocess.PIPE, text=True)
        status = lambda text: lambda m: m.get("STATUS", "").endswith(text)  # noqa: E731
        notify.until(status("1 with a frontend"), "of the frontend that came")
        open(w("go"), "w").close()
        front.wait(timeout=WAIT)
        notify.until(status("0 with a frontend"), "of the frontend that left")
        proc.send_signal(signal.SIGHUP)
        msg = notify.until(lambda m: "RELOADING" in m or "READY" in m, "of the reload")
        check(msg.get("RELOADING") == "1" and int(msg.get("MONOTONIC_USEC", "0")) > 0, f"reload: {msg}")
        check(notify.until(lambda m: "READY" in m or "STOPPING" in m, "after the reload").get("READY") == "1",
              "READY=1 after the reload")
        proc.send_signal(signal.SIGTERM)
        check(notify.until(lambda m: "STOPPING" in m, "at SIGTERM").get("STOPPING") == "1", "STOPPING=1 at SIGTERM")
        check(proc.wait(timeout=WAIT) == 0, "exit status")
        while True:
            try:
                notify.next(timeout=0.5)
            except socket.timeout:
                break
        removed = sorted(m["FDNAME"] for m in notify.seen if m.get("FDSTOREREMOVE") == "1")
        check(removed == ["state.left", "state.right"], f"the store keeps state after a stop: {notify.seen}")
    finally:
        stop(proc)


def frontend_results(out):
    results = {}
    for line in out.splitlines():
        if line.startswith("@ ") and ": " in line:
            step, result = line[2:].split(": ", 1)
            results.setdefault(step, []).append(result)
    return results


@test
def test_reload():
    """SIGHUP re-reads the config while a frontend uses device "keep": a new
    device starts, a removed one stops, "keep" notices nothing. A broken
    config changes nothing. A change to "keep" waits for its frontend to leave."""
    w = Workdir()
    keep = device("keep", w("keep.sock"), ["k0", "k1"])
    head = f'control = "{w("ctl.sock")}"\n'
    config = w.write("v.toml", head + keep + device("old", w("old.sock"), ["o"]))
    proc = start(["serve", "--config", config], w)
    try:
        wait_until(lambda: os.path.exists(w("ctl.sock")), "the daemon to listen")
        front = subprocess.Popen([FRONTEND, w("keep.sock"), "dir", "0", "out", "set", "0", "1", "await", w("go"),
                                  "get", "0", "dir", "1", "out"], stdout=subprocess.PIPE, text=True)
        wait_until(lambda: "frontend connected" in w.read("daemon.log"), "the frontend to connect")

        def reload(text, done):
            w.write("v.toml", text)
            before = w.read("daemon.log").count(done)
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: w.read("daemon.log").count(done) > before, f"the reload to log {done!r}")

        reload(head + keep + device("new", w("new.sock"), ["n0", "n1", "n2"]), "reload done")
        check(not os.path.exists(w("old.sock")), "the removed device's socket is still there")
        check(probe(w("new.sock"))["ngpio"] == 3, "the added device")
        reload(head + keep + "[[device]\nname = broken\n", "nothing changed")
        check(probe(w("new.sock"))["ngpio"] == 3, "a broken config stopped a device")
        failed = [line for line in w.read("daemon.log").splitlines() if "nothing changed" in line]
        check(failed and "v.toml:" in failed[-1], f"the log does not say where the config is wrong: {failed}")
        changed = device("keep", w("keep.sock"), ["k0", "k1", "k2"])
        reload(head + changed + device("new", w("new.sock"), ["n0", "n1", "n2"]), "reload done")
        check("device keep: its configuration changed; it is replaced when its current frontend leaves"
              in w.read("daemon.log"), "the change was not deferred")
        log = w.read("daemon.log")
        check("keep: frontend left" not in log, f"the connected frontend was disturbed:\n{log}")

        open(w("go"), "w").close()
        out, _ = front.communicate(timeout=WAIT)
        r = frontend_results(out)
        check(r.get("get 0") == ["1"] and r.get("dir 1") == ["ok"], f"the frontend's session across reloads: {out}")
        wait_until(lambda: "device keep: its frontend left; starting its new configuration" in w.read("daemon.log"),
                   "the deferred change to apply")
        check(probe(w("keep.sock"))["ngpio"] == 3, "the changed device after its frontend left")
    finally:
        stop(proc)
    check(not os.path.exists(w("keep.sock")) and not os.path.exists(w("new.sock")), "sockets left at exit")


@test
def test_reload_of_the_root_settings():
    """A reload applies every root setting it can and says which it cannot.
    Applied: socket_mode, socket_owner and socket_group to the device it adds;
    control_mode, control_owner and control_group to the control socket, made
    again at its path (a connection open across the reload stays);
    control_observe and control_act to the next request. Logged as taking
    effect at the next restart: control, create_dir, user, group (the running
    values stay). An option given on the command line (--control) is no
    change. The file is replaced by rename each time, as editors and package
    managers write it, and at last switched as a symlink to another file;
    the sandbox is on."""
    w = Workdir()
    os.chmod(w.path, 0o711)  # "nobody" reaches the sockets; the sockets' modes decide
    os.mkdir(w("made"))
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    head = f'control = "{w("ctl.sock")}"\nsocket_mode = "0600"\n'
    config = w.write("v.toml", head + device("a", w("a.sock"), ["a0"]))
    proc = start(["serve", "--config", config], w)
    by_option = start(["serve", "--config", w.write("o.toml", device("o", w("o.sock"), ["o0"])),
                       "--control", w("o.ctl")], w, log="option.log")
    try:
        wait_until(lambda: os.path.exists(w("ctl.sock")) and os.path.exists(w("o.ctl")), "the daemons to listen")
        ctl = lambda *args: [VGPIO, "ctl", "--control", w("ctl.sock"), *args]  # noqa: E731
        as_nobody = as_uid(nobody, ctl("list"))
        check(as_nobody.returncode != 0 and "Permission denied" in as_nobody.stderr,
              f"nobody reached a 0600 control socket: {as_nobody.stdout} {as_nobody.stderr}")
        held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        held.connect(w("ctl.sock"))
        held_lines = held.makefile("r")

        def reload(text, process=proc, name="v.toml", log="daemon.log", link=False):
            if link:  # the file becomes a symlink to another file in its directory
                w.write(name + ".target", text)
                os.symlink(name + ".target", w(name + ".new"))
            else:
                w.write(name + ".new", text)
            os.rename(w(name + ".new"), w(name))
            before = w.read(log).count("reload done")
            process.send_signal(signal.SIGHUP)
            wait_until(lambda: w.read(log).count("reload done") > before, "the reload")

        reload(f'control = "{w("ctl2.sock")}"\ncontrol_mode = "0666"\ncontrol_owner = "nobody"\n'
               f'control_group = "nogroup"\ncontrol_observe = ["nobody"]\ncreate_dir = "{w("made")}"\n'
               f'socket_mode = "0660"\nsocket_owner = "nobody"\nsocket_group = "nogroup"\n'
               'user = "nobody"\ngroup = "nogroup"\n' + device("a", w("a.sock"), ["a0"]) + device("b", w("b.sock"), ["b0"]))
        log = w.read("daemon.log")
        for setting, was, now in (("control", f'"{w("ctl.sock")}"', f'"{w("ctl2.sock")}"'),
                                  ("create_dir", "(not set)", f'"{w("made")}"'),
                                  ("user", "(not set)", '"nobody"'), ("group", "(not set)", '"nogroup"')):
            check(f"reload: {setting} changed from {was} to {now}; it takes effect when vgpio restarts" in log,
                  f"the log does not say that {setting} needs a restart:\n{log}")
        for setting in ("socket_mode", "socket_owner", "socket_group", "control_mode", "control_owner",
                        "control_group", "control_observe", "control_act"):
            check(f"reload: {setting} changed" not in log, f"{setting} was said to need a restart:\n{log}")
        check(not os.path.exists(w("ctl2.sock")), "the control socket moved although the log says it stays")
        control = os.stat(w("ctl.sock"))
        check((stat.S_IMODE(control.st_mode), control.st_uid, control.st_gid) == (0o666, nobody, nogroup),
              f"the control socket's access after the reload: {oct(control.st_mode)} {control.st_uid}:{control.st_gid}")
        added = os.stat(w("b.sock"))
        check((stat.S_IMODE(added.st_mode), added.st_uid, added.st_gid) == (0o660, nobody, nogroup),
              f"the added device's socket: {oct(added.st_mode)} {added.st_uid}:{added.st_gid}")
        held.sendall(b'{"cmd": "list"}\n')
        check('"ok":true' in held_lines.readline().replace(" ", ""), "a connection open across the reload was lost")
        held.close()
        observed = as_uid(nobody, ctl("list"))
        check(observed.returncode == 0 and "a0" in observed.stdout,
              f"control_observe does not admit nobody after the reload: {observed.stderr}")
        acted = as_uid(nobody, ctl("set", "a", "a0", "1"))
        check(acted.returncode != 0 and "may observe but not act" in acted.stderr,
              f"nobody may act without control_act: {acted.stdout} {acted.stderr}")
        reload(f'control = "{w("ctl2.sock")}"\ncontrol_mode = "0666"\ncontrol_act = ["nobody"]\n'
               + device("a", w("a.sock"), ["a0"]))
        acted = as_uid(nobody, ctl("set", "a", "a0", "1"))
        check(acted.returncode == 0, f"control_act does not admit nobody after the reload: {acted.stderr}")
        reload(f'control = "{w("ctl2.sock")}"\n' + device("c", w("c.sock"), ["c0"]), link=True)
        check(connectable(w("c.sock")) and not os.path.exists(w("a.sock")),
              f"a config switched by symlink was not applied:\n{w.read('daemon.log')}")
        reload(device("o", w("o.sock"), ["o0", "o1"]), by_option, "o.toml", "option.log")
        check("changed from" not in w.read("option.log"), f"--control was taken as a change:\n{w.read('option.log')}")
    finally:
        stop(proc)
        stop(by_option)


def as_uid(uid, args, **kwargs):
    """Runs args as uid (and its own gid, no other groups)."""
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + args,
                          capture_output=True, text=True, timeout=WAIT, **kwargs)


@test
def test_two_instances():
    """Two instances as vgpio@.service runs them: each its own user
    (DynamicUser=), its control socket in its own 0700 runtime directory.
    vm1's identity uses its own control socket and signals its own daemon,
    but cannot connect to vm2's control socket nor signal vm2. With the
    directory opened up, vm2's daemon itself turns vm1's user away."""
    w = Workdir()
    os.chmod(w.path, 0o711)
    procs, uids = {}, {"vm1": 61001, "vm2": 61002}
    try:
        for name, uid in uids.items():
            os.mkdir(w(name), 0o700)
            os.chown(w(name), uid, uid)
            config = w.write(f"{name}.toml", f'control = "{w(name)}/control.sock"\ncontrol_mode = "0666"\n' +
                             device(name, f"{w(name)}/{name}.sock", ["a"]))
            procs[name] = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                                            VGPIO, "serve", "--config", config],
                                           stdout=open(w(f"{name}.log"), "a"), stderr=subprocess.STDOUT)
        for name in uids:
            wait_until(lambda: "vgpio is serving" in w.read(f"{name}.log"), f"{name} to serve")
        ctl = lambda name: [VGPIO, "ctl", "--control", f"{w(name)}/control.sock", "list"]  # noqa: E731
        own = as_uid(uids["vm1"], ctl("vm1"))
        check(own.returncode == 0 and "vm1" in own.stdout, f"vm1's user on its own control socket: {own.stderr}")
        other = as_uid(uids["vm1"], ctl("vm2"))
        check(other.returncode != 0 and "Permission denied" in other.stderr,
              f"vm1's user reached vm2's control socket: {other.returncode} {other.stdout} {other.stderr}")
        signal_code = "import os, sys\ntry:\n  os.kill(int(sys.argv[1]), 0); print('sent')\nexcept OSError as e:\n  print(e.strerror)"
        to_own = as_uid(uids["vm1"], ["/usr/bin/python3", "-c", signal_code, str(procs["vm1"].pid)]).stdout.strip()
        to_other = as_uid(uids["vm1"], ["/usr/bin/python3", "-c", signal_code, str(procs["vm2"].pid)]).stdout.strip()
        check(to_own == "sent" and to_other == "Operation not permitted",
              f"signals from vm1's user: to vm1 {to_own!r}, to vm2 {to_other!r}")
        # The directory alone kept it out; vm2's own check is the next layer.
        os.chmod(w("vm2"), 0o711)
        refused = as_uid(uids["vm1"], ctl("vm2"))
        check(refused.returncode != 0 and f"uid {uids['vm1']} may not use this control socket" in refused.stderr,
              f"vm2's daemon let vm1's user in: {refused.returncode} {refused.stdout} {refused.stderr}")
        check(all(p.poll() is None for p in procs.values()), "an instance died")
    finally:
        for p in procs.values():
            stop(p)


def syscall_groups():
    """{"@group": {members}} as this machine's systemd defines them."""
    groups, current = {}, None
    for line in subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), set())
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.add(line.strip())
    return groups


def expand(names, groups):
    out = set()
    for name in names:
        out |= expand(groups[name], groups) if name.startswith("@") else {name}
    return out


def unit_filter(unit_file, groups):
    """The system calls SystemCallFilter= lines of a unit allow: the first
    allow list, less every ~deny list (systemd.exec(5))."""
    allowed = None
    for line in open(unit_file):
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1].strip()
        if value.startswith("~"):
            allowed -= expand(value[1:].split(), groups)
        else:
            allowed = (allowed or set()) | expand(value.split(), groups)
    return allowed | expand(["@default"], groups)


@test
def test_syscall_filter():
    """Every system call vgpio makes (under strace: start-up, a frontend, the
    control socket, a reload, SIGTERM) is allowed by vgpio@.service's
    SystemCallFilter=; else the hardened service would fail at run time."""
    groups = syscall_groups()
    unit = os.path.join(os.path.dirname(__file__), "..", "..", "systemd", "vgpio@.service.in")
    allowed = unit_filter(unit, groups)
    w = Workdir()
    config = w.write("v.toml", f'control = "{w("ctl.sock")}"\n' + device("vm1", w("vm1.sock"), ["a", "b"]))
    proc = subprocess.Popen(["strace", "-f", "-qq", "-o", w("trace"), VGPIO, "serve", "--config", config],
                            stdout=open(w("daemon.log"), "a"), stderr=subprocess.STDOUT,
                            env=dict(os.environ, NOTIFY_SOCKET=w("notify")))
    NotifySocket(w("notify"))
    try:
        wait_until(lambda: os.path.exists(w("ctl.sock")), "the daemon to listen")
        # Signals go to vgpio itself, not to strace.
        daemon = int(subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()[0])
        out = subprocess.run([FRONTEND, w("vm1.sock"), "names", "dir", "0", "out", "set", "0", "1", "dir", "1", "in",
                              "irq", "1", "both", "unmask", "1"], capture_output=True, text=True, timeout=WAIT)
        check(out.returncode == 0, f"frontend: {out.stdout}")
        subprocess.run([VGPIO, "ctl", "--control", w("ctl.sock"), "set", "vm1", "b", "1"], check=True, timeout=WAIT)
        subprocess.run([VGPIO, "ctl", "--control", w("ctl.sock"), "list"], check=True, timeout=WAIT,
                       stdout=subprocess.DEVNULL)
        os.kill(daemon, signal.SIGHUP)
        wait_until(lambda: "reload done" in w.read("daemon.log"), "the reload")
        os.kill(daemon, signal.SIGTERM)
        check(proc.wait(timeout=WAIT) == 0, f"exit status under strace: {w.read('daemon.log')}")
    finally:
        if proc.poll() is None:
            proc.kill()
    used = set()
    for line in w.read("trace").splitlines():
        m = re.match(r"\d+\s+(\w+)\(", line)  # "1234  epoll_wait(..."
        if m:
            used.add(m.group(1))
    # Host lines are not here to exercise: their calls are named instead.
    used |= {"ioctl", "inotify_init1", "inotify_add_watch", "openat", "getdents64"}
    check(len(used) > 30, f"strace saw too little: {sorted(used)}")
    denied = sorted(used - allowed)
    check(not denied, f"vgpio makes system calls that vgpio@.service's SystemCallFilter= denies: {denied}")
    print(f"{len(used)} system calls, all allowed by the unit's filter")


@test
def test_restart_keeps_the_guest():
    """Under an fd store (vgpio-fdstore, which speaks systemd's protocol),
    vgpio is killed with SIGSEGV and started again; a frontend that
    reconnects, as a VMM that can should, finds the guest's lines as they
    were and does nothing to set them up again: its output still driven, its
    inputs read, and its interrupts armed. Two lines are armed and the second
    fires first, so the eventq's used ring is out of its avail ring's order:
    the buffer still held must fire after the restart, and the one answered
    must not come back."""
    w = Workdir()
    go = [w(f"go{i}") for i in range(2)]
    manager = subprocess.Popen([FDSTORE, VGPIO, "serve", "--sim", "4", "--socket", w("vm.sock")],
                               stdout=subprocess.PIPE, stderr=open(w("daemon.log"), "a"), text=True)
    events = []

    def wait_event(prefix, what):
        for line in manager.stdout:
            events.append(line.strip())
            if line.startswith(prefix):
                return line.split()[1]
        raise Failure(f"vgpio-fdstore ended before {what}: {events}")

    front = None
    try:
        first = wait_event("ready", "vgpio was ready")
        front = subprocess.Popen([FRONTEND, w("vm.sock"), "set", "0", "1", "dir", "0", "out",
                                  "dir", "1", "in", "irq", "1", "both", "unmask", "1",
                                  "dir", "2", "in", "irq", "2", "both", "unmask", "2",
                                  "await", go[0], "event", "10000", "await", go[1], "reconnect",
                                  "event", "10000", "event", "300", "get", "0", "get", "3"],
                                 stdout=open(w("front.log"), "w"), text=True)
        ctl = lambda *args: subprocess.run([VGPIO, "ctl", "--control", w("vm.sock.ctl"), *args],  # noqa: E731
                                           check=True, timeout=WAIT, capture_output=True, text=True).stdout
        wait_until(lambda: "unmask 2: ok" in w.read("front.log"), "the guest to arm both lines")
        ctl("set", "vgpio0", "2", "1")
        open(go[0], "w").close()
        wait_until(lambda: "event: 2 valid" in w.read("front.log"), "line 2's interrupt")
        os.kill(int(first), signal.SIGSEGV)
        wait_event("ready", "vgpio came back")
        status = json.loads(ctl("--json", "status"))["restart"]
        check(status["kept"] and status["report"] == ["device vgpio0: restored: 4 of 4 lines as the guest left them"],
              f"ctl status after the crash: {status}")
        ctl("set", "vgpio0", "3", "1")  # a harness drives an input while the guest is away
        open(go[1], "w").close()
        wait_until(lambda: "reconnect: ok" in w.read("front.log"), "the frontend to reconnect")
        ctl("set", "vgpio0", "1", "1")
        check(front.wait(timeout=WAIT) == 0, f"frontend: {w.read('front.log')}")
        log = frontend_results(w.read("front.log"))
        check(log["event"] == ["2 valid", "1 valid", "none"], f"interrupts across the restart: {log}")
        check(log["get 0"] == ["1"] and log["get 3"] == ["1"], f"the output and an input after it: {log}")
        check(any(e.startswith("exited") and e.endswith("failed") for e in events), f"the crash: {events}")
    finally:
        if front and front.poll() is None:
            front.kill()
        manager.send_signal(signal.SIGTERM)
        manager.wait(timeout=WAIT)
    check("sandbox: denied" not in w.read("daemon.log"), w.read("daemon.log"))


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
