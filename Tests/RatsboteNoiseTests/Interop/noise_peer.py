#!/usr/bin/env python3
"""Independent Noise peer for the RatsboteNoise interoperability tests.

Runs one Noise_IK_25519_ChaChaPoly_BLAKE2b connection with the Python package
`noiseprotocol` (pip install noiseprotocol) and Ratsbote's framing: a 2-byte
big-endian length before every Noise message, and application frames (4-byte
big-endian length + payload) carried across transport messages. The peer echoes
every frame it receives back reversed, so the Swift side can tell that the
frame was decrypted and encrypted again. It stops after --frames frames, and
--timeout bounds every socket operation and the whole run.

As responder it binds 127.0.0.1 port 0 and prints "PORT <n>"; as initiator it
connects to 127.0.0.1:<--port>. After the handshake it prints
"HANDSHAKE_HASH <hex>" (and, as responder, "REMOTE_STATIC <hex>"), and "OK"
when it finishes.
"""

import argparse
import signal
import socket
import struct
import sys

PROTOCOL_NAME = b"Noise_IK_25519_ChaChaPoly_BLAKE2b"
PROLOGUE = b"ratsbote transport v1"
VERSION = 1
MAX_NOISE_MESSAGE = 65535
MAX_PAYLOAD = MAX_NOISE_MESSAGE - 16


def fail(message):
    print(f"noise_peer: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


try:
    from noise.connection import Keypair, NoiseConnection
except ImportError:
    fail("the Python package noiseprotocol is missing: pip install noiseprotocol")


class Stream:
    """Reads and writes length-prefixed Noise messages and frames on a socket."""

    def __init__(self, sock, connection, rekey_interval):
        self.sock = sock
        self.connection = connection
        self.rekey_interval = rekey_interval
        self.sent = 0
        self.received = 0
        self.plain = bytearray()

    def read_exact(self, count):
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                fail(f"connection closed after {len(data)} of {count} bytes")
            data += chunk
        return bytes(data)

    def read_message(self):
        (length,) = struct.unpack(">H", self.read_exact(2))
        return self.read_exact(length)

    def write_message(self, message):
        if len(message) > MAX_NOISE_MESSAGE:
            fail(f"Noise message of {len(message)} bytes exceeds {MAX_NOISE_MESSAGE}")
        self.sock.sendall(struct.pack(">H", len(message)) + bytes(message))

    def send_frame(self, payload):
        data = struct.pack(">I", len(payload)) + payload
        for start in range(0, len(data), MAX_PAYLOAD):
            self.write_message(self.connection.encrypt(data[start:start + MAX_PAYLOAD]))
            # Ratsbote's rekey policy: rekey after every rekey_interval messages.
            self.sent += 1
            if self.sent % self.rekey_interval == 0:
                self.connection.rekey_outbound_cipher()

    def receive_frame(self):
        while True:
            if len(self.plain) >= 4:
                (length,) = struct.unpack(">I", self.plain[:4])
                if len(self.plain) >= 4 + length:
                    frame = bytes(self.plain[4:4 + length])
                    del self.plain[:4 + length]
                    return frame
            self.plain += self.connection.decrypt(self.read_message())
            self.received += 1
            if self.received % self.rekey_interval == 0:
                self.connection.rekey_inbound_cipher()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["initiator", "responder"], required=True)
    parser.add_argument("--port", type=int, help="port to connect to (initiator)")
    parser.add_argument("--static", required=True, help="own static private key, hex")
    parser.add_argument("--remote-static", help="responder's static public key, hex (initiator)")
    parser.add_argument("--frames", type=int, default=4, help="number of frames to echo")
    parser.add_argument("--rekey-interval", type=int, default=1 << 20, help="messages between rekeys")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds for any socket operation")
    args = parser.parse_args()

    # A hard limit for the whole run, in case a peer keeps the connection open and idle.
    signal.alarm(int(args.timeout * 2) + 1)

    connection = NoiseConnection.from_name(PROTOCOL_NAME)
    connection.set_prologue(PROLOGUE)
    connection.set_keypair_from_private_bytes(Keypair.STATIC, bytes.fromhex(args.static))

    if args.role == "responder":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.settimeout(args.timeout)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        print(f"PORT {listener.getsockname()[1]}", flush=True)
        sock, _ = listener.accept()
        listener.close()
        connection.set_as_responder()
    else:
        if args.port is None or args.remote_static is None:
            fail("the initiator needs --port and --remote-static")
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
        connection.set_as_initiator()
        connection.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, bytes.fromhex(args.remote_static))
    sock.settimeout(args.timeout)

    connection.start_handshake()
    stream = Stream(sock, connection, args.rekey_interval)
    if args.role == "initiator":
        stream.write_message(connection.write_message(bytes([VERSION])))
        reply = connection.read_message(stream.read_message())
        if bytes(reply) != bytes([VERSION]):
            fail(f"responder replied with hello {bytes(reply).hex()}, expected {VERSION:02x}")
    else:
        hello = connection.read_message(stream.read_message())
        if bytes(hello) != bytes([VERSION]):
            fail(f"initiator sent hello {bytes(hello).hex()}, expected {VERSION:02x}")
        remote = connection.noise_protocol.handshake_state.rs
        print(f"REMOTE_STATIC {remote.public_bytes.hex()}", flush=True)
        stream.write_message(connection.write_message(bytes([VERSION])))
    if not connection.handshake_finished:
        fail("handshake did not finish after two messages")
    print(f"HANDSHAKE_HASH {connection.get_handshake_hash().hex()}", flush=True)

    for _ in range(args.frames):
        frame = stream.receive_frame()
        stream.send_frame(frame[::-1])

    sock.close()
    print("OK", flush=True)


if __name__ == "__main__":
    main()
