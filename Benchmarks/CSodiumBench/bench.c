#include "csodium_bench.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CSB_HKDF_OUTPUT_BYTES 32

struct csb_fixture {
    size_t message_bytes;
    unsigned char *message;
    /// Room for the message plus the largest overhead (sealed box, 48 bytes).
    unsigned char *output;
    unsigned char *sealed_box;
    unsigned char *aead_ciphertext;
    unsigned char *stream_ciphertext;

    unsigned char box_public_key[crypto_box_PUBLICKEYBYTES];
    unsigned char box_secret_key[crypto_box_SECRETKEYBYTES];
    unsigned char peer_public_key[crypto_scalarmult_BYTES];
    unsigned char sign_public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char sign_secret_key[crypto_sign_SECRETKEYBYTES];
    unsigned char signature[crypto_sign_BYTES];
    unsigned char aead_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned char aead_nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned char hkdf_salt[32];
    unsigned char hkdf_input_key[32];
    unsigned char argon2_salt[crypto_pwhash_SALTBYTES];
    char passphrase[24];
};

static clockid_t csb_clock = CLOCK_MONOTONIC;

void csb_use_thread_cpu_clock(int enabled) {
    csb_clock = enabled ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
}

uint64_t csb_now_ns(void) {
    struct timespec now;
    clock_gettime(csb_clock, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

csb_fixture *csb_fixture_create(size_t message_bytes) {
    if (sodium_init() < 0) {
        return NULL;
    }
    csb_fixture *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return NULL;
    }
    size_t room = message_bytes + crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_ABYTES;
    f->message_bytes = message_bytes;
    f->message = malloc(message_bytes + 1);
    f->output = malloc(room);
    f->sealed_box = malloc(room);
    f->aead_ciphertext = malloc(room);
    f->stream_ciphertext = malloc(room);
    if (!f->message || !f->output || !f->sealed_box || !f->aead_ciphertext || !f->stream_ciphertext) {
        csb_fixture_destroy(f);
        return NULL;
    }
    randombytes_buf(f->message, message_bytes);

    crypto_box_keypair(f->box_public_key, f->box_secret_key);
    unsigned char peer_secret[crypto_scalarmult_SCALARBYTES];
    randombytes_buf(peer_secret, sizeof peer_secret);
    crypto_scalarmult_base(f->peer_public_key, peer_secret);
    sodium_memzero(peer_secret, sizeof peer_secret);
    crypto_sign_keypair(f->sign_public_key, f->sign_secret_key);
    crypto_aead_xchacha20poly1305_ietf_keygen(f->aead_key);
    randombytes_buf(f->aead_nonce, sizeof f->aead_nonce);
    randombytes_buf(f->hkdf_salt, sizeof f->hkdf_salt);
    randombytes_buf(f->hkdf_input_key, sizeof f->hkdf_input_key);
    randombytes_buf(f->argon2_salt, sizeof f->argon2_salt);
    strcpy(f->passphrase, "correct horse battery");

    crypto_box_seal(f->sealed_box, f->message, message_bytes, f->box_public_key);
    crypto_sign_detached(f->signature, NULL, f->message, message_bytes, f->sign_secret_key);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        f->aead_ciphertext, NULL, f->message, message_bytes, NULL, 0, NULL, f->aead_nonce, f->aead_key);
    return f;
}

void csb_fixture_destroy(csb_fixture *f) {
    if (f == NULL) {
        return;
    }
    free(f->message);
    free(f->output);
    free(f->sealed_box);
    free(f->aead_ciphertext);
    free(f->stream_ciphertext);
    sodium_memzero(f, sizeof *f);
    free(f);
}

// MARK: - Sealed box

int64_t csb_box_seal(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *out = malloc(f->message_bytes + crypto_box_SEALBYTES);
        if (out == NULL || crypto_box_seal(out, f->message, f->message_bytes, f->box_public_key) != 0) {
            free(out);
            return -1;
        }
        free(out);
    }
    return 0;
}

int64_t csb_box_seal_open(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *out = malloc(f->message_bytes + 1);
        if (out == NULL ||
            crypto_box_seal_open(out, f->sealed_box, f->message_bytes + crypto_box_SEALBYTES, f->box_public_key,
                                 f->box_secret_key) != 0) {
            free(out);
            return -1;
        }
        free(out);
    }
    return 0;
}

