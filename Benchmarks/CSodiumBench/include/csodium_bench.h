// CSodiumBench: the C twin of ratsbote-bench. Each function performs the same work as one Swift
// case, directly on libsodium, so that every Swift figure has its C limit beside it.
//
// Every run function takes a fixture and an iteration count, repeats the operation that many
// times and returns 0, or -1 when libsodium reported a failure (a bug in the benchmark, never
// an expected outcome). The self-timed functions return the nanoseconds they measured instead.

#pragma once

#include <stddef.h>
#include <stdint.h>

/// Keys, inputs and reusable output buffers for every C case; built once per case, outside the
/// timed region.
typedef struct csb_fixture csb_fixture;

/// Creates a fixture whose message is `message_bytes` long, with fresh keys and valid inputs
/// (a sealed box, a signature, an AEAD ciphertext) for the open and verify cases.
/// Returns NULL when libsodium cannot start or memory runs out.
csb_fixture *csb_fixture_create(size_t message_bytes);

/// Frees a fixture and wipes its key material.
void csb_fixture_destroy(csb_fixture *fixture);

/// Reads the benchmark clock in nanoseconds: CLOCK_MONOTONIC unless
/// csb_use_thread_cpu_clock(1) was called. Both the Swift harness and the self-timed C functions
/// read this clock, so both sides always measure with the same one.
uint64_t csb_now_ns(void);

/// Switches the benchmark clock to CLOCK_THREAD_CPUTIME_ID (nonzero) or back to CLOCK_MONOTONIC
/// (zero). CPU time leaves out the time this thread waited for a core, which matters when other
/// work shares the machine. Call it before the first case, from the thread that runs the cases.
void csb_use_thread_cpu_clock(int enabled);

// Sealed box (crypto_box_seal): the output is malloc'ed per call, as the Swift API returns a
// fresh array.
int64_t csb_box_seal(csb_fixture *fixture, uint64_t iterations);
int64_t csb_box_seal_open(csb_fixture *fixture, uint64_t iterations);

// Ed25519 detached signatures over the fixture's message.
int64_t csb_sign_detached(csb_fixture *fixture, uint64_t iterations);
int64_t csb_sign_verify_detached(csb_fixture *fixture, uint64_t iterations);

// X25519: the secret scalar and the shared secret live in sodium_malloc memory, as the Swift
// API's default guarded storage does.
int64_t csb_x25519_keygen(csb_fixture *fixture, uint64_t iterations);
int64_t csb_x25519_agree(csb_fixture *fixture, uint64_t iterations);

// XChaCha20-Poly1305-IETF. The `_alloc` forms malloc the output per call, like the Swift API that
// returns an array. The `_into` forms write into the fixture's buffer, like the caller-buffer API.
int64_t csb_xchacha_encrypt_alloc(csb_fixture *fixture, uint64_t iterations);
int64_t csb_xchacha_decrypt_alloc(csb_fixture *fixture, uint64_t iterations);
int64_t csb_xchacha_encrypt_into(csb_fixture *fixture, uint64_t iterations);
int64_t csb_xchacha_decrypt_into(csb_fixture *fixture, uint64_t iterations);

// BLAKE2b-256 of the fixture's message (crypto_generichash, unkeyed).
int64_t csb_blake2b(csb_fixture *fixture, uint64_t iterations);

// HKDF-SHA-256 (RFC 5869) with a 32-byte salt, 32-byte input key material and a short info
// string, deriving 32 bytes into wiped heap memory, built on crypto_auth_hmacsha256.
int64_t csb_hkdf_sha256(csb_fixture *fixture, uint64_t iterations);

/// The info string both HKDF sides use.
#define CSB_HKDF_INFO "ratsbote bench hkdf"

// Argon2id (crypto_pwhash) with the INTERACTIVE limits, 32-byte output in sodium_malloc memory.
int64_t csb_argon2id_interactive(csb_fixture *fixture, uint64_t iterations);

// secretstream XChaCha20-Poly1305: each iteration is one whole stream of `chunk_count` chunks of
// the fixture's message size, the last tagged FINAL, through one reused output buffer.
// `csb_secretstream_push` is timed by the caller; `csb_secretstream_pull` pushes each chunk
// untimed and returns the nanoseconds spent in pull alone, so memory stays flat.
int64_t csb_secretstream_push(csb_fixture *fixture, uint64_t iterations, uint64_t chunk_count);
int64_t csb_secretstream_pull(csb_fixture *fixture, uint64_t iterations, uint64_t chunk_count);

