"""A TCP server that accepts connections and never answers: a hung PostgreSQL or Redis (the
kernel completes the handshake, then nothing), unlike a stopped one that refuses at once."""

import socket
import threading


class HungServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never read, never written

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()