// MARK: - Ed25519

int64_t csb_sign_detached(csb_fixture *f, uint64_t iterations) {
    unsigned char signature[crypto_sign_BYTES];
    for (uint64_t i = 0; i < iterations; i++) {
        if (crypto_sign_detached(signature, NULL, f->message, f->message_bytes, f->sign_secret_key) != 0) {
            return -1;
        }
    }
    return 0;
}

int64_t csb_sign_verify_detached(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        if (crypto_sign_verify_detached(f->signature, f->message, f->message_bytes, f->sign_public_key) != 0) {
            return -1;
        }
    }
    return 0;
}

// MARK: - X25519

int64_t csb_x25519_keygen(csb_fixture *f, uint64_t iterations) {
    (void)f;
    unsigned char public_key[crypto_scalarmult_BYTES];
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *secret = sodium_malloc(crypto_scalarmult_SCALARBYTES);
        if (secret == NULL) {
            return -1;
        }
        randombytes_buf(secret, crypto_scalarmult_SCALARBYTES);
        int rc = crypto_scalarmult_base(public_key, secret);
        sodium_free(secret);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

int64_t csb_x25519_agree(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *shared = sodium_malloc(crypto_scalarmult_BYTES);
        if (shared == NULL) {
            return -1;
        }
        int rc = crypto_scalarmult(shared, f->box_secret_key, f->peer_public_key);
        sodium_free(shared);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

// MARK: - XChaCha20-Poly1305

int64_t csb_xchacha_encrypt_alloc(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *out = malloc(f->message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES);
        unsigned long long written = 0;
        if (out == NULL || crypto_aead_xchacha20poly1305_ietf_encrypt(out, &written, f->message, f->message_bytes,
                                                                      NULL, 0, NULL, f->aead_nonce, f->aead_key) != 0) {
            free(out);
            return -1;
        }
        free(out);
    }
    return 0;
}

int64_t csb_xchacha_decrypt_alloc(csb_fixture *f, uint64_t iterations) {
    size_t ciphertext_bytes = f->message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *out = malloc(f->message_bytes + 1);
        unsigned long long written = 0;
        if (out == NULL ||
            crypto_aead_xchacha20poly1305_ietf_decrypt(out, &written, NULL, f->aead_ciphertext, ciphertext_bytes, NULL,
                                                       0, f->aead_nonce, f->aead_key) != 0) {
            free(out);
            return -1;
        }
        free(out);
    }
    return 0;
}

int64_t csb_xchacha_encrypt_into(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned long long written = 0;
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(f->output, &written, f->message, f->message_bytes, NULL, 0,
                                                       NULL, f->aead_nonce, f->aead_key) != 0) {
            return -1;
        }
    }
    return 0;
}

int64_t csb_xchacha_decrypt_into(csb_fixture *f, uint64_t iterations) {
    size_t ciphertext_bytes = f->message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned long long written = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(f->output, &written, NULL, f->aead_ciphertext, ciphertext_bytes,
                                                       NULL, 0, f->aead_nonce, f->aead_key) != 0) {
            return -1;
        }
    }
    return 0;
}

// MARK: - BLAKE2b and HKDF

int64_t csb_blake2b(csb_fixture *f, uint64_t iterations) {
    unsigned char digest[32];
    for (uint64_t i = 0; i < iterations; i++) {
        if (crypto_generichash(digest, sizeof digest, f->message, f->message_bytes, NULL, 0) != 0) {
            return -1;
        }
    }
    return 0;
}

static void csb_hmac_sha256(unsigned char tag[32], const unsigned char *key, size_t key_bytes,
                            const unsigned char *first, size_t first_bytes, const unsigned char *second,
                            size_t second_bytes) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key, key_bytes);
    crypto_auth_hmacsha256_update(&state, first, first_bytes);
    if (second_bytes > 0) {
        crypto_auth_hmacsha256_update(&state, second, second_bytes);
    }
    crypto_auth_hmacsha256_final(&state, tag);
    sodium_memzero(&state, sizeof state);
}

