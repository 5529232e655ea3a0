#!/usr/bin/env python3
"""Write the seed corpus in Fuzz/corpus/<target>/ from the JSON files in protocol/vectors/.

Run from anywhere: python3 Fuzz/make-corpus.py. It replaces every seed file it writes and
leaves other files alone. Seeds for structures without vectors (note content, sealed-sender
content, key store header, a set of sessions) are built here with the encoding rules of
protocol/encoding.md, around payloads taken from the vectors. The structured targets (Noise, secretstream) start with
control bytes; see the comment at the top of each target for their layout.
"""

import base64
import hashlib
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "corpus"


def varint(value):
    """QUIC varint in minimal form (RFC 9000 section 16)."""
    if value < 1 << 6:
        return bytes([value])
    if value < 1 << 14:
        return struct.pack(">H", value | 0x4000)
    if value < 1 << 30:
        return struct.pack(">I", value | 0x8000_0000)
    return struct.pack(">Q", value | 0xC000_0000_0000_0000)


def variable(data):
    return varint(len(data)) + data


def text(value):
    return variable(value.encode("utf-8"))


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def note_content(subject, body, reply_to, attachments):
    out = bytes([1]) + b"\x01" * 16 + b"\x02" * 16
    out += bytes([1]) + reply_to if reply_to else bytes([0])
    out += text(subject) + text(body) + varint(len(attachments))
    for file_name, media_type, data in attachments:
        out += text(file_name) + text(media_type) + variable(data)
    return out


def sealed_sender_content(identity_key, certificate, message):
    """SealedSenderContent: version 1, sender address, identity key, certificate, message."""
    out = bytes([1]) + text("anna-schmidt") + struct.pack(">I", 1) + identity_key
    return out + variable(certificate) + variable(message)


def key_store(operations, memory):
    header = b"RBKS" + bytes([1]) + struct.pack(">QQ", operations, memory)
    header += b"\x33" * 16 + b"\x44" * 32 + b"\x55" * 24
    return header + b"\x66" * (128 + 16)


def frame_stream(frames):
    """Application frames with their 4-byte length, as the Noise transport carries them."""
    return b"".join(struct.pack(">I", len(f)) + f for f in frames)


def main():
    vectors = json.loads((ROOT / "protocol" / "vectors" / "wire.json").read_text())["vectors"]
    by_structure = {}
    for vector in vectors:
        data = bytes.fromhex(vector["hex"])
        by_structure.setdefault(vector["structure"], []).append((vector["name"], data))

    frames = by_structure["RelayFrame"]
    invite = by_structure["InviteCode"][0][1]
    hello = by_structure["ClientHello"][0][1]

    for name, data in frames:
        write("fuzz-relay-frame", name, data)
    write("fuzz-invite-code", "InviteCode", invite)
    code_text = "RB1-" + base64.urlsafe_b64encode(invite).decode().rstrip("=")
    write("fuzz-invite-text", "InviteCode", code_text.encode())
    write("fuzz-invite-text", "InviteCode.whitespace", ("  " + code_text + "\n").encode())
    write("fuzz-client-hello", "ClientHello", hello)

    send = dict(frames)["RelayFrame.request.send"]
    note = note_content("Sitzung Bauausschuss", "Die Vorlage folgt.", b"\x03" * 16,
                        [("Vorlage 12.pdf", "application/pdf", send)])
    write("fuzz-note-content", "note.reply", note)
    write("fuzz-note-content", "note.plain", note_content("", "kurz", None, []))

    # Session layer: protocol/vectors/session-content.json and session-ratchet.json.
    content = json.loads((ROOT / "protocol" / "vectors" / "session-content.json").read_text())
    for payload in content["payloads"]:
        write("fuzz-message-payload", payload["kind"], bytes.fromhex(payload["encoded"]))
    ratchet = json.loads((ROOT / "protocol" / "vectors" / "session-ratchet.json").read_text())
    messages = [bytes.fromhex(m["encoded"]) for m in ratchet["messages"]]
    for index, message in enumerate(messages[:4]):
        write("fuzz-session-message", f"message{index}.type{message[0]}", message)
    write("fuzz-prekey-bundle", "bundle", bytes.fromhex(ratchet["bundle"]))
    write("fuzz-session-state", "alice", bytes([0]) + bytes.fromhex(ratchet["aliceStateAfter"]))
    write("fuzz-session-state", "bob", bytes([0]) + bytes.fromhex(ratchet["bobStateAfter"]))
    alice_state = bytes.fromhex(ratchet["aliceStateAfter"])
    write("fuzz-session-state", "peer-sessions", bytes([1, 1, 1]) + variable(alice_state) + varint(0))
    alice_key = bytes.fromhex(ratchet["alice"]["identityKey"])
    write("fuzz-sealed-sender", "prekey-message", sealed_sender_content(alice_key, b"", messages[0]))
    write("fuzz-sealed-sender", "with-certificate", sealed_sender_content(alice_key, b"\x5a" * 40, messages[-1]))

    write("fuzz-key-store", "interactive", key_store(2, 64 << 20))
    write("fuzz-key-store", "maximum", key_store(10, 1 << 30))

    # Noise handshake: mode, then (modes 1 and 2) four mutation bytes, then the payload.
    write("fuzz-noise-handshake", "message1.hello", bytes([1, 0, 0, 0, 0]) + hello)
    write("fuzz-noise-handshake", "message1.flip", bytes([1, 1, 0, 40, 0x80]) + hello)
    write("fuzz-noise-handshake", "message2.frame", bytes([2, 0, 0, 0, 0]) + dict(frames)["RelayFrame.response.pong"])
    write("fuzz-noise-handshake", "message2.truncate", bytes([2, 2, 0, 30, 0]) + hello)
    write("fuzz-noise-handshake", "raw", bytes([0]) + hashlib.sha256(b"ephemeral").digest() + b"\x00" * 48)
    write("fuzz-noise-handshake", "hello", bytes([3]) + hello)

    # Noise stream, mode 0: the piece size, then framed Noise messages.
    # Modes 1 and 2: the maximum frame in units of 16 bytes, the plaintext size per message and
    # the piece size. Mode 2 adds four mutation bytes. The plaintext frame stream follows.
    some_frames = [data for _, data in frames[:6]]
    messages = b"".join(struct.pack(">H", len(f)) + f for f in some_frames)
    write("fuzz-noise-stream", "handshake", bytes([0, 7]) + messages)
    write("fuzz-noise-stream", "transport", bytes([1, 32, 40, 13]) + frame_stream(some_frames))
    write("fuzz-noise-stream", "transport.too-large", bytes([1, 1, 200, 255]) + frame_stream(some_frames))
    write("fuzz-noise-stream", "transport.flip", bytes([2, 32, 40, 13, 1, 0, 20, 4]) + frame_stream(some_frames))

    # Secretstream, mode 1: a flag for passing the length, four mutation bytes, the payload.
    # Mode 2: chunk size, change, index, mask, then the payload.
    write("fuzz-secret-stream", "document", bytes([1, 1, 0, 0, 0, 0]) + note)
    write("fuzz-secret-stream", "document.append", bytes([1, 0, 3, 0, 0, 7]) + invite)
    write("fuzz-secret-stream", "chunks", bytes([2, 16, 0, 0, 1]) + invite)
    write("fuzz-secret-stream", "chunks.swap", bytes([2, 16, 3, 1, 1]) + invite)
    write("fuzz-secret-stream", "raw", bytes([0, 0, 0, 0]) + b"\x77" * 24 + b"\x00" * 40)


if __name__ == "__main__":
    main()
