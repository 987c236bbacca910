#!/usr/bin/env python3
"""lrapp.py - the app and the clients bb_livereload.sh puts the live-reload
proxy between (standard library only).

  lrapp.py serve PORT DIR   the app: answers on 127.0.0.1:PORT with what
                            DIR/version.txt said when it started; a
                            WebSocket echo at /ws
  lrapp.py ws URL MSG...    a WebSocket client: sends each MSG, prints each
                            echo on a line
  lrapp.py sse URL MARKER   reads an event stream: prints the first event's
                            data, creates MARKER (the app then sends the
                            second event), prints the second's
  lrapp.py upload URL FILE  POSTs FILE as multipart/form-data (in chunks of
                            64 KiB), prints the answer
  lrapp.py midway HOW URL   stops midway, prints "ready" and waits to be
                            killed: HOW is upload (1 MB of 10), download (1
                            MB of 200, a small receive buffer), ws (after
                            one echo), or idle (half a request line)

The app's pages:
  /             text/html: <h1 id=v>VERSION</h1>
  /headers      application/json: the request's path and headers
  /upload       POST: {"path", "length", "sha256", "type"} of the body
  /big?n=N      N bytes (a repeating pattern), Content-Length
  /chunked      text/html in 3 chunks (Transfer-Encoding: chunked)
  /stream       text/event-stream: "one", then "two" once MARKER exists
  /ws           WebSocket echo (text and binary frames, close)
  /hang         never answers: reads until the client (the proxy) closes
  /status?code=N  status N, with a body unless N is 204 or 304
  /die?n=N      says Content-Length: 2N, sends N bytes, then closes
"""
import base64
import hashlib
import http.server
import json
import os
import socket
import struct
import sys
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def pattern(n):
    block = bytes(range(256)) * 256
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    started_as = ""  # DIR/version.txt when the app started

    def log_message(self, *args):
        pass

    def send(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def version(self):
        return self.started_as

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if path == "/":
            body = ("<!doctype html><html><head><title>lrapp</title></head><body>"
                    "<h1 id=v>%s</h1></body></html>" % self.version()).encode()
            self.send(200, "text/html; charset=utf-8", body)
        elif path == "/headers":
            body = json.dumps({"path": self.path, "headers": list(self.headers.items())}).encode()
            self.send(200, "application/json", body)
        elif path == "/big":
            self.send(200, "application/octet-stream", pattern(int(query["n"][0])))
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"<html><body>", b"<p>chunked " + self.version().encode() + b"</p>",
                         b"</body></html>"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/stream":
            self.stream(query["marker"][0])
        elif path == "/ws":
            self.websocket()
        elif path == "/hang":
            while self.rfile.read1(4096):
                pass
            self.close_connection = True
        elif path == "/status":
            code = int(query["code"][0])
            if code in (204, 304):
                self.send_response(code)
                self.end_headers()
            else:
                self.send(code, "text/plain", b"status %d\n" % code)
        elif path == "/die":
            n = int(query["n"][0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(2 * n))
            self.end_headers()
            self.wfile.write(pattern(n))
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send(404, "text/plain", b"no such page\n")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"path": self.path, "length": len(data),
                           "sha256": hashlib.sha256(data).hexdigest(),
                           "type": self.headers.get("Content-Type", "")}).encode()
        self.send(200, "application/json", body)

    def stream(self, marker):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(b"data: one\n\n")
        self.wfile.flush()
        deadline = time.time() + 20
        while not os.path.exists(marker) and time.time() < deadline:
            time.sleep(0.02)
        self.wfile.write(b"data: two\n\n")
        self.wfile.flush()
        self.close_connection = True

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            frame = read_frame(self.rfile)
            if frame is None:
                break
            opcode, payload = frame
            if opcode == 8:
                write_frame(self.wfile, 8, payload, mask=False)
                break
            write_frame(self.wfile, opcode, payload, mask=False)
        self.close_connection = True