int64_t csb_hkdf_sha256(csb_fixture *f, uint64_t iterations) {
    size_t info_bytes = sizeof CSB_HKDF_INFO - 1;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char prk[32];
        csb_hmac_sha256(prk, f->hkdf_salt, sizeof f->hkdf_salt, f->hkdf_input_key, sizeof f->hkdf_input_key, NULL, 0);

        // The output is secret, so it goes into heap memory that is wiped before it is freed, as
        // the Swift API's wiped storage does.
        unsigned char *okm = malloc(CSB_HKDF_OUTPUT_BYTES);
        if (okm == NULL) {
            return -1;
        }
        unsigned char block[32 + sizeof CSB_HKDF_INFO];
        unsigned char previous[32];
        size_t previous_bytes = 0;
        size_t written = 0;
        unsigned char counter = 1;
        while (written < CSB_HKDF_OUTPUT_BYTES) {
            memcpy(block, previous, previous_bytes);
            memcpy(block + previous_bytes, CSB_HKDF_INFO, info_bytes);
            block[previous_bytes + info_bytes] = counter;
            csb_hmac_sha256(previous, prk, sizeof prk, block, previous_bytes + info_bytes + 1, NULL, 0);
            previous_bytes = 32;
            size_t take = CSB_HKDF_OUTPUT_BYTES - written < 32 ? CSB_HKDF_OUTPUT_BYTES - written : 32;
            memcpy(okm + written, previous, take);
            written += take;
            counter++;
        }
        sodium_memzero(block, sizeof block);
        sodium_memzero(previous, sizeof previous);
        sodium_memzero(prk, sizeof prk);
        sodium_memzero(okm, CSB_HKDF_OUTPUT_BYTES);
        free(okm);
    }
    return 0;
}

// MARK: - Argon2id

int64_t csb_argon2id_interactive(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *key = sodium_malloc(32);
        if (key == NULL) {
            return -1;
        }
        int rc = crypto_pwhash(key, 32, f->passphrase, strlen(f->passphrase), f->argon2_salt,
                               crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                               crypto_pwhash_ALG_ARGON2ID13);
        sodium_free(key);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

// MARK: - secretstream

static unsigned char csb_stream_tag(uint64_t chunk, uint64_t chunk_count) {
    return chunk + 1 == chunk_count ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                    : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
}

int64_t csb_secretstream_push(csb_fixture *f, uint64_t iterations, uint64_t chunk_count) {
    crypto_secretstream_xchacha20poly1305_state state;
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    for (uint64_t i = 0; i < iterations; i++) {
        crypto_secretstream_xchacha20poly1305_init_push(&state, header, f->aead_key);
        for (uint64_t chunk = 0; chunk < chunk_count; chunk++) {
            if (crypto_secretstream_xchacha20poly1305_push(&state, f->stream_ciphertext, NULL, f->message,
                                                           f->message_bytes, NULL, 0,
                                                           csb_stream_tag(chunk, chunk_count)) != 0) {
                return -1;
            }
        }
    }
    sodium_memzero(&state, sizeof state);
    return 0;
}

int64_t csb_secretstream_pull(csb_fixture *f, uint64_t iterations, uint64_t chunk_count) {
    crypto_secretstream_xchacha20poly1305_state push_state;
    crypto_secretstream_xchacha20poly1305_state pull_state;
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    size_t chunk_bytes = f->message_bytes + crypto_secretstream_xchacha20poly1305_ABYTES;
    uint64_t elapsed = 0;
    for (uint64_t i = 0; i < iterations; i++) {
        crypto_secretstream_xchacha20poly1305_init_push(&push_state, header, f->aead_key);
        uint64_t start = csb_now_ns();
        int rc = crypto_secretstream_xchacha20poly1305_init_pull(&pull_state, header, f->aead_key);
        elapsed += csb_now_ns() - start;
        if (rc != 0) {
            return -1;
        }
        for (uint64_t chunk = 0; chunk < chunk_count; chunk++) {
            unsigned char expected_tag = csb_stream_tag(chunk, chunk_count);
            if (crypto_secretstream_xchacha20poly1305_push(&push_state, f->stream_ciphertext, NULL, f->message,
                                                           f->message_bytes, NULL, 0, expected_tag) != 0) {
                return -1;
            }
            unsigned char tag = 0;
            start = csb_now_ns();
            rc = crypto_secretstream_xchacha20poly1305_pull(&pull_state, f->output, NULL, &tag, f->stream_ciphertext,
                                                            chunk_bytes, NULL, 0);
            elapsed += csb_now_ns() - start;
            if (rc != 0 || tag != expected_tag) {
                return -1;
            }
        }
    }
    sodium_memzero(&push_state, sizeof push_state);
    sodium_memzero(&pull_state, sizeof pull_state);
    return (int64_t)elapsed;
}

// MARK: - Diagnostics

int64_t csb_malloc_free(csb_fixture *f, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *p = malloc(f->message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES);
        if (p == NULL) {
            return -1;
        }
        // Without this the compiler may remove the unused malloc and free pair.
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);
    }
    return 0;
}

