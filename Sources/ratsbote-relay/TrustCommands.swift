// The operator's certificate and group commands: renew, group create/add/remove/list, and the
// term-of-office options of invite.

import Foundation
import RatsboteRelay
import RatsboteSupport
import RatsboteWire

/// Parses a calendar date `YYYY-MM-DD` (midnight UTC) or an ISO 8601 timestamp into Unix seconds.
func parseDate(_ text: String) -> Int64? {
    let timestamp = ISO8601DateFormatter()
    if let date = timestamp.date(from: text) { return Int64(date.timeIntervalSince1970) }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    if let date = day.date(from: text) { return Int64(date.timeIntervalSince1970) }
    return nil
}

/// Reads `--valid-from` and `--valid-until`; `nil` when neither is given.
func parseTerm(_ arguments: ParsedArguments, now: Int64) throws -> (from: Int64, until: Int64)? {
    let fromText = arguments.value("valid-from")
    let untilText = arguments.value("valid-until")
    guard fromText != nil || untilText != nil else { return nil }
    var from = now
    if let fromText {
        guard let parsed = parseDate(fromText) else {
            throw UsageError.invalidValue(option: "--valid-from", value: fromText, expected: "a date such as 2026-11-01")
        }
        from = parsed
    }
    var until = from + CertificateIssuer.defaultTerm
    if let untilText {
        guard let parsed = parseDate(untilText) else {
            throw UsageError.invalidValue(option: "--valid-until", value: untilText, expected: "a date such as 2031-10-31")
        }
        until = parsed
    }
    guard from < until else {
        throw UsageError.invalidValue(option: "--valid-until", value: untilText ?? "", expected: "a date after --valid-from")
    }
    return (from, until)
}

@MainActor let renewCommand = Command(
    name: "renew", options: [OptionSpec("data"), OptionSpec("valid-from"), OptionSpec("valid-until"), OptionSpec.flag("json")],
    positionals: ["USER"], help: Texts.renewHelp
) { arguments, language in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    let now = RelayClock.fromEnvironment().now()
    let term = try parseTerm(arguments, now: now) ?? (now, now + CertificateIssuer.defaultTerm)
    let userId = arguments.positionals[0]
    let certificates = try folder.renew(userId: userId, validFrom: term.from, validUntil: term.until, now: now)
    if arguments.flag("json") {
        struct Renewal: Encodable {
            var user: String
            var serials: [UInt64]
            var validFrom: String
            var validUntil: String
        }
        printOut(
            try jsonText(
                Renewal(user: userId, serials: certificates.map(\.serial), validFrom: timestampText(term.from), validUntil: timestampText(term.until))))
    } else {
        printOut(Texts.renewed(userId, count: certificates.count, until: timestampText(term.until)).text(language))
    }
}

/// JSON form of a group for `group list --json`.
struct GroupListing: Encodable {
    var id: String
    var name: String
    var kind: String
    var members: [String]
    var revision: UInt32

    init(_ group: GroupDefinition) {
        id = group.groupId
        name = group.name
        kind = group.kind == .committee ? "committee" : "unit"
        members = group.members
        revision = group.revision
    }
}

@MainActor let groupCommand = Command(
    name: "group", options: [OptionSpec("data"), OptionSpec("name"), OptionSpec("kind"), OptionSpec.flag("json")],
    positionals: ["ACTION", "GROUP", "USER"], optionalPositionals: 2, help: Texts.groupHelp
) { arguments, language in
    let folder = try RelayDataFolder(existing: try requireData(arguments))
    let now = RelayClock.fromEnvironment().now()
    let action = arguments.positionals[0]
    let groupId = arguments.positionals.count > 1 ? arguments.positionals[1] : nil
    let user = arguments.positionals.count > 2 ? arguments.positionals[2] : nil

    func show(_ group: GroupDefinition) throws {
        if arguments.flag("json") {
            printOut(try jsonText(GroupListing(group)))
        } else {
            printOut(Texts.groupLine(group).text(language))
        }
    }

    switch action {
    case "create":
        guard let groupId else { throw UsageError.missingArgument(name: "GROUP") }
        guard user == nil else { throw UsageError.unexpectedArgument(user ?? "") }
        guard let name = arguments.value("name") else { throw UsageError.missingValue(option: "--name") }
        let kindText = arguments.value("kind") ?? "committee"
        let kind: GroupKind
        switch kindText {
        case "committee": kind = .committee
        case "unit": kind = .unit
        default: throw UsageError.invalidValue(option: "--kind", value: kindText, expected: "committee or unit")
        }
        try show(try folder.createGroup(id: groupId, name: name, kind: kind, now: now))
    case "add", "remove":
        guard let groupId else { throw UsageError.missingArgument(name: "GROUP") }
        guard let user else { throw UsageError.missingArgument(name: "USER") }
        try show(try folder.changeGroup(id: groupId, members: [user], adding: action == "add", now: now))
    case "list":
        let groups = try folder.groups().filter { groupId == nil || $0.groupId == groupId }
        if arguments.flag("json") {
            printOut(try jsonText(groups.map(GroupListing.init)))
        } else if groups.isEmpty {
            printOut(Texts.noGroups.text(language))
        } else {
            for group in groups { printOut(Texts.groupLine(group).text(language)) }
        }
    default:
        throw UsageError.invalidValue(option: "ACTION", value: action, expected: "create, add, remove or list")
    }
}