// Diagnostics that explain a Swift/C gap rather than measure a Ratsbote operation.

/// malloc and free of `message_bytes + 16` bytes, the allocation behind an array-returning
/// 1 KiB encrypt, with nothing else.
int64_t csb_malloc_free(csb_fixture *fixture, uint64_t iterations);

// Double Ratchet floor: the libsodium calls that one 1 KiB ratchet message costs in
// RatsboteSession, with the same sizes and without protocol logic (no headers to parse, no
// skipped keys, no checks besides libsodium's own). One message is one encrypt by the sender plus
// one decrypt by the receiver. Keys live on the stack or in the state and are wiped; the
// ciphertext and plaintext go into buffers reused from message to message.

/// Two parties' ratchet keys, persisting from batch to batch as the Swift sessions do.
typedef struct csb_ratchet csb_ratchet;

/// Creates two parties that share a root key and a first chain, with a message of
/// `message_bytes`. Returns NULL when libsodium cannot start or memory runs out.
csb_ratchet *csb_ratchet_create(size_t message_bytes);

/// Frees the state and wipes its keys.
void csb_ratchet_destroy(csb_ratchet *ratchet);

/// Sends `iterations` messages from the first party to the second in one sending chain. Each costs
/// per side KDF_CK (two HMAC-SHA-256), the message-key HKDF (one extract and two expand blocks)
/// and the AEAD seal or open. Returns 0, or -1 when a libsodium call failed.
int64_t csb_ratchet_one_way(csb_ratchet *ratchet, uint64_t iterations);

/// Sends `iterations` messages with the sender alternating, so every message starts a new chain.
/// On top of the one-way work the receiver makes a DH ratchet step: X25519 with the sender's new
/// ratchet key, KDF_RK, a new key pair (randombytes_buf and crypto_scalarmult_base), a second
/// X25519 and a second KDF_RK. Returns 0, or -1 when a libsodium call failed.
int64_t csb_ratchet_alternating(csb_ratchet *ratchet, uint64_t iterations);

/// The HKDF info of KDF_RK in RatsboteSession.
#define CSB_RATCHET_ROOT_INFO "Ratsbote ratchet root v1"
/// The HKDF info of the message key expansion in RatsboteSession.
#define CSB_RATCHET_MESSAGE_INFO "Ratsbote message key v1"
/// The AEAD associated data of a ratchet message: both identity keys (64 bytes) and the encoded
/// header (suite 2, ratchet key 32, two counters of 4 bytes).
#define CSB_RATCHET_ASSOCIATED_DATA_BYTES 106

// Document files: the work of DocumentFile in C. Encrypt reads `input` in batches of 16 chunks
// of 64 KiB, pushes each chunk (the last tagged final), hashes the ciphertext with BLAKE2b-256,
// writes `output` (created, mode 0600), fsyncs and closes it. Decrypt reads such a file, checks
// its length, pulls every chunk, requires the final tag on the last one, hashes, writes a
// temporary file beside `output`, fsyncs and renames it to `output`. Both return 0, or -1 on a
// failure. `key` is 32 bytes; `plaintext_bytes` is the size of the document.
int csb_document_encrypt_file(const char *input, const char *output, const unsigned char *key,
                              unsigned char *hash_out);
int csb_document_decrypt_file(const char *input, const char *output, const unsigned char *key,
                              uint64_t plaintext_bytes, const unsigned char *expected_hash);

// Relay storage floor: the SQL statements of the relay's send and acknowledgement paths through
// SQLite's C API (storage.c), in the same batches as the Swift `relay storage` case.
/// Thread CPU time, elapsed time and envelope count of the measured batches.
typedef struct {
    uint64_t cpu_ns;
    uint64_t elapsed_ns;
    uint64_t envelopes;
} csb_storage_result;
/// Creates a relay-like database at `path` (which must not exist) with `mailboxes` mailboxes, then
/// commits `warm_up_batches + measured_batches` batches of `sends_per_batch` sends, each batch
/// first acknowledging the previous one. Returns 0, or -1 when SQLite reported an error.
int csb_relay_storage(const char *path, int mailboxes, int sends_per_batch, int warm_up_batches, int measured_batches,
                      size_t envelope_bytes, csb_storage_result *result);