// MARK: - Double Ratchet floor

#define CSB_RATCHET_KEY_BYTES 32
#define CSB_RATCHET_MESSAGE_KEY_BYTES (crypto_aead_xchacha20poly1305_ietf_KEYBYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)

/// One side of a conversation: the keys a RatsboteSession holds, without the bookkeeping.
typedef struct {
    unsigned char root_key[CSB_RATCHET_KEY_BYTES];
    unsigned char sending_chain_key[CSB_RATCHET_KEY_BYTES];
    unsigned char receiving_chain_key[CSB_RATCHET_KEY_BYTES];
    unsigned char ratchet_secret_key[crypto_scalarmult_SCALARBYTES];
    unsigned char ratchet_public_key[crypto_scalarmult_BYTES];
} csb_ratchet_party;

struct csb_ratchet {
    size_t message_bytes;
    unsigned char *message;
    unsigned char *ciphertext;
    unsigned char *plaintext;
    unsigned char associated_data[CSB_RATCHET_ASSOCIATED_DATA_BYTES];
    csb_ratchet_party parties[2];
    /// The party that sends the next alternating message (0 or 1).
    unsigned next_sender;
};

/// HMAC-SHA-256 of one message in one init, update and final, with the state wiped afterwards:
/// the calls RatsboteCrypto's HMACCore.compute makes.
static void csb_ratchet_hmac(unsigned char tag[32], const unsigned char *key, size_t key_bytes,
                             const unsigned char *message, size_t message_bytes) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key, key_bytes);
    crypto_auth_hmacsha256_update(&state, message, message_bytes);
    crypto_auth_hmacsha256_final(&state, tag);
    sodium_memzero(&state, sizeof state);
}

/// HKDF-SHA-256 with a 32-byte salt and input key, as RatsboteCrypto computes it: the extract
/// HMAC, then one keyed HMAC state copied for every expand block.
static void csb_ratchet_hkdf(unsigned char *output, size_t output_bytes, const unsigned char salt[32],
                             const unsigned char input_key[32], const char *info, size_t info_bytes) {
    unsigned char prk[32];
    csb_ratchet_hmac(prk, salt, 32, input_key, 32);

    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, prk, sizeof prk);
    const unsigned char *previous = NULL;
    unsigned char counter = 1;
    size_t written = 0;
    while (written < output_bytes) {
        crypto_auth_hmacsha256_state state = keyed;
        if (previous != NULL) {
            crypto_auth_hmacsha256_update(&state, previous, 32);
        }
        crypto_auth_hmacsha256_update(&state, (const unsigned char *)info, info_bytes);
        crypto_auth_hmacsha256_update(&state, &counter, 1);
        size_t remaining = output_bytes - written;
        if (remaining >= 32) {
            crypto_auth_hmacsha256_final(&state, output + written);
            previous = output + written;
            written += 32;
        } else {
            unsigned char block[32];
            crypto_auth_hmacsha256_final(&state, block);
            memcpy(output + written, block, remaining);
            sodium_memzero(block, sizeof block);
            written += remaining;
        }
        sodium_memzero(&state, sizeof state);
        counter++;
    }
    sodium_memzero(&keyed, sizeof keyed);
    sodium_memzero(prk, sizeof prk);
}

/// KDF_CK and the message key expansion: advances `chain_key` and writes the AEAD key and nonce.
static void csb_ratchet_message_keys(unsigned char chain_key[32], unsigned char key_and_nonce[CSB_RATCHET_MESSAGE_KEY_BYTES]) {
    static const unsigned char message_constant = 0x01;
    static const unsigned char chain_constant = 0x02;
    static const unsigned char zero_salt[32] = {0};
    unsigned char message_key[32];
    csb_ratchet_hmac(message_key, chain_key, 32, &message_constant, 1);
    csb_ratchet_hmac(chain_key, chain_key, 32, &chain_constant, 1);
    csb_ratchet_hkdf(key_and_nonce, CSB_RATCHET_MESSAGE_KEY_BYTES, zero_salt, message_key, CSB_RATCHET_MESSAGE_INFO,
                     sizeof CSB_RATCHET_MESSAGE_INFO - 1);
    sodium_memzero(message_key, sizeof message_key);
}

