"""Host side of the real-guest tests: vgpio daemons, a QEMU guest on the
test kernel, a shell on its serial console, and the control socket.

Time-outs here are for waiting, never for judging: they are generous, and a
test fails only when the awaited thing never comes.
"""
import base64
import itertools
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

WAIT = float(os.environ.get("VGPIO_GUEST_WAIT", "120"))  # seconds


class Failure(Exception):
    pass


# gpiomon --banner prints this once its line request is complete. Wait for it
# (not only for the device to report the interrupt armed) before the first
# edge: Linux 6.12's gpiolib-cdev enables the interrupt before it records the
# edges wanted (linereq_create sets line->edflags after edge_detector_setup),
# and its edge_irq_thread drops an edge that comes in between.
GPIOMON_READY = r"Monitoring lines? .*?\.\.\.\n"


def wait_until(predicate, what, timeout=WAIT, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(interval)


class Control:
    """One connection to a daemon's control socket."""

    def __init__(self, path):
        self.path = path
        self._connect()

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)
        self.buf = b""

    def peer_pid(self):
        """The pid of the process listening at the other end (SO_PEERCRED)."""
        creds = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[0]

    def next(self, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("daemon closed the control connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, **request):
        try:
            self.sock.sendall((json.dumps(request) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError) as e:
            # Seen once, after a daemon restart (guest.microvm.daemon_restart):
            # say so loudly, and go on with a new connection.
            print(f"guestkit: the control connection to {self.path} was lost ({e}); connecting again",
                  file=sys.stderr)
            self.sock.close()
            self._connect()
            self.sock.sendall((json.dumps(request) + "\n").encode())
        answer = self.next()
        if answer is None or not answer.get("ok"):
            raise Failure(f"control request {request} failed: {answer}")
        return answer

    def close(self):
        self.sock.close()


class Daemon:
    """A `vgpio serve` process with its own sockets."""

    def __init__(self, vgpio, workdir, name="vgpio0", lines=8, names=None, extra=(), config=None):
        """With `config` (a file), its first device must be `name`, on <workdir>/<name>.sock."""
        self.vgpio, self.name = vgpio, name
        self.socket = os.path.join(workdir, name + ".sock")
        self.control_path = self.socket + ".ctl"
        self.log_path = os.path.join(workdir, name + ".log")
        self.args = [vgpio, "serve", "--socket", self.socket, "--name", name, "--sim", str(lines)]
        if config:
            self.args = [vgpio, "serve", "--config", config]
        if os.environ.get("VGPIO_GUEST_LOG_LEVEL"):  # e.g. debug, to follow every interrupt
            self.args[1:1] = ["--log-level", os.environ["VGPIO_GUEST_LOG_LEVEL"]]
        if names:
            self.args += ["--names", ",".join(names)]
        self.args += list(extra)
        # $VGPIO_QEMU_USER: vgpio is built for another architecture (tests/cross)
        # and runs under that qemu-user. qemu-user implements neither seccomp nor
        # Landlock, so the daemon runs without its sandbox here; on Arm, the
        # sandbox is tested in the Arm guest (tests/cross/arm_guest_tests.py).
        if os.environ.get("VGPIO_QEMU_USER"):
            self.args = [os.environ["VGPIO_QEMU_USER"], self.args[0], self.args[1], "--no-sandbox", *self.args[2:]]
        self.proc = None
        self._control = None
        self.start()

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=log)

        def ready():
            if self.proc.poll() is not None:
                raise Failure(f"daemon {self.name} exited: {self.log()}")
            try:  # a stale socket file from a killed run may be there: connect, not stat
                control = Control(self.control_path)
            except OSError:
                return None
            if control.peer_pid() != self.proc.pid:  # only this daemon's own socket will do
                print(f"guestkit: {self.control_path} is served by pid {control.peer_pid()}, not by the daemon "
                      f"(pid {self.proc.pid}); waiting for the daemon's", file=sys.stderr)
                control.close()
                return None
            return control
        self._control = wait_until(ready, f"daemon {self.name} to listen")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def control(self):
        return self._control

    def get(self, line, device=None):
        return self._control.call(cmd="get", device=device or self.name, line=line)

    def set(self, line, value, device=None):
        self._control.call(cmd="set", device=device or self.name, line=line, value=value)

    def wait_line(self, line, what, device=None, **fields):
        """Waits until the line's status has all `fields` (e.g. irq="edge-both")."""
        def matches():
            s = self.get(line, device)
            return s if all(s.get(k) == v for k, v in fields.items()) else None
        return wait_until(matches, f"{device or self.name} line {line} {what} ({fields})")

    def stop(self, sig=signal.SIGTERM):
        if self._control:
            self._control.close()
            self._control = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=WAIT)
        # The sandbox serves on after denying a call: every test checks for it.
        denied = [line for line in self.log().splitlines() if "sandbox: denied system call" in line]
        if denied:
            raise Failure("vgpio's sandbox denied system calls it should have allowed:\n" + "\n".join(denied))
        return self.proc.returncode


class Platform:
    """How QEMU runs a test guest: machine, transport, console and kernel.

    q35: x86_64 with virtio-gpio over PCI. microvm: x86_64 over virtio-mmio,
    the devices passed on the kernel command line by QEMU itself. arm64: the
    Arm `virt` machine over virtio-mmio, found through the device tree;
    arm64_modern: the same over virtio-mmio version 2.
    """

    def __init__(self, name, qemu, machine, console, device, append, kernel_env, initrd_env, max_lines,
                 reverse_devices=False):
        self.name, self.qemu, self.machine, self.console = name, qemu, machine, console
        # Arm virt puts the first -device at the highest virtio-mmio address
        # and Linux probes from the lowest: given in reverse, the guest sees
        # the first socket as gpiochip0 on every platform.
        self.reverse_devices = reverse_devices
        self.device, self.append, self.kernel_env, self.initrd_env = device, append, kernel_env, initrd_env
        self.max_lines = max_lines  # the most lines Linux 6.12's gpio-virtio probes (test_driver_line_limit)


PLATFORMS = {
    # no_timer_check: a TCG guest on a loaded host can fail the boot-time
    # IO-APIC timer test ("MP-BIOS bug: 8254 timer not connected"), and then
    # lose interrupts.
    "q35": Platform("q35", "qemu-system-x86_64", ["-machine", "q35,accel=tcg"], "ttyS0", "vhost-user-gpio-pci",
                    "no_timer_check", "VGPIO_KERNEL", "VGPIO_INITRD", 21845),
    # acpi=off: QEMU then lists the virtio-mmio devices on the kernel command
    # line (virtio_mmio.device=...), which the test kernel reads; it has no
    # ACPI. reboot=t: the guest's reboot goes through the triple-fault path
    # that microvm has: a VM reset, or the end of QEMU with -no-reboot.
    "microvm": Platform("microvm", "qemu-system-x86_64", ["-machine", "microvm,accel=tcg,memory-backend=mem,acpi=off"],
                        "ttyS0", "vhost-user-gpio-device", "reboot=t", "VGPIO_KERNEL", "VGPIO_INITRD", 21845),
    "arm64": Platform("arm64", "qemu-system-aarch64", ["-machine", "virt,accel=tcg,memory-backend=mem", "-cpu", "max"],
                      "ttyAMA0", "vhost-user-gpio-device", "", "VGPIO_KERNEL_ARM64", "VGPIO_INITRD_ARM64", 21844,
                      reverse_devices=True),
    # QEMU's virtio-mmio is the legacy (version 1) transport unless told
    # otherwise; Linux drives either.
    "arm64_modern": Platform("arm64_modern", "qemu-system-aarch64",
                             ["-machine", "virt,accel=tcg,memory-backend=mem", "-cpu", "max",
                              "-global", "virtio-mmio.force-legacy=false"],
                             "ttyAMA0", "vhost-user-gpio-device", "", "VGPIO_KERNEL_ARM64", "VGPIO_INITRD_ARM64", 21844,
                             reverse_devices=True),
}


def platform():
    """The platform the tests run on: $VGPIO_PLATFORM, q35 by default."""
    name = os.environ.get("VGPIO_PLATFORM", "q35")
    if name not in PLATFORMS:
        raise Failure(f"VGPIO_PLATFORM={name}: not one of {', '.join(PLATFORMS)}")
    return PLATFORMS[name]


def boot_arg(script):
    """The kernel command line's part for a boot script (see Guest)."""
    if not script:
        return ""
    arg = "vgpio.boot=" + base64.b64encode(script.encode()).decode()
    if len(arg) > 1500:  # the kernel keeps 2048 bytes of command line, console and all
        raise Failure(f"a boot script of {len(script)} bytes is too long for the kernel command line")
    return arg


class Guest:
    """A QEMU guest with one vhost-user-gpio device per socket, on platform()."""

    _ids = itertools.count(1)

    def __init__(self, sockets, qemu=None, kernel=None, initrd=None, memory_mb=256, chardev_opts="",
                 extra_args=(), reboot_resets=False, boot_script=None, wait_ready=True, console_log=None,
                 append=""):
        """With `console_log` (a file), the console goes there and the
        harness's shell is on the second serial port (a guest whose init
        writes to the console, as systemd does). With `reboot_resets`, a reboot in the guest resets the VM (and the
        guest boots again) instead of ending QEMU. `boot_script` (text): run
        by the guest's init at boot (testvm/guest-init.sh, "vgpio.boot").
        Without `wait_ready`, returns at once (a guest held from its start
        by its device's clock boots only when told to run): wait_ready() then."""
        p = platform()
        self.qemu = qemu or os.environ.get("VGPIO_QEMU", p.qemu)
        self.kernel = kernel or os.environ[p.kernel_env]
        self.initrd = initrd or os.environ[p.initrd_env]
        args = [self.qemu, *p.machine, "-m", f"{memory_mb}M", "-smp", "1",
                "-object", f"memory-backend-memfd,id=mem,size={memory_mb}M,share=on",
                "-kernel", self.kernel, "-initrd", self.initrd,
                "-append", f"console={p.console} quiet panic=-1 {p.append} {append} {boot_arg(boot_script)}".strip(),
                "-display", "none", "-nodefaults", *(["-serial", f"file:{console_log}"] if console_log else []),
                "-serial", "stdio", "-monitor", "none"]
        if not reboot_resets:
            args.append("-no-reboot")
        if p.name == "q35":
            args += ["-numa", "node,memdev=mem"]  # as QEMU's vhost-user-gpio docs show it
        for i, path in reversed(list(enumerate(sockets))) if p.reverse_devices else enumerate(sockets):
            args += ["-chardev", f"socket,id=gpio{i},path={path}{chardev_opts}",
                     "-device", f"{p.device},chardev=gpio{i}"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.exited = False
        self.transcript = ""
        self.pending = ""
        if wait_ready:
            try:
                self.wait_ready()
            except BaseException:
                self.close()  # a guest that never came up must not run on, unseen, beside the next tests
                raise

    def wait_ready(self):
        """Until the guest's init has started its console shell."""
        self.expect(r"VGPIO-GUEST-READY")

    def _read(self, timeout):
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            self.exited = True
            raise Failure("QEMU exited; console so far:\n" + self.transcript[-4000:])
        text = chunk.decode(errors="replace").replace("\r", "")
        self.transcript += text
        self.pending += text
        return True

    def expect(self, pattern, timeout=WAIT):
        """Waits for `pattern` on the console; consumes output up to the match."""
        regex = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.pending)
            if m:
                self.pending = self.pending[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"no /{pattern}/ on the guest console after {timeout:.0f} s; last output:\n"
                              + self.transcript[-3000:])
            self._read(min(left, 1.0))

    def drain(self, timeout):
        """Collects console output for up to `timeout` s; False once QEMU has exited."""
        try:
            self._read(timeout)
            return True
        except Failure:
            return False

    def send(self, line):
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except OSError:  # QEMU is gone: the same Failure as when reading
            self.exited = True
            raise Failure("QEMU exited; console so far:\n" + self.transcript[-4000:])

    def sh(self, command, timeout=WAIT):
        """Runs a shell command in the guest; returns (exit status, output)."""
        n = next(self._ids)
        # The markers go on lines of their own, so that any command works
        # (one ending in "&", a here-document); printf keeps them out of any
        # echo of the command itself.
        self.send(f"printf '@@S%s@@\\n' {n}\n{command}\nprintf '@@E%s %s@@\\n' {n} $?")
        m = self.expect(rf"@@S{n}@@\n(.*?)@@E{n} (\d+)@@\n", timeout)
        return int(m.group(2)), m.group(1)

    def must(self, command, timeout=WAIT):
        rc, out = self.sh(command, timeout)
        if rc != 0:
            raise Failure(f"guest command failed ({rc}): {command}\n{out}")
        return out

    def read(self, path):
        """What a file holds now ("" when it is not there yet: a spawned
        command's shell may not have made its output file)."""
        return self.must(f"cat {path} 2>/dev/null || true")

    def write(self, path, text):
        """Writes a file (and its folder) in the guest."""
        self.must(f"mkdir -p $(dirname {path}) && cat > {path} <<'VGPIO_EOF'\n{text}\nVGPIO_EOF")

    def spawn(self, command):
        """Starts a command in the background; returns its pid."""
        # Its output must not mix with the console protocol: keep the
        # command's own redirection, or send it to a log.
        if ">" not in command:
            command += " > /tmp/spawned.log"
        return int(self.must(f"{command} 2>&1 & echo $!").strip())

    def spawn_gpiomon(self, args, log):
        """Starts `gpiomon --banner ARGS > LOG` in the background; returns its
        pid once its request is complete (GPIOMON_READY is in the log)."""
        pid = self.spawn(f"gpiomon --banner {args} > {log}")
        # (The log appears once the background job has started.)
        wait_until(lambda: re.search(GPIOMON_READY, self.sh(f"cat {log} 2>/dev/null")[1]), f"gpiomon's banner in {log}")
        return pid

    def kill(self, pid):
        """Stops a spawned command and waits for it. (Busybox killall also takes
        down the init shell, so kill by pid.)"""
        self.must(f"kill {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.05; done")

    def close(self):
        # The guest keeps nothing worth a clean shutdown.
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Workdir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="vgpio-guest-")
        return self.path

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:  # the daemons' side of a failure, before it is gone
            for name in sorted(os.listdir(self.path)):
                if name.endswith(".log"):
                    with open(os.path.join(self.path, name), errors="replace") as f:
                        tail = f.readlines()[-80:]
                    print(f"---- last lines of {name} ----\n{''.join(tail)}", file=sys.stderr)
        subprocess.run(["rm", "-rf", self.path])
