import Foundation
import RatsboteCrypto
import RatsboteWire

/// The operator's group commands: units and committees, each change signed as a new revision.
extension RelayDataFolder {
    /// Creates an empty group.
    ///
    /// - Throws: ``RelayError/invalidValue(field:value:reason:)`` for an invalid id or name, or an
    ///   id that a group or user already has.
    public func createGroup(id: String, name: String, kind: GroupKind, now: Int64) throws -> GroupDefinition {
        guard Self.isValidGroupId(id) else {
            throw RelayError.invalidValue(
                field: "group", value: id, reason: "1 to \(WireLimits.userId) characters a-z, 0-9 and -, starting with a letter")
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.utf8.count <= WireLimits.displayText else {
            throw RelayError.invalidValue(field: "name", value: name, reason: "1 to \(WireLimits.displayText) bytes")
        }
        let issuer = try loadIssuer()
        let store = try openStore()
        return try store.transaction {
            guard try !store.groups().contains(where: { $0.groupId == id }), try !store.userExists(id) else {
                throw RelayError.invalidValue(field: "group", value: id, reason: "a group or participant already has this id")
            }
            let group = issuer.sign(
                GroupDefinition(groupId: id, name: name, kind: kind, members: [], revision: 1, issuedAt: UInt64(max(0, now))))
            try store.saveGroup(group)
            return group
        }
    }

    /// Adds (`adding: true`) or removes members and signs the next revision.
    ///
    /// - Throws: ``RelayError/groupNotFound(_:)``, or ``RelayError/userNotFound(_:)`` for a member to
    ///   add that does not exist.
    public func changeGroup(id: String, members: [String], adding: Bool, now: Int64) throws -> GroupDefinition {
        let issuer = try loadIssuer()
        let store = try openStore()
        return try store.transaction {
            guard var group = try store.groups().first(where: { $0.groupId == id }) else { throw RelayError.groupNotFound(id) }
            var current = Set(group.members)
            for member in members {
                if adding {
                    guard try store.userExists(member) else { throw RelayError.userNotFound(member) }
                    current.insert(member)
                } else {
                    guard current.remove(member) != nil else {
                        throw RelayError.invalidValue(field: "user", value: member, reason: "not a member of \(id)")
                    }
                }
            }
            guard current.count <= CertificateLimits.groupMembers else {
                throw RelayError.invalidValue(field: "group", value: id, reason: "at most \(CertificateLimits.groupMembers) members")
            }
            group.members = current.sorted()
            group.revision += 1
            group.issuedAt = UInt64(max(0, now))
            let signed = issuer.sign(group)
            try store.saveGroup(signed)
            return signed
        }
    }

    /// Returns every group, ordered by id.
    public func groups() throws -> [GroupDefinition] { try openStore().groups() }

    static func isValidGroupId(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first), id.utf8.count <= WireLimits.userId else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