/// KDF_RK: replaces `root_key` and writes the new chain key.
static void csb_ratchet_root_step(unsigned char root_key[32], unsigned char chain_key[32],
                                  const unsigned char dh_output[32]) {
    unsigned char output[64];
    csb_ratchet_hkdf(output, sizeof output, root_key, dh_output, CSB_RATCHET_ROOT_INFO, sizeof CSB_RATCHET_ROOT_INFO - 1);
    memcpy(root_key, output, 32);
    memcpy(chain_key, output + 32, 32);
    sodium_memzero(output, sizeof output);
}

/// Encrypts the message with the next key of the sender's sending chain.
static int csb_ratchet_send(csb_ratchet *r, csb_ratchet_party *sender) {
    unsigned char key_and_nonce[CSB_RATCHET_MESSAGE_KEY_BYTES];
    csb_ratchet_message_keys(sender->sending_chain_key, key_and_nonce);
    int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
        r->ciphertext, NULL, r->message, r->message_bytes, r->associated_data, sizeof r->associated_data, NULL,
        key_and_nonce + crypto_aead_xchacha20poly1305_ietf_KEYBYTES, key_and_nonce);
    sodium_memzero(key_and_nonce, sizeof key_and_nonce);
    return rc;
}

/// Decrypts the message with the next key of the receiver's receiving chain.
static int csb_ratchet_receive(csb_ratchet *r, csb_ratchet_party *receiver) {
    unsigned char key_and_nonce[CSB_RATCHET_MESSAGE_KEY_BYTES];
    csb_ratchet_message_keys(receiver->receiving_chain_key, key_and_nonce);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        r->plaintext, NULL, NULL, r->ciphertext, r->message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES,
        r->associated_data, sizeof r->associated_data, key_and_nonce + crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
        key_and_nonce);
    sodium_memzero(key_and_nonce, sizeof key_and_nonce);
    return rc;
}

/// Makes the DH ratchet step of a receiver that gets a message with the sender's new ratchet key.
/// It derives a receiving chain from its current key pair, then a new key pair and a sending chain.
static int csb_ratchet_dh_step(csb_ratchet_party *receiver, const unsigned char sender_public_key[32]) {
    unsigned char dh_output[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(dh_output, receiver->ratchet_secret_key, sender_public_key) != 0) {
        return -1;
    }
    csb_ratchet_root_step(receiver->root_key, receiver->receiving_chain_key, dh_output);

    randombytes_buf(receiver->ratchet_secret_key, sizeof receiver->ratchet_secret_key);
    crypto_scalarmult_base(receiver->ratchet_public_key, receiver->ratchet_secret_key);
    int rc = crypto_scalarmult(dh_output, receiver->ratchet_secret_key, sender_public_key);
    if (rc == 0) {
        csb_ratchet_root_step(receiver->root_key, receiver->sending_chain_key, dh_output);
    }
    sodium_memzero(dh_output, sizeof dh_output);
    return rc;
}

