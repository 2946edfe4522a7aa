#!/usr/bin/env python3
"""Times a bootstrap binary against a minimal fake Runtime API on loopback.

    invoke_timing.py BINARY [INVOCATIONS] [RUNS]

Prints, over RUNS (default 5) fresh processes:
  start   exec of the binary → its first GET /next arrives (the runtime's part of a cold start),
          the fastest run
  warm    wall time per invocation over INVOCATIONS (default 2000) events on the keep-alive
          connection (GET /next answered → response POSTed → next GET /next), median run
  cpu     the bootstrap's own CPU time (user + sys) per invocation, median run: the figure that
          other load on the machine disturbs least

The server is a bare socket loop with canned answers, so its own cost stays small next to the
binary's; run on a quiet machine and compare builds with each other, not with Lambda.
"""

import os
import socket
import statistics
import subprocess
import sys
import time

EVENT = b'{"message":"hello from the timing harness"}'


def read_request(conn, buf):
    """Reads one HTTP/1.1 request (headers and Content-Length body) from `conn`; returns
    (request line, rest of buffer), or (None, b"") when the client closed."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return lines[0], rest[length:]


def answer(status, headers=b"", body=b""):
    return (
        b"HTTP/1.1 %d X\r\n%sContent-Length: %d\r\n\r\n" % (status, headers, len(body)) + body
    )


def one_run(binary, invocations):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    env = {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}", "PATH": os.environ.get("PATH", "")}
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stderr=subprocess.DEVNULL)
    conn, _ = server.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    first_next = None
    warm_start = None
    served = 0
    try:
        while True:
            line, buf = read_request(conn, buf)
            if line is None:
                raise RuntimeError("the bootstrap closed the connection")
            if line.startswith(b"GET"):
                now = time.perf_counter()
                if first_next is None:
                    first_next = now
                if served == 1:
                    warm_start = now  # the first invocation is the cold one
                if served == invocations + 1:
                    warm_end = now
                    break
                request_id = b"req-%d" % served
                conn.sendall(
                    answer(
                        200,
                        b"Lambda-Runtime-Aws-Request-Id: %s\r\n"
                        b"Lambda-Runtime-Deadline-Ms: 9999999999999\r\n"
                        b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:x:1:function:f\r\n"
                        % request_id,
                        EVENT,
                    )
                )
                served += 1
            else:
                conn.sendall(answer(202))
    finally:
        proc.kill()
        _, _, usage = os.wait4(proc.pid, 0)
        conn.close()
        server.close()
    cpu = (usage.ru_utime + usage.ru_stime) / (invocations + 1)
    return first_next - started, (warm_end - warm_start) / invocations, cpu


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = argv[1]
    invocations = int(argv[2]) if len(argv) > 2 else 2000
    runs = int(argv[3]) if len(argv) > 3 else 5
    starts, warms, cpus = zip(*(one_run(binary, invocations) for _ in range(runs)))
    print(
        f"start {min(starts) * 1e3:.2f} ms   "
        f"warm {statistics.median(warms) * 1e6:.1f} us/invoke   "
        f"cpu {statistics.median(cpus) * 1e6:.1f} us/invoke   "
        f"({runs} runs, {invocations} invocations)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
