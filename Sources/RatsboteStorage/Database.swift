// RatsboteStorage: SQLite access shared by the relay and the client: connections, prepared
// statements, transactions and schema migrations. It is the only module that imports CSQLite.

import Foundation
internal import CSQLite

/// A SQLite failure with the result code and SQLite's message, read right after the failing call.
public struct StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// SQLite's extended result code.
    public var code: Int32
    public var message: String
    /// What we were doing, e.g. "open /var/lib/ratsbote/relay.sqlite".
    public var operation: String

    public var description: String { "\(operation): \(message) (SQLite code \(code))" }

    /// Whether another connection holds a lock (SQLITE_BUSY or SQLITE_LOCKED).
    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
    /// Whether a UNIQUE or PRIMARY KEY constraint failed.
    public var isConstraintViolation: Bool { code & 0xff == SQLITE_CONSTRAINT }
}

/// A value bound to or read from a statement.
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// SQLITE_TRANSIENT: SQLite copies bound text and blobs before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. A connection is used by one thread at a time; the owner serialises
/// access (the relay keeps its connection on one storage queue).
public final class Database: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The file path, or ":memory:".
    public let path: String

    /// Opens (and creates) a database file.
    ///
    /// - Parameters:
    ///   - path: the file, created with mode 0600 if missing.
    ///   - walMode: use write-ahead logging, so readers never block the writer.
    /// - Throws: ``StorageError`` when the file cannot be opened or is not a database.
    public init(path: String, walMode: Bool = true) throws {
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let previousMask = umask(0o077)
        let rc = sqlite3_open_v2(path, &pointer, flags, nil)
        umask(previousMask)
        guard rc == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let pointer { sqlite3_close_v2(pointer) }
            throw StorageError(code: rc, message: message, operation: "open \(path)")
        }
        self.handle = pointer
        self.path = path
        sqlite3_extended_result_codes(pointer, 1)
        sqlite3_busy_timeout(pointer, 5000)

        try execute("PRAGMA foreign_keys = ON")
        if walMode {
            try execute("PRAGMA journal_mode = WAL")
            // FULL syncs the WAL on every commit, so an acknowledged write survives power loss.
            try execute("PRAGMA synchronous = FULL")
        }
    }

    deinit {
        // Fold the write-ahead log back into the main file, so that a copy of the database file
        // alone after a clean stop contains everything. It fails harmlessly if another connection
        // still reads.
        sqlite3_exec(handle, "PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
        sqlite3_close_v2(handle)
    }

    private func error(_ rc: Int32, _ operation: String) -> StorageError {
        StorageError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), operation: operation)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StorageError(code: rc, message: text, operation: "execute \(sql.prefix(60))")
        }
    }

    /// Compiles one statement.
    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, "prepare \(sql.prefix(60))") }
        return Statement(statement, database: self, sql: sql)
    }

    /// Runs a statement with arguments and returns every row.
    @discardableResult
    public func query(_ sql: String, _ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        var rows: [[SQLValue]] = []
        while let row = try statement.step() { rows.append(row) }
        return rows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock at the start, so two writers never deadlock halfway.
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Brings the schema up to date: runs each migration whose index is at or above
    /// `PRAGMA user_version`, each in its own transaction, and records the new version.
    ///
    /// - Throws: ``StorageError`` when the file is newer than this program (a downgrade).
    public func migrate(_ migrations: [String], name: String) throws {
        let current = try query("PRAGMA user_version").first?.first
        guard case .integer(let version)? = current else { return }
        guard version <= Int64(migrations.count) else {
            throw StorageError(
                code: SQLITE_ERROR,
                message: "schema version \(version) is newer than this program knows (\(migrations.count)); install a newer Ratsbote",
                operation: "migrate \(name)")
        }
        for index in Int(version)..<migrations.count {
            try transaction {
                try execute(migrations[index])
                try execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    fileprivate var rawHandle: OpaquePointer { handle }
}

/// A compiled statement. It keeps its database alive and is finalised in `deinit`.
public final class Statement {
    fileprivate let handle: OpaquePointer
    private let database: Database
    private let sql: String

    fileprivate init(_ handle: OpaquePointer, database: Database, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    fileprivate func failure(_ rc: Int32, _ operation: String) -> StorageError {
        StorageError(
            code: sqlite3_extended_errcode(database.rawHandle), message: String(cString: sqlite3_errmsg(database.rawHandle)),
            operation: "\(operation) \(sql.prefix(60))")
    }

    /// Resets the statement and binds `arguments` to parameters 1…n.
    public func bind(_ arguments: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .integer(let number): rc = sqlite3_bind_int64(handle, index, number)
            case .real(let number): rc = sqlite3_bind_double(handle, index, number)
            case .text(let text): rc = sqlite3_bind_text(handle, index, text, -1, transient)
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buffer in
                    // A zero-length blob still needs a non-null pointer to be a blob, not NULL.
                    sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), transient)
                }
            }
            guard rc == SQLITE_OK else { throw failure(rc, "bind") }
        }
    }

    /// Advances to the next row; `nil` when done.
    public func step() throws -> [SQLValue]? {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW:
            return (0..<sqlite3_column_count(handle)).map { column(Int32($0)) }
        case SQLITE_DONE:
            return nil
        default:
            let error = failure(rc, "step")
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Binds, runs to completion and returns every row.
    @discardableResult
    public func run(_ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        try bind(arguments)
        var rows: [[SQLValue]] = []
        while let row = try step() { rows.append(row) }
        sqlite3_reset(handle)
        return rows
    }

    private func column(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(handle, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard count > 0, let base = sqlite3_column_blob(handle, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }
}

extension SQLValue {
    /// The integer value, or `nil` for other types.
    public var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text value, or `nil` for other types.
    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The blob value, or `nil` for other types.
    public var bytes: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }
}

// MARK: - Typed bind and column access

/// Binding and reading single values without building `[SQLValue]` arrays, for hot paths such as
/// the relay's send, where those arrays cost several allocations per statement.
extension Statement {
    /// Resets the statement so that it can run again; the bindings stay until replaced.
    public func reset() {
        sqlite3_reset(handle)
    }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ value: Int64, at index: Int32) throws {
        let rc = sqlite3_bind_int64(handle, index, value)
        guard rc == SQLITE_OK else { throw failure(rc, "bind") }
    }

    /// Binds text to parameter `index` (1-based); SQLite copies it.
    public func bind(_ text: String, at index: Int32) throws {
        let rc = sqlite3_bind_text(handle, index, text, -1, transient)
        guard rc == SQLITE_OK else { throw failure(rc, "bind") }
    }

    /// Binds bytes as a blob to parameter `index` (1-based); SQLite copies them.
    public func bind(_ bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), transient)
        }
        guard rc == SQLITE_OK else { throw failure(rc, "bind") }
    }

    /// Advances to the next row.
    ///
    /// - Returns: `true` when a row is available for the column accessors, `false` when done.
    public func nextRow() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            let error = failure(rc, "step")
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Returns the integer in `column` (0-based) of the current row; 0 for NULL.
    public func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// Returns whether `column` (0-based) of the current row is NULL.
    public func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// Returns a copy of the bytes in `column` (0-based) of the current row; empty for NULL.
    public func bytes(at column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