extension Texts {
    static func rootKeyCreated(_ path: String, fingerprint: String) -> Localized {
        Localized(
            en: """
                Organisation root key: \(path) (fingerprint \(fingerprint)).
                The relay runs without it: move it to offline storage and keep a backup.
                """,
            de: """
                Wurzelschlüssel der Organisation: \(path) (Fingerabdruck \(fingerprint)).
                Das Relay läuft ohne ihn: offline ablegen und eine Sicherung aufbewahren.
                """)
    }

    static func renewed(_ id: String, count: Int, until: String) -> Localized {
        Localized(
            en: "Issued \(count) new certificate(s) to \(id), valid until \(until); the old ones are revoked.",
            de: "\(count) neue(s) Zertifikat(e) für \(id) ausgestellt, gültig bis \(until); die alten sind gesperrt.")
    }

    static let noGroups = Localized(
        en: "No groups yet. Create one with \"ratsbote-relay group create GROUP --name NAME\".",
        de: "Noch keine Gruppen. Mit \"ratsbote-relay group create GRUPPE --name NAME\" anlegen.")

    static func groupLine(_ group: GroupDefinition) -> Localized {
        let members = group.members.joined(separator: ", ")
        return Localized(
            en: "\(group.groupId)\t\(group.name)\t\(group.kind == .committee ? "committee" : "unit")\trevision \(group.revision)\tmembers: \(members)",
            de: "\(group.groupId)\t\(group.name)\t\(group.kind == .committee ? "Ausschuss" : "Einheit")\tRevision \(group.revision)\tMitglieder: \(members)")
    }

    static let renewHelp = Localized(
        en: """
            Usage: ratsbote-relay renew --data DIR [--valid-from DATE] [--valid-until DATE] [--json] USER

            Issues new certificates to every active device of USER with a new serial and term
            of office, and puts the old serials on the revocation list. Clients pick up the new
            certificates with their next directory lookup.

              --valid-from DATE     start of the term, YYYY-MM-DD (UTC) (default: now)
              --valid-until DATE    end of the term (default: 5 years after the start)

            Example: ratsbote-relay renew --data /var/lib/ratsbote --valid-until 2031-10-31 erika-muster
            """,
        de: """
            Aufruf: ratsbote-relay renew --data ORDNER [--valid-from DATUM] [--valid-until DATUM] [--json] BENUTZER

            Stellt allen aktiven Geräten von BENUTZER neue Zertifikate mit neuer Seriennummer
            und Amtszeit aus und setzt die alten Seriennummern auf die Sperrliste. Clients
            erhalten die neuen Zertifikate bei der nächsten Verzeichnisabfrage.

              --valid-from DATUM    Beginn der Amtszeit, JJJJ-MM-TT (UTC) (Standard: jetzt)
              --valid-until DATUM   Ende der Amtszeit (Standard: 5 Jahre nach Beginn)

            Beispiel: ratsbote-relay renew --data /var/lib/ratsbote --valid-until 2031-10-31 erika-muster
            """)

    static let groupHelp = Localized(
        en: """
            Usage: ratsbote-relay group --data DIR create GROUP --name NAME [--kind committee|unit]
                   ratsbote-relay group --data DIR add GROUP USER
                   ratsbote-relay group --data DIR remove GROUP USER
                   ratsbote-relay group --data DIR list [GROUP] [--json]

            Defines the organisation's units and committees. Each change is signed with the
            issuing key as a new revision; "ratsbote send GROUP" writes to every member.
            GROUP is an id of a-z, 0-9 and -, starting with a letter.

              --name NAME           the group's display name
              --kind KIND           committee (default) or unit

            Example: ratsbote-relay group --data /var/lib/ratsbote create ausschuss-umwelt --name "Ausschuss für Umwelt"
            """,
        de: """
            Aufruf: ratsbote-relay group --data ORDNER create GRUPPE --name NAME [--kind committee|unit]
                    ratsbote-relay group --data ORDNER add GRUPPE BENUTZER
                    ratsbote-relay group --data ORDNER remove GRUPPE BENUTZER
                    ratsbote-relay group --data ORDNER list [GRUPPE] [--json]

            Legt die Einheiten und Ausschüsse der Organisation fest. Jede Änderung wird mit dem
            Ausstellerschlüssel als neue Revision signiert; "ratsbote send GRUPPE" schreibt an
            alle Mitglieder. GRUPPE ist eine Kennung aus a-z, 0-9 und -, beginnend mit einem
            Buchstaben.

              --name NAME           Anzeigename der Gruppe
              --kind ART            committee (Ausschuss, Standard) oder unit (Einheit)

            Beispiel: ratsbote-relay group --data /var/lib/ratsbote create ausschuss-umwelt --name "Ausschuss für Umwelt"
            """)
}
