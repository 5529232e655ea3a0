// The C twin of the `relay storage` case: the relay's send and acknowledgement statements,
// straight through SQLite's C API, with no Swift and no relay logic in between.

#include "csodium_bench.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t thread_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// The relay's envelope table and indexes (migrations 1 and 3), and the counter columns of devices.
static const char *schema =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;"
    "CREATE TABLE devices (row_id INTEGER PRIMARY KEY, envelope_count INTEGER NOT NULL DEFAULT 0,"
    " envelope_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE envelopes (id INTEGER PRIMARY KEY AUTOINCREMENT, device_row INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, size INTEGER NOT NULL, sealed BLOB NOT NULL, dedupe_key BLOB);"
    "CREATE INDEX envelopes_by_mailbox ON envelopes (device_row, id);"
    "CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);"
    "CREATE UNIQUE INDEX envelopes_by_dedupe_key ON envelopes (dedupe_key);";

int csb_relay_storage(const char *path, int mailboxes, int sends_per_batch, int warm_up_batches, int measured_batches,
                      size_t envelope_bytes, csb_storage_result *result) {
    sqlite3 *db = NULL;
    sqlite3_stmt *version = NULL, *dedupe = NULL, *insert = NULL, *lookup = NULL, *delete = NULL, *counters = NULL;
    int64_t *pending = calloc((size_t)mailboxes * (size_t)sends_per_batch, sizeof(int64_t));
    int *pending_count = calloc((size_t)mailboxes, sizeof(int));
    int64_t *delta = calloc((size_t)mailboxes * 2, sizeof(int64_t));
    unsigned char *keys = malloc((size_t)sends_per_batch * 32);
    unsigned char *sealed = malloc(envelope_bytes);
    int status = -1;
    if (!pending || !pending_count || !delta || !keys || !sealed) goto done;
    for (size_t i = 0; i < envelope_bytes; i++) sealed[i] = (unsigned char)rand();

    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) goto done;
    for (int m = 0; m < mailboxes; m++) {
        if (sqlite3_exec(db, "INSERT INTO devices DEFAULT VALUES", NULL, NULL, NULL) != SQLITE_OK) goto done;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &version, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "SELECT id FROM envelopes WHERE dedupe_key = ?", -1, &dedupe, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(
               db, "INSERT INTO envelopes (device_row, received_at, expires_at, size, sealed, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)",
               -1, &insert, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "SELECT size, dedupe_key FROM envelopes WHERE id = ? AND device_row = ?", -1, &lookup, NULL)
               != SQLITE_OK
        || sqlite3_prepare_v2(db, "DELETE FROM envelopes WHERE id = ?", -1, &delete, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "UPDATE devices SET envelope_count = envelope_count + ?, envelope_bytes = envelope_bytes + ? WHERE row_id = ?",
                              -1, &counters, NULL) != SQLITE_OK)
        goto done;

    uint64_t cpu = 0, wall = 0, envelopes = 0, next = 0;
    for (int batch = 0; batch < warm_up_batches + measured_batches; batch++) {
        // Keys are made outside the timed part, as on the Swift side.
        for (int k = 0; k < sends_per_batch * 32; k++) keys[k] = (unsigned char)rand();
        memset(delta, 0, (size_t)mailboxes * 2 * sizeof(int64_t));
        uint64_t cpu_start = thread_cpu_ns(), wall_start = monotonic_ns();

        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto done;
        sqlite3_step(version);
        sqlite3_reset(version);
        // Acknowledge the previous batch, one lookup and one delete by rowid per id.
        for (int m = 0; m < mailboxes; m++) {
            for (int k = 0; k < pending_count[m]; k++) {
                int64_t id = pending[(size_t)m * (size_t)sends_per_batch + (size_t)k];
                sqlite3_bind_int64(lookup, 1, id);
                sqlite3_bind_int64(lookup, 2, m + 1);
                int found = sqlite3_step(lookup) == SQLITE_ROW;
                if (found) {
                    delta[2 * m] -= 1;
                    delta[2 * m + 1] -= sqlite3_column_int64(lookup, 0);
                    (void)sqlite3_column_blob(lookup, 1);
                }
                sqlite3_reset(lookup);
                if (!found) continue;
                sqlite3_bind_int64(delete, 1, id);
                if (sqlite3_step(delete) != SQLITE_DONE) goto done;
                sqlite3_reset(delete);
            }
            pending_count[m] = 0;
        }
        // Store this batch's sends, round robin over the mailboxes.
        for (int k = 0; k < sends_per_batch; k++) {
            int m = (int)(next++ % (uint64_t)mailboxes);
            const unsigned char *key = keys + (size_t)k * 32;
            sqlite3_bind_blob(dedupe, 1, key, 32, SQLITE_STATIC);
            int repeated = sqlite3_step(dedupe) == SQLITE_ROW;
            sqlite3_reset(dedupe);
            if (repeated) continue;
            sqlite3_bind_int64(insert, 1, m + 1);
            sqlite3_bind_int64(insert, 2, 1000);
            sqlite3_bind_int64(insert, 3, 1000 + 2592000);
            sqlite3_bind_int64(insert, 4, (sqlite3_int64)envelope_bytes);
            sqlite3_bind_blob(insert, 5, sealed, (int)envelope_bytes, SQLITE_STATIC);
            sqlite3_bind_blob(insert, 6, key, 32, SQLITE_STATIC);
            if (sqlite3_step(insert) != SQLITE_DONE) goto done;
            sqlite3_reset(insert);
            pending[(size_t)m * (size_t)sends_per_batch + (size_t)pending_count[m]++] = sqlite3_last_insert_rowid(db);
            delta[2 * m] += 1;
            delta[2 * m + 1] += (int64_t)envelope_bytes;
        }
        // One counter update per changed mailbox, as the relay writes its cached counters.
        for (int m = 0; m < mailboxes; m++) {
            if (delta[2 * m] == 0 && delta[2 * m + 1] == 0) continue;
            sqlite3_bind_int64(counters, 1, delta[2 * m]);
            sqlite3_bind_int64(counters, 2, delta[2 * m + 1]);
            sqlite3_bind_int64(counters, 3, m + 1);
            if (sqlite3_step(counters) != SQLITE_DONE) goto done;
            sqlite3_reset(counters);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;

        if (batch >= warm_up_batches) {
            cpu += thread_cpu_ns() - cpu_start;
            wall += monotonic_ns() - wall_start;
            envelopes += (uint64_t)sends_per_batch;
        }
    }
    result->cpu_ns = cpu;
    result->elapsed_ns = wall;
    result->envelopes = envelopes;
    status = 0;

done:
    sqlite3_finalize(version);
    sqlite3_finalize(dedupe);
    sqlite3_finalize(insert);
    sqlite3_finalize(lookup);
    sqlite3_finalize(delete);
    sqlite3_finalize(counters);
    sqlite3_close(db);
    free(pending);
    free(pending_count);
    free(delta);
    free(keys);
    free(sealed);
    return status;
}
