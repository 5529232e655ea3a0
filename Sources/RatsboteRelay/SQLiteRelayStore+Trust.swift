import RatsboteStorage
import RatsboteWire

/// Certificates, terms of office, revocations and groups in the relay database (migration 2).
extension SQLiteRelayStore: TrustStore {
    static let trustMigration = """
        CREATE TABLE terms (
            user_id TEXT PRIMARY KEY REFERENCES users(id),
            valid_from INTEGER NOT NULL,
            valid_until INTEGER NOT NULL
        );
        CREATE TABLE certificates (
            serial INTEGER PRIMARY KEY AUTOINCREMENT,
            device_row INTEGER NOT NULL REFERENCES devices(row_id),
            issued_at INTEGER NOT NULL,
            revoked_at INTEGER,
            bytes BLOB
        );
        CREATE INDEX certificates_by_device ON certificates (device_row, serial);
        CREATE TABLE org_groups (
            id TEXT PRIMARY KEY,
            bytes BLOB NOT NULL
        );
        """

    public func setTerm(userId: String, validFrom: Int64, validUntil: Int64) throws {
        try run(
            "INSERT OR REPLACE INTO terms (user_id, valid_from, valid_until) VALUES (?, ?, ?)",
            [.text(userId), .integer(validFrom), .integer(validUntil)])
    }

    public func certificateSubject(deviceRow: Int64) throws -> CertificateSubject {
        // Users created before terms existed get the default term from their creation time.
        let rows = try run(
            """
            SELECT d.user_id, d.device_id, u.display_name, u.role, u.unit,
                coalesce(t.valid_from, u.created_at), coalesce(t.valid_until, u.created_at + ?),
                d.suite, d.identity_key, d.envelope_key
            FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN terms t ON t.user_id = d.user_id
            WHERE d.row_id = ?
            """, [.integer(CertificateIssuer.defaultTerm), .integer(deviceRow)])
        guard let row = rows.first, let userId = row[0].string, let deviceId = row[1].int64 else {
            throw RelayFailure(.notEnrolled, "the device is not enrolled")
        }
        return CertificateSubject(
            deviceRow: deviceRow, address: DeviceAddress(userId: userId, deviceId: UInt32(clamping: deviceId)),
            displayName: row[2].string ?? "", role: row[3].string ?? "", unit: row[4].string ?? "", validFrom: row[5].int64 ?? 0,
            validUntil: row[6].int64 ?? 0, suite: UInt16(clamping: row[7].int64 ?? 1), identityKey: row[8].bytes ?? [],
            envelopeKey: row[9].bytes ?? [])
    }

    public func activeDeviceRows(userId: String) throws -> [Int64] {
        guard try userExists(userId) else { throw RelayError.userNotFound(userId) }
        return try run("SELECT row_id FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY device_id", [.text(userId)])
            .compactMap { $0[0].int64 }
    }

    public func allocateSerial(deviceRow: Int64, now: Int64) throws -> UInt64 {
        try run("INSERT INTO certificates (device_row, issued_at) VALUES (?, ?)", [.integer(deviceRow), .integer(now)])
        return UInt64(lastInsertRowID)
    }

    public func storeCertificate(serial: UInt64, bytes: [UInt8]) throws {
        try run("UPDATE certificates SET bytes = ? WHERE serial = ?", [.blob(bytes), .integer(Int64(clamping: serial))])
    }

    public func revokeCertificates(deviceRow: Int64, now: Int64) throws {
        try run("UPDATE certificates SET revoked_at = ? WHERE device_row = ? AND revoked_at IS NULL", [.integer(now), .integer(deviceRow)])
    }

    public func revokedSerials() throws -> [UInt64] {
        try run("SELECT serial FROM certificates WHERE revoked_at IS NOT NULL ORDER BY serial").compactMap { $0[0].int64.map(UInt64.init) }
    }

    public func currentCertificate(deviceRow: Int64) throws -> [UInt8]? {
        try run(
            """
            SELECT bytes FROM certificates WHERE device_row = ? AND revoked_at IS NULL AND bytes IS NOT NULL
            ORDER BY serial DESC LIMIT 1
            """, [.integer(deviceRow)]
        ).first?[0].bytes
    }

    public func groups() throws -> [GroupDefinition] {
        try run("SELECT id, bytes FROM org_groups ORDER BY id").map { row in
            do {
                return try GroupDefinition.decode(row[1].bytes ?? [])
            } catch {
                throw RelayError.invalidConfiguration(path: "relay.sqlite", reason: "group \(row[0].string ?? "?") is damaged: \(error)")
            }
        }
    }

    public func saveGroup(_ group: GroupDefinition) throws {
        try run("INSERT OR REPLACE INTO org_groups (id, bytes) VALUES (?, ?)", [.text(group.groupId), .blob(group.encoded())])
    }

    public func userExists(_ userId: String) throws -> Bool {
        try !run("SELECT 1 FROM users WHERE id = ?", [.text(userId)]).isEmpty
    }
}
