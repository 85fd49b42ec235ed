"""proc: the server under test and the processes the probes start.

Every process is started here and stopped by its own PID; nothing is
looked up or killed by name.
"""

import os
import signal
import socket
import subprocess
import time

from wire import API, HOST


def status_kib(pid, field):
    """status_kib reads a kB field of /proc/PID/status (VmRSS, VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Ports:
    """Ports hands out fresh port pairs (WebSocket, API), so that no probe
    meets the TIME_WAIT sockets or a lingering listener of the one before."""

    def __init__(self, first):
        self.next = first

    def pair(self):
        while True:
            p = self.next
            self.next += 2
            if free(p) and free(p + 1):
                return p, p + 1


def free(port):
    s = socket.socket()
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Server:
    """Server is one myriad process on loopback ports of its own."""

    def __init__(self, binary, ports, flags=(), nofile=None, key=None, logdir="/tmp", name="srv"):
        self.port, self.api_port = ports.pair()
        self.key = key
        args = [binary, "--addr", f"{HOST}:{self.port}", "--api-addr", f"{HOST}:{self.api_port}"]
        args += list(flags)
        if key:
            args += ["--api-key", key]
        if nofile:
            args = ["prlimit", f"--nofile={nofile}:{nofile}"] + args
        self.log = os.path.join(logdir, f"{name}-{self.port}.log")
        self.logf = open(self.log, "wb")
        self.p = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
        self.pid = self.p.pid
        self.api = API(self.api_port, key)
        self._wait_up()

    def _wait_up(self, timeout=15.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise RuntimeError(f"server exited with {self.p.returncode}: see {self.log}")
            if all(_listening(p) for p in (self.port, self.api_port)):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not up within {timeout}s: see {self.log}")

    def rss(self):
        """rss is the resident set in bytes now (None once exited)."""
        k = status_kib(self.pid, "VmRSS")
        return None if k is None else k * 1024

    def hwm(self):
        """hwm is the peak resident set in bytes since start."""
        k = status_kib(self.pid, "VmHWM")
        return None if k is None else k * 1024

    def alive(self):
        return self.p.poll() is None

    def stats(self):
        return self.api.stats()

    def wait_stat(self, pred, timeout=30.0):
        """wait_stat polls /stats until pred(stats) holds; it returns the
        last stats and whether pred held."""
        end = time.monotonic() + timeout
        st = {}
        while time.monotonic() < end:
            st = self.stats()
            if st and pred(st):
                return st, True
            time.sleep(0.1)
        return st, False

    def settle_rss(self, secs=1.0):
        """settle_rss waits secs and returns the RSS then."""
        time.sleep(secs)
        return self.rss()

    def log_lines(self, *words):
        """log_lines counts lines of the server's output holding every word."""
        self.logf.flush()
        with open(self.log, "rb") as f:
            return sum(1 for line in f if all(w.encode() in line for w in words))

    def wait_exit(self, timeout):
        """wait_exit waits for the process to exit by itself and returns
        its status (None if it had to be killed after timeout)."""
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def terminate(self, timeout=60.0):
        """terminate sends SIGTERM and waits; it returns the exit status
        (None if it had to be killed)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def stop(self):
        self.api.close()
        if self.p.poll() is None:
            self.terminate(10.0)
        self.logf.close()


def _listening(port):
    try:
        socket.create_connection((HOST, port), 0.5).close()
        return True
    except OSError:
        return False


class Child:
    """Child is a helper process (the load generator) stopped by PID."""

    def __init__(self, args, log):
        self.logf = open(log, "wb")
        self.p = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            if self.wait(5) is None:
                self.p.kill()
                self.p.wait()
        self.logf.close()
