import Foundation
import RatsboteStorage
import RatsboteTestSupport
import Testing

struct DatabaseTests {
    func open() throws -> (Database, URL) {
        let folder = makeTemporaryFolder("ratsbote-storage")
        return (try Database(path: folder.appendingPathComponent("test.sqlite").path), folder)
    }

    @Test func valuesRoundTripThroughBindAndColumns() throws {
        let (database, folder) = try open()
        defer { try? FileManager.default.removeItem(at: folder) }
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        try database.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(-7), .real(1.5), .text("Bürgerliste"), .blob([0, 1, 255]), .null])
        try database.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(0), .real(0), .text(""), .blob([]), .null])
        let rows = try database.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(rows[0] == [.integer(-7), .real(1.5), .text("Bürgerliste"), .blob([0, 1, 255]), .null])
        // An empty blob stays a blob, not NULL.
        #expect(rows[1][3] == .blob([]))
    }

    @Test func transactionRollsBackOnError() throws {
        let (database, folder) = try open()
        defer { try? FileManager.default.removeItem(at: folder) }
        try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.transaction {
                try database.query("INSERT INTO t VALUES ('a')")
                throw Abort()
            }
        }
        #expect(try database.query("SELECT COUNT(*) FROM t")[0][0] == .integer(0))
    }

    @Test func constraintViolationIsReported() throws {
        let (database, folder) = try open()
        defer { try? FileManager.default.removeItem(at: folder) }
        try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try database.query("INSERT INTO t VALUES ('a')")
        do {
            try database.query("INSERT INTO t VALUES ('a')")
            Issue.record("a duplicate key was inserted")
        } catch let error as StorageError {
            #expect(error.isConstraintViolation)
        }
    }

    @Test func migrationsRunOnceAndRejectNewerFiles() throws {
        let (database, folder) = try open()
        defer { try? FileManager.default.removeItem(at: folder) }
        let migrations = ["CREATE TABLE a (x)", "CREATE TABLE b (y)"]
        try database.migrate(migrations, name: "test")
        try database.migrate(migrations, name: "test")
        #expect(try database.query("PRAGMA user_version")[0][0] == .integer(2))
        #expect(throws: StorageError.self) { try database.migrate(["CREATE TABLE a (x)"], name: "test") }
    }

    @Test func notADatabaseFails() throws {
        let folder = makeTemporaryFolder("ratsbote-storage")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("garbage.sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: StorageError.self) { _ = try Database(path: path) }
    }
}
