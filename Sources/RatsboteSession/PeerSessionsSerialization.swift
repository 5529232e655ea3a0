import RatsboteCrypto
import RatsboteWire

extension PeerSessions {
    /// The version byte of the serialized set.
    public static let stateVersion: UInt8 = 1

    /// Encodes the active and retired sessions, secrets included, for the client's encrypted store.
    ///
    /// Layout: u8 version, `optional<opaque>` active session state, `list<opaque, 4>` retired
    /// session states, newest first; each state is ``Session/serialized()``.
    ///
    /// - Returns: wiped secure memory; the caller encrypts it before it reaches a disk.
    public func serialized() -> SecureBytes {
        var writer = WireWriter(reservingCapacity: 1024)
        writer.writeUInt8(Self.stateVersion)
        writer.writeFlag(active != nil)
        if let active { active.serialized().withUnsafeBytes { writer.writeVariable($0) } }
        writer.writeVarint(UInt64(retired.count))
        for session in retired { session.serialized().withUnsafeBytes { writer.writeVariable($0) } }

        var bytes = writer.bytes
        defer { wipe(&bytes) }
        return SecureBytes(copying: bytes, storage: .wiped)
    }

    /// Restores the set from ``serialized()``.
    ///
    /// - Throws: ``SessionError/unsupportedStateVersion(found:supported:)`` and the decoding errors
    ///   of ``Session/init(serialized:)``.
    public init(serialized: SecureBytes) throws {
        var bytes = serialized.withUnsafeBytes { Array($0) }
        defer { wipe(&bytes) }
        let maximumState = 1 << 20
        let (active, retired) = try decodeSessionStructure(bytes, structure: "PeerSessions") { reader -> (Session?, [Session]) in
            let version = try reader.readUInt8("version")
            guard version == Self.stateVersion else {
                throw SessionError.unsupportedStateVersion(found: version, supported: Self.stateVersion)
            }
            func readSession(_ reader: inout WireReader, _ field: String) throws -> Session {
                var state = try reader.readVariable(field, maximum: maximumState)
                defer { wipe(&state) }
                return try Session(serialized: SecureBytes(copying: state, storage: .wiped))
            }
            var active: Session?
            if try reader.readFlag("hasActive") { active = try readSession(&reader, "active") }
            let retired = try reader.readList("retired", maximum: Self.maximumRetired) { try readSession(&$0, "retired") }
            return (active, retired)
        }
        self.init(active: active, retired: retired)
    }
}