csb_ratchet *csb_ratchet_create(size_t message_bytes) {
    if (sodium_init() < 0) {
        return NULL;
    }
    csb_ratchet *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    r->message_bytes = message_bytes;
    r->message = malloc(message_bytes + 1);
    r->ciphertext = malloc(message_bytes + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    r->plaintext = malloc(message_bytes + 1);
    if (!r->message || !r->ciphertext || !r->plaintext) {
        csb_ratchet_destroy(r);
        return NULL;
    }
    randombytes_buf(r->message, message_bytes);
    randombytes_buf(r->associated_data, sizeof r->associated_data);

    // The state after X3DH: both share a root key, and the first party has sent nothing yet but has
    // a sending chain from DH(its ratchet key, the second party's ratchet key), which the second
    // party derives when the first message arrives.
    csb_ratchet_party *first = &r->parties[0];
    csb_ratchet_party *second = &r->parties[1];
    randombytes_buf(first->root_key, sizeof first->root_key);
    memcpy(second->root_key, first->root_key, sizeof first->root_key);
    for (int i = 0; i < 2; i++) {
        randombytes_buf(r->parties[i].ratchet_secret_key, sizeof r->parties[i].ratchet_secret_key);
        crypto_scalarmult_base(r->parties[i].ratchet_public_key, r->parties[i].ratchet_secret_key);
    }
    unsigned char dh_output[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(dh_output, first->ratchet_secret_key, second->ratchet_public_key) != 0) {
        csb_ratchet_destroy(r);
        return NULL;
    }
    csb_ratchet_root_step(first->root_key, first->sending_chain_key, dh_output);
    sodium_memzero(dh_output, sizeof dh_output);

    // The one-way case reads only these two chains, so it can start at once.
    memcpy(second->receiving_chain_key, first->sending_chain_key, sizeof first->sending_chain_key);
    return r;
}

void csb_ratchet_destroy(csb_ratchet *r) {
    if (r == NULL) {
        return;
    }
    free(r->message);
    free(r->ciphertext);
    free(r->plaintext);
    sodium_memzero(r, sizeof *r);
    free(r);
}

int64_t csb_ratchet_one_way(csb_ratchet *r, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        if (csb_ratchet_send(r, &r->parties[0]) != 0 || csb_ratchet_receive(r, &r->parties[1]) != 0) {
            return -1;
        }
    }
    return 0;
}

int64_t csb_ratchet_alternating(csb_ratchet *r, uint64_t iterations) {
    for (uint64_t i = 0; i < iterations; i++) {
        csb_ratchet_party *sender = &r->parties[r->next_sender];
        csb_ratchet_party *receiver = &r->parties[1 - r->next_sender];
        if (csb_ratchet_send(r, sender) != 0 || csb_ratchet_dh_step(receiver, sender->ratchet_public_key) != 0 ||
            csb_ratchet_receive(r, receiver) != 0) {
            return -1;
        }
        r->next_sender = 1 - r->next_sender;
    }
    return 0;
}

// MARK: - Document files

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSB_DOC_CHUNK 65536
#define CSB_DOC_BATCH 16
#define CSB_DOC_SEALED (CSB_DOC_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

