#!/usr/bin/env python3
# A client that keeps connecting to 127.0.0.1:PORT every few ms, reads the
# first line each connection answers, and counts what fails, until the file
# STOP exists (the socket hand-off tests: a restart must refuse nothing).
# It creates UP once it has been served, then writes to OUT:
#   "SERVED REFUSED OTHER SEEN\nERRORS\n"
# SEEN: the sorted first words of the lines served, comma-separated;
# ERRORS: the names of the other failures, space-separated.
# With "http" it sends GET / (HTTP/1.0) instead and the line served is the
# text of the body's first <h1>, or else its first line; a status other
# than 200 is a failure.
# Usage: connloop.py PORT OUT STOP UP [http]
import os
import re
import socket
import sys
import time

port, out, stop, up = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
http = sys.argv[5:] == ["http"]


def served(c):
    """The line the server answers on c ("" for none)."""
    if not http:
        return c.makefile().readline()
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = c.makefile("rb").read().decode("utf-8", "replace")
    head, _, body = data.partition("\r\n\r\n")
    if not head.startswith("HTTP/1.") or head.split()[1:2] != ["200"]:
        errs.append("status:" + (head.split("\r\n")[0] or "none").replace(" ", "_"))
        return ""
    h1 = re.search(r"<h1>(.*?)</h1>", body)
    line = h1.group(1) if h1 else body.split("\n")[0]
    return line + "\n" if line.strip() else ""


ok = refused = other = 0
seen = set()
errs = []
while not os.path.exists(stop):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        line = served(c)
        c.close()
        if not line:
            errs.append("empty")
        if line:
            ok += 1
            seen.add(line.split()[0])
            if ok == 1:
                open(up, "w").close()
        else:
            other += 1
    except ConnectionRefusedError:
        refused += 1
    except OSError as e:
        other += 1
        errs.append(type(e).__name__)
    time.sleep(0.003)
with open(out, "w") as f:
    f.write("%d %d %d %s\n%s\n" % (ok, refused, other, ",".join(sorted(seen)), " ".join(errs)))
