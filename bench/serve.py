#!/usr/bin/env python3
"""A static file server on 127.0.0.1 for the benchmarks: like `python3 -m http.server`, but with
HTTP/1.1 keep-alive and a listen backlog big enough for parallel clients (the stock server's
backlog of 5 drops SYNs under a burst of connections, which costs a 1 s retransmit each).

Usage: serve.py DIR PORT
"""

import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    handler = functools.partial(Handler, directory=argv[1])
    Server(("127.0.0.1", int(argv[2])), handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
