#!/usr/bin/env python3
"""Holds N idle keep-alive connections to betsdb for `bench/run --idle`.

Opens --connections connections, sends one GET /healthz on each (so each is
a served keep-alive connection, not just an accepted socket), prints
"ready N" and then keeps them idle. So that the server's idle timeout does
not close them during a long measurement, connections are re-used one at a
time, spread evenly over --interval seconds (1000 connections every 20 s is
50 tiny requests a second next to thousands of measured ones).
On SIGTERM it prints one JSON line: {"open": N, "dropped": N, "pings": N}.
Standard library only.
"""
import argparse
import json
import resource
import signal
import socket
import sys
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"


def read_response(sock):
    """Reads one HTTP response with a Content-Length body; False if closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return True


def ping(sock):
    try:
        sock.sendall(REQUEST)
        return read_response(sock)
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=20.0)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    socks, dropped, pings = [], 0, 0
    for _ in range(args.connections):
        s = socket.create_connection((args.host, args.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not ping(s):
            raise SystemExit("idle.py: the server closed a new connection")
        socks.append(s)
    print(f"ready {len(socks)}", flush=True)

    gap = args.interval / max(1, len(socks))
    i = 0
    while not stopping and socks:
        time.sleep(gap)
        if stopping:
            break
        s = socks[i % len(socks)]
        pings += 1
        if not ping(s):
            dropped += 1
            s.close()
            socks.remove(s)
            continue
        i += 1
    print(json.dumps({"open": len(socks), "dropped": dropped, "pings": pings}), flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
