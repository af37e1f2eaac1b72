"""Test support: a connection-lockout attacker from another loopback address.

Deno.connect cannot choose its source address, and every Deno client on
loopback appears as 127.0.0.1. This attacker binds 127.0.0.2 (the whole
127.0.0.0/8 is loopback on Linux), so the server sees it as a different
client from the test's own 127.0.0.1 requests.

usage: python3 loopback_attacker.py PORT N

Holds N keep-alive connections, each sending a request every 4 s, and N
connections sending an unfinished head, each reconnecting at once when the
server closes it. Prints "ready" once all 2N have sent their first bytes,
then a summary line ("stats ...") every second. Runs until killed.
"""
import selectors
import socket
import sys
import time

PORT, N = int(sys.argv[1]), int(sys.argv[2])
REQUEST = b"GET /attack HTTP/1.1\r\nHost: a\r\n\r\n"
UNFINISHED = b"GET /attack HTTP/1.1\r\nHost: a\r\n"
selector = selectors.DefaultSelector()
stats = {"connects": 0, "responses_503": 0, "responses_200": 0}
first_sends = 0


def open_connection(kind):
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.setblocking(False)
    try:
        sock.connect(("127.0.0.1", PORT))
    except BlockingIOError:
        pass
    stats["connects"] += 1
    selector.register(sock, selectors.EVENT_WRITE, {"kind": kind, "first": True})


def reopen(sock, state):
    selector.unregister(sock)
    sock.close()
    open_connection(state["kind"])


def on_writable(sock, state):
    global first_sends
    try:
        sock.send(REQUEST if state["kind"] == "keep-alive" else UNFINISHED)
    except OSError:
        reopen(sock, state)
        return
    if state["first"]:
        first_sends += 1
        state["first"] = False
        if first_sends == 2 * N:
            print("ready", flush=True)
    selector.modify(sock, selectors.EVENT_READ, state)


def on_readable(sock, state):
    try:
        data = sock.recv(65536)
    except OSError:
        data = b""
    if not data:
        reopen(sock, state)
        return
    stats["responses_503"] += data.count(b"HTTP/1.1 503")
    stats["responses_200"] += data.count(b"HTTP/1.1 200")


for _ in range(N):
    open_connection("keep-alive")
    open_connection("unfinished head")
last_request = last_stats = time.monotonic()
while True:
    for key, events in selector.select(timeout=0.25):
        if events & selectors.EVENT_WRITE:
            on_writable(key.fileobj, key.data)
        elif events & selectors.EVENT_READ:
            on_readable(key.fileobj, key.data)
    now = time.monotonic()
    if now - last_request >= 4:
        last_request = now
        for key in list(selector.get_map().values()):
            if key.data["kind"] == "keep-alive" and not key.data["first"]:
                selector.modify(key.fileobj, selectors.EVENT_WRITE, key.data)
    if now - last_stats >= 1:
        last_stats = now
        print("stats", " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)