def read_frame(f):
    head = f.read(2)
    if len(head) < 2:
        return None
    opcode = head[0] & 0x0F
    n = head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", f.read(8))[0]
    mask = f.read(4) if head[1] & 0x80 else None
    payload = f.read(n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


def write_frame(f, opcode, payload, mask):
    n = len(payload)
    head = bytes([0x80 | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    f.write(head + payload)
    f.flush()


def connect(url):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    target = u.path + ("?" + u.query if u.query else "")
    return s, target, "%s:%d" % (u.hostname, u.port)


def ws_open(url):
    """A WebSocket's file after the handshake (exits on a wrong one)."""
    s, target, host = connect(url)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (target, host, key)).encode())
    f = s.makefile("rwb")
    status = f.readline()
    if b" 101 " not in status:
        sys.exit("ws: no upgrade: %s" % status.decode().strip())
    want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    ok = False
    while True:
        line = f.readline().strip()
        if not line:
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "sec-websocket-accept" and v.strip() == want:
            ok = True
    if not ok:
        sys.exit("ws: wrong or no Sec-WebSocket-Accept")
    return f


def ws_client(url, msgs):
    f = ws_open(url)
    for m in msgs:
        write_frame(f, 1, m.encode(), mask=True)
        frame = read_frame(f)
        if frame is None:
            sys.exit("ws: closed before the echo of %r" % m)
        print(frame[1].decode())
    write_frame(f, 8, b"", mask=True)
    frame = read_frame(f)
    print("closed" if frame and frame[0] == 8 else "no close frame")


def sse_client(url, marker):
    s, target, host = connect(url)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n"
               % (target, host)).encode())
    f = s.makefile("rb")
    got = 0
    while got < 2:
        line = f.readline()
        if not line:
            sys.exit("sse: the stream ended after %d events" % got)
        text = line.decode().strip()
        if text.startswith("data: "):
            print(text[6:], flush=True)
            got += 1
            if got == 1:
                open(marker, "w").close()


def upload(url, path):
    s, target, host = connect(url)
    with open(path, "rb") as fh:
        data = fh.read()
    boundary = "gustboundary%d" % os.getpid()
    body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" % (boundary, os.path.basename(path))
             ).encode() + data + ("\r\n--%s--\r\n" % boundary).encode())
    s.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n"
               % (target, host, boundary, len(body))).encode())
    for i in range(0, len(body), 65536):
        s.sendall(body[i:i + 65536])
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode())
    print(rest.decode())
    print("sent", hashlib.sha256(body).hexdigest(), len(body))


def midway(how, url):
    if how == "ws":
        ws = ws_open(url)
        write_frame(ws, 1, b"x", mask=True)
        read_frame(ws)
    else:
        s, target, host = connect(url)
    if how == "download":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    if how == "upload":
        s.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 10000000\r\n\r\n"
                   % (target, host)).encode() + b"u" * 1000000)
    elif how == "download":
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host)).encode())
        got = 0
        while got < 1000000:
            got += len(s.recv(65536))
    elif how == "idle":
        s.sendall(b"GET / HT")
    print("ready", flush=True)
    time.sleep(120)


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        App.root = sys.argv[3]
        with open(os.path.join(App.root, "version.txt")) as f:
            App.started_as = f.read().strip()
        http.server.ThreadingHTTPServer.daemon_threads = True
        http.server.ThreadingHTTPServer.request_queue_size = 256  # many clients at once
        http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), App).serve_forever()
    elif cmd == "ws":
        ws_client(sys.argv[2], sys.argv[3:])
    elif cmd == "sse":
        sse_client(sys.argv[2], sys.argv[3])
    elif cmd == "upload":
        upload(sys.argv[2], sys.argv[3])
    elif cmd == "midway":
        midway(sys.argv[2], sys.argv[3])
    else:
        sys.exit("lrapp.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
