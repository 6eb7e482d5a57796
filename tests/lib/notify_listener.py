#!/usr/bin/env python3
"""Stand in for systemd's notification socket (NOTIFY_SOCKET): bind an
AF_UNIX datagram socket at ADDRESS ('@name' for the abstract namespace) and
print each message received on one line, flushed, until stopped.
Usage: notify_listener.py ADDRESS"""
import socket
import sys


def main():
    address = sys.argv[1]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    print("listening", flush=True)
    while True:
        message = sock.recv(4096)
        # One notification may carry several lines (KEY=VALUE each).
        for line in message.decode("utf-8", "replace").splitlines():
            print(line, flush=True)


if __name__ == "__main__":
    main()
