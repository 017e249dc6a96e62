#!/usr/bin/env python3
"""Echo servers for the SOCKS5 tests.
usage: socks5_echo.py tcp HOST PORT   echoes every byte back on each connection
       socks5_echo.py udp HOST PORT   answers each datagram with b"echo:" + payload
"""
import socket
import sys
import threading


def tcp(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)

    def serve(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def udp(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    while True:
        d, a = s.recvfrom(65535)
        s.sendto(b"echo:" + d, a)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("tcp", "udp"):
        sys.exit(__doc__)
    (tcp if sys.argv[1] == "tcp" else udp)(sys.argv[2], int(sys.argv[3]))