static ssize_t csb_read_full(int fd, unsigned char *buffer, size_t count) {
    size_t done = 0;
    while (done < count) {
        ssize_t got = read(fd, buffer + done, count - done);
        if (got < 0) return -1;
        if (got == 0) break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

static int csb_write_full(int fd, const unsigned char *buffer, size_t count) {
    size_t done = 0;
    while (done < count) {
        ssize_t put = write(fd, buffer + done, count - done);
        if (put < 0) return -1;
        done += (size_t)put;
    }
    return 0;
}

int csb_document_encrypt_file(const char *input, const char *output, const unsigned char *key,
                              unsigned char *hash_out) {
    int in = open(input, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    off_t size = lseek(in, 0, SEEK_END);
    lseek(in, 0, SEEK_SET);
    uint64_t chunk_count = size == 0 ? 1 : ((uint64_t)size + CSB_DOC_CHUNK - 1) / CSB_DOC_CHUNK;

    unsigned char *plain = malloc(CSB_DOC_CHUNK * CSB_DOC_BATCH);
    unsigned char *sealed = malloc(CSB_DOC_SEALED * CSB_DOC_BATCH);
    crypto_secretstream_xchacha20poly1305_state state;
    crypto_generichash_state hash;
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    int rc = -1;
    if (plain == NULL || sealed == NULL) goto done;

    crypto_secretstream_xchacha20poly1305_init_push(&state, header, key);
    crypto_generichash_init(&hash, NULL, 0, 32);
    crypto_generichash_update(&hash, header, sizeof header);
    if (csb_write_full(out, header, sizeof header) != 0) goto done;

    uint64_t chunk = 0;
    while (chunk < chunk_count) {
        ssize_t got = csb_read_full(in, plain, CSB_DOC_CHUNK * CSB_DOC_BATCH);
        if (got < 0) goto done;
        size_t offset = 0, written = 0;
        int batch = 0;
        do {
            size_t take = (size_t)got - offset < CSB_DOC_CHUNK ? (size_t)got - offset : CSB_DOC_CHUNK;
            unsigned long long sealed_bytes = 0;
            unsigned char tag = chunk + 1 == chunk_count ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                         : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
            crypto_secretstream_xchacha20poly1305_push(&state, sealed + written, &sealed_bytes, plain + offset, take,
                                                       NULL, 0, tag);
            written += (size_t)sealed_bytes;
            offset += take;
            chunk++;
            batch++;
        } while (offset < (size_t)got && batch < CSB_DOC_BATCH);
        crypto_generichash_update(&hash, sealed, written);
        if (csb_write_full(out, sealed, written) != 0) goto done;
    }
    crypto_generichash_final(&hash, hash_out, 32);
    if (fsync(out) != 0) goto done;
    rc = 0;
done:
    if (plain != NULL) {
        sodium_memzero(plain, CSB_DOC_CHUNK * CSB_DOC_BATCH);
        free(plain);
    }
    free(sealed);
    sodium_memzero(&state, sizeof state);
    close(in);
    close(out);
    if (rc != 0) unlink(output);
    return rc;
}

// Mirrors DocumentFile.decrypt without force: it refuses an existing output, and moves the checked
// plaintext into place with link and unlink, which fail instead of replacing a file that appeared.
int csb_document_decrypt_file(const char *input, const char *output, const unsigned char *key,
                              uint64_t plaintext_bytes, const unsigned char *expected_hash) {
    struct stat existing;
    if (stat(output, &existing) == 0) return -1;
    uint64_t chunk_count = plaintext_bytes == 0 ? 1 : (plaintext_bytes + CSB_DOC_CHUNK - 1) / CSB_DOC_CHUNK;
    uint64_t expected = crypto_secretstream_xchacha20poly1305_HEADERBYTES + plaintext_bytes +
                        chunk_count * crypto_secretstream_xchacha20poly1305_ABYTES;
    int in = open(input, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    if ((uint64_t)lseek(in, 0, SEEK_END) != expected) {
        close(in);
        return -1;
    }
    lseek(in, 0, SEEK_SET);
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.partial", output);
    int out = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }

    unsigned char *sealed = malloc(CSB_DOC_SEALED * CSB_DOC_BATCH);
    unsigned char *plain = malloc(CSB_DOC_CHUNK * CSB_DOC_BATCH);
    crypto_secretstream_xchacha20poly1305_state state;
    crypto_generichash_state hash;
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    unsigned char digest[32];
    int rc = -1;
    if (sealed == NULL || plain == NULL) goto done;
    if (csb_read_full(in, header, sizeof header) != (ssize_t)sizeof header) goto done;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state, header, key) != 0) goto done;
    crypto_generichash_init(&hash, NULL, 0, 32);
    crypto_generichash_update(&hash, header, sizeof header);

    uint64_t remaining = expected - sizeof header;
    while (remaining > 0) {
        size_t want = remaining < CSB_DOC_SEALED * CSB_DOC_BATCH ? (size_t)remaining : CSB_DOC_SEALED * CSB_DOC_BATCH;
        if (csb_read_full(in, sealed, want) != (ssize_t)want) goto done;
        remaining -= want;
        crypto_generichash_update(&hash, sealed, want);
        size_t offset = 0, produced = 0;
        while (offset < want) {
            size_t take = want - offset < CSB_DOC_SEALED ? want - offset : CSB_DOC_SEALED;
            unsigned long long plain_bytes = 0;
            unsigned char tag = 0;
            if (crypto_secretstream_xchacha20poly1305_pull(&state, plain + produced, &plain_bytes, &tag, sealed + offset,
                                                           take, NULL, 0) != 0) {
                goto done;
            }
            offset += take;
            produced += (size_t)plain_bytes;
            int is_last = remaining == 0 && offset == want;
            if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != is_last) goto done;
        }
        if (csb_write_full(out, plain, produced) != 0) goto done;
    }
    crypto_generichash_final(&hash, digest, sizeof digest);
    if (sodium_memcmp(digest, expected_hash, sizeof digest) != 0) goto done;
    if (fsync(out) != 0) goto done;
    rc = 0;
done:
    if (plain != NULL) {
        sodium_memzero(plain, CSB_DOC_CHUNK * CSB_DOC_BATCH);
        free(plain);
    }
    free(sealed);
    sodium_memzero(&state, sizeof state);
    close(in);
    close(out);
    if (rc == 0 && link(temporary, output) != 0) rc = -1;
    unlink(temporary);
    return rc;
}
