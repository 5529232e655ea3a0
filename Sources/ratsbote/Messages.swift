import Foundation
import RatsboteClient
import RatsboteSupport
import RatsboteWire

/// Every text `ratsbote` shows a person, in English and German. Logs stay English.
enum Text {
    // MARK: - Usage and help

    static let usage = Localized(
        en: """
            ratsbote: end-to-end encrypted messages for the city, its companies and its council

            Usage: ratsbote COMMAND [OPTIONS]

            Commands:
              enroll CODE|-        create this device's keys and enroll with an invite code
              whoami               show who this device belongs to
              directory [QUERY]    list the people and groups the organisation has certified
              send TO              send a note (and files) to a person or a group
              sync                 deliver the outbox and fetch new messages
              inbox                list received messages
              read ID              show one message
              reply ID             answer a message
              save ID              write a message's files to a folder
              verify TO            show and confirm the safety number with a person

            Options for every command:
              --home DIR               account folder (default $RATSBOTE_HOME or ~/.local/share/ratsbote)
              --passphrase-file FILE   read the passphrase from FILE (or $RATSBOTE_PASSPHRASE_FILE)
              --lang de|en             language of the output (default from LC_ALL, LC_MESSAGES, LANG)
              --json                   print data as JSON
              --help                   show help for a command

            Run 'ratsbote COMMAND --help' for details and examples.
            """,
        de: """
            ratsbote: Ende-zu-Ende-verschlüsselte Nachrichten für Stadt, Beteiligungen und Rat

            Aufruf: ratsbote BEFEHL [OPTIONEN]

            Befehle:
              enroll CODE|-        Schlüssel dieses Geräts erzeugen und mit einem Einladungscode anmelden
              whoami               zeigen, wem dieses Gerät gehört
              directory [SUCHE]    Personen und Gruppen auflisten, die die Organisation bestätigt hat
              send AN              eine Notiz (und Dateien) an eine Person oder Gruppe senden
              sync                 Postausgang zustellen und neue Nachrichten abholen
              inbox                empfangene Nachrichten auflisten
              read ID              eine Nachricht anzeigen
              reply ID             auf eine Nachricht antworten
              save ID              Dateien einer Nachricht in einen Ordner schreiben
              verify AN            Sicherheitsnummer mit einer Person zeigen und bestätigen

            Optionen für jeden Befehl:
              --home ORDNER            Kontoordner (Standard $RATSBOTE_HOME oder ~/.local/share/ratsbote)
              --passphrase-file DATEI  Passphrase aus DATEI lesen (oder $RATSBOTE_PASSPHRASE_FILE)
              --lang de|en             Sprache der Ausgabe (Standard aus LC_ALL, LC_MESSAGES, LANG)
              --json                   Daten als JSON ausgeben
              --help                   Hilfe zu einem Befehl zeigen

            'ratsbote BEFEHL --help' zeigt Einzelheiten und Beispiele.
            """)

    static func commandHelp(_ command: String) -> Localized {
        switch command {
        case "enroll":
            return Localized(
                en: """
                    Usage: ratsbote enroll CODE|-

                    Creates this device's keys, seals them under a passphrase and enrolls the device
                    with the invite code from your IT department. '-' reads the code from standard input.

                    Example:
                      ratsbote enroll RB1-AQ4xMjcuMC4wLjE...
                      echo "$CODE" | ratsbote enroll -
                    """,
                de: """
                    Aufruf: ratsbote enroll CODE|-

                    Erzeugt die Schlüssel dieses Geräts, schützt sie mit einer Passphrase und meldet das
                    Gerät mit dem Einladungscode Ihrer IT an. '-' liest den Code von der Standardeingabe.

                    Beispiel:
                      ratsbote enroll RB1-AQ4xMjcuMC4wLjE...
                      echo "$CODE" | ratsbote enroll -
                    """)
        case "whoami":
            return Localized(
                en: "Usage: ratsbote whoami [--json]\n\nShows the name, role, unit and address of this device.\n\nExample:\n  ratsbote whoami --json",
                de: "Aufruf: ratsbote whoami [--json]\n\nZeigt Name, Rolle, Einheit und Adresse dieses Geräts.\n\nBeispiel:\n  ratsbote whoami --json")
        case "directory":
            return Localized(
                en: "Usage: ratsbote directory [QUERY] [--json]\n\nLists the people the organisation has certified, filtered by name, role or unit, and its groups (units and committees). Entries whose certificates fail the checks against the organisation's root key are not shown.\n\nExample:\n  ratsbote directory Stadtwerke",
                de: "Aufruf: ratsbote directory [SUCHE] [--json]\n\nListet die von der Organisation bestätigten Personen, gefiltert nach Name, Rolle oder Einheit, und ihre Gruppen (Einheiten und Ausschüsse). Einträge, deren Zertifikate die Prüfung gegen den Wurzelschlüssel der Organisation nicht bestehen, werden nicht gezeigt.\n\nBeispiel:\n  ratsbote directory Stadtwerke")
        case "send":
            return Localized(
                en: """
                    Usage: ratsbote send TO... [--subject S] [--file PATH]... [--message TEXT]

                    Sends a note to each TO (a user id or a name from 'ratsbote directory'). When TO
                    is a group, every member gets the note. Without --message the text is read from
                    standard input. --file attaches a file and can be repeated; each file is
                    encrypted and uploaded to the relay once, however many recipients there are, and
                    needs the relay to be reachable. An interrupted upload continues with the next
                    'ratsbote sync' or 'ratsbote send', and the note goes out once every file is
                    uploaded. A note without files stays in the outbox when the relay cannot be
                    reached, and the next 'ratsbote sync' delivers it.

                    Example:
                      ratsbote send dezernat-ii --subject "Anfrage" --message "Bitte um Auskunft"
                      ratsbote send anna-schmidt jens-becker --file vorlage.pdf < begleittext.txt
                    """,
                de: """
                    Aufruf: ratsbote send AN... [--subject BETREFF] [--file PFAD]... [--message TEXT]

                    Sendet eine Notiz an jedes AN (eine Benutzerkennung oder ein Name aus
                    'ratsbote directory'). Ist AN eine Gruppe, erhält jedes Mitglied die Notiz. Ohne
                    --message wird der Text von der Standardeingabe gelesen. --file hängt eine Datei
                    an und kann mehrfach angegeben werden; jede Datei wird einmal verschlüsselt und
                    zum Relay-Server hochgeladen, gleich wie viele Empfänger es sind, und der
                    Relay-Server muss dafür erreichbar sein. Ein unterbrochener Upload wird beim
                    nächsten 'ratsbote sync' oder 'ratsbote send' fortgesetzt, und die Notiz geht
                    hinaus, sobald alle Dateien hochgeladen sind. Eine Notiz ohne Dateien bleibt im
                    Postausgang, wenn der Relay-Server nicht erreichbar ist, und das nächste
                    'ratsbote sync' stellt sie zu.

                    Beispiel:
                      ratsbote send dezernat-ii --subject "Anfrage" --message "Bitte um Auskunft"
                      ratsbote send anna-schmidt jens-becker --file vorlage.pdf < begleittext.txt
                    """)
        case "sync":
            return Localized(
                en: "Usage: ratsbote sync [--json]\n\nContinues interrupted document uploads, delivers the outbox and fetches, decrypts and stores waiting messages.\n\nExample:\n  ratsbote sync",
                de: "Aufruf: ratsbote sync [--json]\n\nSetzt unterbrochene Dokument-Uploads fort, stellt den Postausgang zu und holt wartende Nachrichten ab, entschlüsselt und speichert sie.\n\nBeispiel:\n  ratsbote sync")
        case "inbox":
            return Localized(
                en: "Usage: ratsbote inbox [--json]\n\nLists received messages, oldest first. Run 'ratsbote sync' first to fetch new ones.\n\nExample:\n  ratsbote inbox --json",
                de: "Aufruf: ratsbote inbox [--json]\n\nListet empfangene Nachrichten, älteste zuerst. Vorher holt 'ratsbote sync' neue ab.\n\nBeispiel:\n  ratsbote inbox --json")
        case "read":
            return Localized(
                en: "Usage: ratsbote read ID [--json]\n\nShows a message with its attachments and documents, and whether each document was saved. ID is the id 'ratsbote inbox' lists (at least 4 characters).\n\nExample:\n  ratsbote read 3fa2c1d0",
                de: "Aufruf: ratsbote read ID [--json]\n\nZeigt eine Nachricht mit ihren Anhängen und Dokumenten und ob jedes Dokument gespeichert ist. ID ist die Kennung aus 'ratsbote inbox' (mindestens 4 Zeichen).\n\nBeispiel:\n  ratsbote read 3fa2c1d0")
        case "reply":
            return Localized(
                en: "Usage: ratsbote reply ID [--message TEXT] [--file PATH]...\n\nAnswers a message to its sender, in the same conversation. Without --message the text is read from standard input.\n\nExample:\n  ratsbote reply 3fa2c1d0 --message \"Danke, erledigt.\"",
                de: "Aufruf: ratsbote reply ID [--message TEXT] [--file PFAD]...\n\nAntwortet dem Absender einer Nachricht im selben Gespräch. Ohne --message wird der Text von der Standardeingabe gelesen.\n\nBeispiel:\n  ratsbote reply 3fa2c1d0 --message \"Danke, erledigt.\"")
        case "verify":
            return Localized(
                en: """
                    Usage: ratsbote verify TO [--confirm]

                    Shows the safety number you share with TO. Compare it with them in person or by
                    phone; if it matches, run the command again with --confirm. When TO's key has
                    changed, sending to them is stopped until you confirm the new number.

                    Example:
                      ratsbote verify jens-becker
                      ratsbote verify jens-becker --confirm
                    """,
                de: """
                    Aufruf: ratsbote verify AN [--confirm]

                    Zeigt die Sicherheitsnummer, die Sie mit AN teilen. Vergleichen Sie sie persönlich
                    oder telefonisch; stimmt sie überein, den Befehl mit --confirm wiederholen. Hat sich
                    der Schlüssel von AN geändert, ist Senden an AN gesperrt, bis Sie die neue Nummer
                    bestätigen.

                    Beispiel:
                      ratsbote verify jens-becker
                      ratsbote verify jens-becker --confirm
                    """)
        case "save":
            return Localized(
                en: "Usage: ratsbote save ID [--out DIR] [--force]\n\nWrites the files of a message into DIR (default: the current folder). Existing files are kept unless --force is given.\n\nExample:\n  ratsbote save 3fa2c1d0 --out ~/Sitzungsunterlagen",
                de: "Aufruf: ratsbote save ID [--out ORDNER] [--force]\n\nSchreibt die Dateien einer Nachricht in ORDNER (Standard: aktueller Ordner). Vorhandene Dateien bleiben erhalten, außer mit --force.\n\nBeispiel:\n  ratsbote save 3fa2c1d0 --out ~/Sitzungsunterlagen")
        default:
            return usage
        }
    }

    // MARK: - Usage errors

    static func usageError(_ error: UsageError) -> Localized {
        switch error {
        case .unknownOption(let option):
            return Localized(en: "unknown option \(option)", de: "unbekannte Option \(option)")
        case .missingValue(let option):
            return Localized(en: "option \(option) needs a value", de: "Option \(option) braucht einen Wert")
        case .repeatedOption(let option):
            return Localized(en: "option \(option) may be given only once", de: "Option \(option) darf nur einmal angegeben werden")
        case .unexpectedArgument(let argument):
            return Localized(en: "unexpected argument '\(argument)'", de: "unerwartetes Argument '\(argument)'")
        case .missingArgument(let name):
            let german = ["TO": "AN", "QUERY": "SUCHE", "CODE": "CODE", "ID": "ID"][name] ?? name
            return Localized(en: "missing argument \(name)", de: "fehlendes Argument \(german)")
        case .invalidValue(let option, let value, let expected):
            return Localized(en: "invalid value '\(value)' for \(option): expected \(expected)", de: "ungültiger Wert '\(value)' für \(option): erwartet \(expected)")
        case .unknownCommand(let command):
            return Localized(en: "unknown command '\(command)'", de: "unbekannter Befehl '\(command)'")
        case .missingCommand:
            return Localized(en: "missing command", de: "Befehl fehlt")
        }
    }

    static let usageHint = Localized(en: "Run 'ratsbote --help' for usage.", de: "'ratsbote --help' zeigt die Bedienung.")

    // MARK: - Prompts

    static let passphrasePrompt = Localized(en: "Passphrase: ", de: "Passphrase: ")
    static let newPassphrasePrompt = Localized(
        en: "Choose a passphrase for this device (at least 8 characters): ",
        de: "Passphrase für dieses Gerät wählen (mindestens 8 Zeichen): ")
    static let repeatPassphrasePrompt = Localized(en: "Repeat the passphrase: ", de: "Passphrase wiederholen: ")
    static let passphrasesDiffer = Localized(
        en: "The passphrases differ. Nothing was changed; run the command again.",
        de: "Die Passphrasen stimmen nicht überein. Nichts wurde geändert; bitte den Befehl erneut ausführen.")
    static let noTerminalForPassphrase = Localized(
        en: "No terminal to ask for the passphrase. Use --passphrase-file FILE or set RATSBOTE_PASSPHRASE_FILE.",
        de: "Kein Terminal für die Passphrase-Abfrage. --passphrase-file DATEI angeben oder RATSBOTE_PASSPHRASE_FILE setzen.")
    static func passphraseFileUnreadable(_ path: String, _ reason: String) -> Localized {
        Localized(
            en: "Cannot read the passphrase file \(path): \(reason). Check the path and its permissions.",
            de: "Die Passphrase-Datei \(path) ist nicht lesbar: \(reason). Pfad und Rechte prüfen.")
    }
    static let typeMessage = Localized(
        en: "Type the message, then press Ctrl-D on a new line:",
        de: "Nachricht eingeben, dann in einer neuen Zeile Strg-D drücken:")
    static let emptyMessage = Localized(
        en: "The message is empty. Give the text with --message or on standard input, or attach a file with --file.",
        de: "Die Nachricht ist leer. Text mit --message oder über die Standardeingabe angeben, oder mit --file eine Datei anhängen.")
    static let inviteFromStdinEmpty = Localized(
        en: "No invite code on standard input. Pass the code as an argument or pipe it in.",
        de: "Kein Einladungscode auf der Standardeingabe. Code als Argument angeben oder per Pipe übergeben.")

    // MARK: - Results

    static func enrolled(_ identity: Account.Identity) -> Localized {
        Localized(
            en: "Enrolled as \(identity.displayName) (\(identity.role), \(identity.unit)), user id \(identity.address.userId), device \(identity.address.deviceId).",
            de: "Angemeldet als \(identity.displayName) (\(identity.role), \(identity.unit)), Benutzerkennung \(identity.address.userId), Gerät \(identity.address.deviceId).")
    }

    static func whoami(_ identity: Account.Identity) -> Localized {
        Localized(
            en: """
                Name:         \(identity.displayName)
                Role:         \(identity.role)
                Unit:         \(identity.unit)
                User id:      \(identity.address.userId)
                Device:       \(identity.address.deviceId)
                Identity key: \(identity.identityKeyHex)
                Relay:        \(identity.relay)
                """,
            de: """
                Name:            \(identity.displayName)
                Rolle:           \(identity.role)
                Einheit:         \(identity.unit)
                Benutzerkennung: \(identity.address.userId)
                Gerät:           \(identity.address.deviceId)
                Identitätsschl.: \(identity.identityKeyHex)
                Relay-Server:    \(identity.relay)
                """)
    }

    static let directoryEmpty = Localized(en: "Nobody matches.", de: "Niemand passt zur Suche.")

    static func groupLine(_ group: GroupDefinition) -> Localized {
        let id = group.groupId.padding(toLength: 24, withPad: " ", startingAt: 0)
        let members = group.members.joined(separator: ", ")
        return Localized(
            en: "\(id) \(group.name) · \(group.kind == .committee ? "committee" : "unit") · members: \(members)",
            de: "\(id) \(group.name) · \(group.kind == .committee ? "Ausschuss" : "Einheit") · Mitglieder: \(members)")
    }

    static func sent(_ report: SendReport) -> Localized {
        var who = "\(report.recipient.displayName) (\(report.recipient.userId))"
        if !report.groupMembers.isEmpty { who += ": " + report.groupMembers.joined(separator: ", ") }
        if report.queued == 0 {
            return Localized(
                en: "Sent message \(report.messageId.prefix(8)) to \(who).",
                de: "Nachricht \(report.messageId.prefix(8)) an \(who) gesendet.")
        }
        return Localized(
            en: "Message \(report.messageId.prefix(8)) to \(who) is in the outbox; 'ratsbote sync' delivers it.",
            de: "Nachricht \(report.messageId.prefix(8)) an \(who) liegt im Postausgang; 'ratsbote sync' stellt sie zu.")
    }

    static func synced(_ report: SyncReport) -> Localized {
        var en = "Sent \(report.sent), received \(report.received) new message(s)."
        var de = "\(report.sent) gesendet, \(report.received) neue Nachricht(en) empfangen."
        if report.pending > 0 {
            en += " \(report.pending) still in the outbox."
            de += " \(report.pending) noch im Postausgang."
        }
        if report.pendingDocumentSends > 0 {
            en += " \(report.pendingDocumentSends) message(s) with documents wait for their upload; the next 'ratsbote sync' continues it."
            de += " \(report.pendingDocumentSends) Nachricht(en) mit Dokumenten warten auf ihren Upload; das nächste 'ratsbote sync' setzt ihn fort."
        }
        if report.receipts > 0 {
            en += " \(report.receipts) receipt(s) for your messages."
            de += " \(report.receipts) Bestätigung(en) für Ihre Nachrichten."
        }
        for userId in Set(report.keyChanges).sorted() {
            en += " The key of \(userId) changed: their message waits until you run 'ratsbote verify \(userId)'."
            de += " Der Schlüssel von \(userId) hat sich geändert: die Nachricht wartet, bis Sie 'ratsbote verify \(userId)' ausführen."
        }
        if report.duplicates > 0 {
            en += " \(report.duplicates) duplicate(s) ignored."
            de += " \(report.duplicates) doppelte ignoriert."
        }
        if report.rejected > 0 {
            en += " \(report.rejected) envelope(s) could not be verified and were dropped."
            de += " \(report.rejected) Umschläge waren nicht prüfbar und wurden verworfen."
        }
        if report.expiredUnread > 0 {
            en += " \(report.expiredUnread) message(s) expired on the relay before this device fetched them."
            de += " \(report.expiredUnread) Nachricht(en) sind auf dem Relay-Server abgelaufen, bevor dieses Gerät sie abholte."
        }
        return Localized(en: en, de: de)
    }

    static let inboxEmpty = Localized(en: "No messages. Run 'ratsbote sync' to fetch new ones.", de: "Keine Nachrichten. 'ratsbote sync' holt neue ab.")
    static let inboxHeader = Localized(en: "ID        DATE             FROM                      SUBJECT", de: "ID        DATUM            VON                       BETREFF")
    static let noSubject = Localized(en: "(no subject)", de: "(kein Betreff)")

    static func messageHeader(_ message: StoredMessage, date: String) -> Localized {
        let peer = "\(message.peerName) (\(message.peer.userId))"
        let subject = message.content.subject
        if message.direction == .incoming {
            return Localized(en: "From:    \(peer)\nDate:    \(date)\nSubject: \(subject)", de: "Von:     \(peer)\nDatum:   \(date)\nBetreff: \(subject)")
        }
        return Localized(en: "To:      \(peer)\nDate:    \(date)\nSubject: \(subject)", de: "An:      \(peer)\nDatum:   \(date)\nBetreff: \(subject)")
    }

    static func attachmentLine(_ attachment: Attachment) -> Localized {
        Localized(
            en: "Attachment: \(attachment.fileName) (\(attachment.mediaType), \(attachment.data.count) bytes)",
            de: "Anhang: \(attachment.fileName) (\(attachment.mediaType), \(attachment.data.count) Bytes)")
    }

    static func documentLine(_ document: RemoteDocument, saved: Bool) -> Localized {
        Localized(
            en: "Document: \(document.fileName) (\(document.mediaType), \(document.size) bytes)\(saved ? ", saved" : ", not saved yet: 'ratsbote save'")",
            de: "Dokument: \(document.fileName) (\(document.mediaType), \(document.size) Bytes)\(saved ? ", gespeichert" : ", noch nicht gespeichert: 'ratsbote save'")")
    }

    static func safetyNumber(_ report: SafetyNumberReport) -> Localized {
        var en = "Safety number with \(report.displayName) (\(report.userId)):\n\n    \(report.safetyNumber)\n\n"
        var de = "Sicherheitsnummer mit \(report.displayName) (\(report.userId)):\n\n    \(report.safetyNumber)\n\n"
        if report.keyChanged {
            en += "The key of \(report.userId) has changed. Sending is stopped until you compare this number with them and run 'ratsbote verify \(report.userId) --confirm'."
            de += "Der Schlüssel von \(report.userId) hat sich geändert. Senden ist gesperrt, bis Sie diese Nummer verglichen und 'ratsbote verify \(report.userId) --confirm' ausgeführt haben."
        } else if report.verified {
            en += "You confirmed this number earlier."
            de += "Sie haben diese Nummer bereits bestätigt."
        } else {
            en += "Compare it with \(report.displayName) in person or by phone. If it matches, run 'ratsbote verify \(report.userId) --confirm'."
            de += "Vergleichen Sie sie persönlich oder telefonisch mit \(report.displayName). Stimmt sie, 'ratsbote verify \(report.userId) --confirm' ausführen."
        }
        return Localized(en: en, de: de)
    }

    static func confirmed(_ userId: String) -> Localized {
        Localized(
            en: "Safety number with \(userId) confirmed. Sending to \(userId) is allowed.",
            de: "Sicherheitsnummer mit \(userId) bestätigt. Senden an \(userId) ist freigegeben.")
    }

    static func deliveryStatus(_ message: StoredMessage, date: (Date) -> String) -> Localized? {
        guard message.direction == .outgoing else { return nil }
        if let readAt = message.readAt {
            return Localized(en: "Status:  read \(date(readAt))", de: "Status:  gelesen \(date(readAt))")
        }
        if let deliveredAt = message.deliveredAt {
            return Localized(en: "Status:  delivered \(date(deliveredAt))", de: "Status:  zugestellt \(date(deliveredAt))")
        }
        return Localized(en: "Status:  sent", de: "Status:  gesendet")
    }

    static func unsupportedContent(_ kind: UInt16) -> Localized {
        Localized(
            en: "This message has a content type (\(kind)) that this version of Ratsbote cannot show. Install a newer version.",
            de: "Diese Nachricht hat einen Inhaltstyp (\(kind)), den diese Ratsbote-Version nicht anzeigen kann. Bitte eine neuere Version installieren.")
    }

    static func progress(_ progress: TransferProgress) -> Localized {
        switch progress.phase {
        case .encrypting: return Localized(en: "Encrypting \(progress.fileName)", de: "Verschlüsseln: \(progress.fileName)")
        case .uploading: return Localized(en: "Uploading \(progress.fileName)", de: "Hochladen: \(progress.fileName)")
        case .downloading: return Localized(en: "Downloading \(progress.fileName)", de: "Herunterladen: \(progress.fileName)")
        }
    }

    static func saved(_ path: String) -> Localized { Localized(en: "Saved \(path)", de: "Gespeichert: \(path)") }
    static let nothingToSave = Localized(en: "The message has no files.", de: "Die Nachricht hat keine Dateien.")

    // MARK: - Errors

    static func error(_ error: Error) -> Localized {
        switch error {
        case let error as ClientError: return clientError(error)
        case let error as RelayFailure: return clientError(.relay(error))
        default: return Localized(en: "Failed: \(error)", de: "Fehlgeschlagen: \(error)")
        }
    }

    static func clientError(_ error: ClientError) -> Localized {
        switch error {
        case .notEnrolled(let home):
            return Localized(
                en: "No account in \(home). Enroll this device first: ratsbote enroll CODE",
                de: "Kein Konto in \(home). Zuerst das Gerät anmelden: ratsbote enroll CODE")
        case .alreadyEnrolled(let home):
            return Localized(
                en: "\(home) already holds an account. Use another --home to enroll a second account.",
                de: "\(home) enthält bereits ein Konto. Für ein zweites Konto einen anderen --home angeben.")
        case .wrongPassphrase:
            return Localized(en: "Wrong passphrase. Nothing was changed; try again.", de: "Falsche Passphrase. Nichts wurde geändert; bitte erneut versuchen.")
        case .keyStoreDamaged(let path, let reason):
            return Localized(
                en: "The key store \(path) is damaged (\(reason)). Restore it from a backup or enroll again with a new invite code.",
                de: "Der Schlüsselspeicher \(path) ist beschädigt (\(reason)). Aus einer Sicherung wiederherstellen oder mit einem neuen Einladungscode neu anmelden.")
        case .keyStoreUnsupportedVersion(let path, let version):
            return Localized(
                en: "The key store \(path) has version \(version), which this program does not know. Install a newer Ratsbote.",
                de: "Der Schlüsselspeicher \(path) hat Version \(version), die dieses Programm nicht kennt. Eine neuere Ratsbote-Version installieren.")
        case .passphraseTooShort(let minimum):
            return Localized(
                en: "The passphrase is too short: use at least \(minimum) characters.",
                de: "Die Passphrase ist zu kurz: mindestens \(minimum) Zeichen verwenden.")
        case .invalidInvite:
            return Localized(
                en: "The invite code is incomplete or mistyped. Copy it again completely, or ask your IT department for a new one.",
                de: "Der Einladungscode ist unvollständig oder vertippt. Den Code erneut vollständig kopieren oder bei der IT einen neuen anfordern.")
        case .recipientNotFound(let name):
            return Localized(
                en: "Recipient '\(name)' not found. 'ratsbote directory' lists everyone you can write to.",
                de: "Empfänger '\(name)' nicht gefunden. 'ratsbote directory' listet alle, denen Sie schreiben können.")
        case .recipientAmbiguous(let name, let candidates):
            return Localized(
                en: "'\(name)' matches several people: \(candidates.joined(separator: ", ")). Use the user id.",
                de: "'\(name)' passt zu mehreren Personen: \(candidates.joined(separator: ", ")). Bitte die Benutzerkennung angeben.")
        case .recipientHasNoDevice(let name):
            return Localized(
                en: "\(name) has not enrolled a device yet, so the message cannot be delivered. Try again after they enrolled.",
                de: "\(name) hat noch kein Gerät angemeldet, die Nachricht kann niemand empfangen. Nach der Anmeldung erneut versuchen.")
        case .identityKeyChanged(let userId):
            return Localized(
                en: "The key of \(userId) has changed since you last wrote. Sending to \(userId) is stopped until you compare the safety number with them in person or by phone: 'ratsbote verify \(userId)', then 'ratsbote verify \(userId) --confirm'.",
                de: "Der Schlüssel von \(userId) hat sich seit dem letzten Kontakt geändert. Senden an \(userId) ist gesperrt, bis Sie die Sicherheitsnummer persönlich oder telefonisch verglichen haben: 'ratsbote verify \(userId)', danach 'ratsbote verify \(userId) --confirm'.")
        case .relayUnreachable(let address, let reason):
            return Localized(
                en: "The relay \(address) cannot be reached (\(reason)). Check the network and try again; messages already in the outbox are sent by the next 'ratsbote sync'.",
                de: "Der Relay-Server \(address) ist nicht erreichbar (\(reason)). Netzwerk prüfen und erneut versuchen; Nachrichten, die schon im Postausgang liegen, sendet das nächste 'ratsbote sync'.")
        case .handshakeRejected(let address, _):
            return Localized(
                en: "The relay at \(address) rejected the connection: its key does not match the one in the invite code. Copy the invite code again completely, or ask your IT department for a new one.",
                de: "Der Relay-Server unter \(address) hat die Verbindung abgelehnt: sein Schlüssel passt nicht zum Einladungscode. Den Code erneut vollständig kopieren oder bei der IT einen neuen anfordern.")
        case .relay(let failure):
            return relayFailure(failure)
        case .protocolViolation(let detail):
            return Localized(
                en: "The relay answered in an unexpected way (\(detail)). Try again; if it persists, tell your IT department.",
                de: "Der Relay-Server antwortete unerwartet (\(detail)). Erneut versuchen; wenn es bleibt, die IT informieren.")
        case .messageNotFound(let id) where id.count < 4:
            return Localized(
                en: "The message id '\(id)' is too short: give at least 4 characters of the id 'ratsbote inbox' lists.",
                de: "Die Kennung '\(id)' ist zu kurz: mindestens 4 Zeichen der Kennung aus 'ratsbote inbox' angeben.")
        case .messageNotFound(let id):
            return Localized(
                en: "No message with id '\(id)'. 'ratsbote inbox' lists the ids.",
                de: "Keine Nachricht mit der Kennung '\(id)'. 'ratsbote inbox' listet die Kennungen.")
        case .attachmentUnreadable(let path, let reason):
            return Localized(en: "Cannot read the file \(path): \(reason).", de: "Die Datei \(path) ist nicht lesbar: \(reason).")
        case .attachmentTooLarge(let path, let size, let maximum):
            return Localized(
                en: "\(path) is too large to send (\(size) bytes, at most \(maximum) bytes per message).",
                de: "\(path) ist zu groß zum Senden (\(size) Bytes, höchstens \(maximum) Bytes je Nachricht).")
        case .fileExists(let path):
            return Localized(
                en: "\(path) exists already. Choose another folder with --out, or replace it with --force.",
                de: "\(path) existiert bereits. Mit --out einen anderen Ordner wählen oder mit --force ersetzen.")
        case .writeFailed(let path, let reason):
            return Localized(en: "Cannot write \(path): \(reason).", de: "\(path) kann nicht geschrieben werden: \(reason).")
        case .documentRejected(let name, let reason):
            return Localized(
                en: "The document \(name) failed its checks (\(reason)) and was not saved. Ask the sender to send it again.",
                de: "Das Dokument \(name) hat die Prüfung nicht bestanden (\(reason)) und wurde nicht gespeichert. Bitte erneut senden lassen.")
        case .noSessionOffline(let userId):
            return Localized(
                en: "The relay cannot be reached, and this device has never written to \(userId), so it cannot encrypt for them yet. Nothing was saved: send the message again when the network is back.",
                de: "Der Relay-Server ist nicht erreichbar, und dieses Gerät hat \(userId) noch nie geschrieben, kann also noch nicht für sie oder ihn verschlüsseln. Nichts wurde gespeichert: Nachricht erneut senden, wenn das Netz wieder da ist.")
        case .recipientNotReady(let userId):
            return Localized(
                en: "\(userId) has no usable prekeys on the relay yet. Ask them to run 'ratsbote sync' once, then try again.",
                de: "Für \(userId) liegen auf dem Relay-Server noch keine nutzbaren Vorschlüssel. Bitte einmal 'ratsbote sync' ausführen lassen und erneut versuchen.")
        case .unknownContact(let userId):
            return Localized(
                en: "This device has not met \(userId) yet. Run 'ratsbote verify \"\(userId)\"' first to see the safety number.",
                de: "Dieses Gerät kennt \(userId) noch nicht. Zuerst 'ratsbote verify \"\(userId)\"' ausführen, um die Sicherheitsnummer zu sehen.")
        case .certificateRejected(let userId, let reason):
            return certificateRejected(userId, reason)
        case .trustRejected(let reason):
            let detail = certificateReason(reason)
            return Localized(
                en: "The relay served organisation keys that do not match the invite code (\(detail.en)). Nothing was sent. Tell the IT operator; do not use this relay until it is resolved.",
                de: "Das Relay lieferte Organisationsschlüssel, die nicht zum Einladungscode passen (\(detail.de)). Es wurde nichts gesendet. Bitte den IT-Betrieb informieren und das Relay bis zur Klärung nicht verwenden.")
        case .recipientRevoked(let userId):
            return Localized(
                en: "The organisation has revoked \(userId); nothing is sent to them any more. Ask the IT operator if this is unexpected.",
                de: "Die Organisation hat \(userId) gesperrt; an \(userId) wird nichts mehr gesendet. Bei Zweifeln den IT-Betrieb fragen.")
        case .groupEmpty(let groupId):
            return Localized(
                en: "The group \(groupId) has no member besides you, so nobody would receive the message.",
                de: "Die Gruppe \(groupId) hat außer Ihnen kein Mitglied, die Nachricht würde niemand erhalten.")
        case .storage(let detail):
            return Localized(en: "Local storage failed: \(detail)", de: "Lokaler Speicher fehlerhaft: \(detail)")
        }
    }

    /// Explains why a directory entry was rejected and what the user can do.
    static func certificateRejected(_ userId: String, _ reason: CertificateError) -> Localized {
        let detail = certificateReason(reason)
        switch reason {
        case .expired, .notYetValid:
            return Localized(
                en: "The certificate of \(userId) is not valid now (\(detail.en)), so nothing is sent to \(userId). The IT operator can renew it with 'ratsbote-relay renew'.",
                de: "Das Zertifikat von \(userId) ist derzeit nicht gültig (\(detail.de)), daher wird nichts an \(userId) gesendet. Der IT-Betrieb kann es mit 'ratsbote-relay renew' erneuern.")
        case .revoked:
            return Localized(
                en: "The organisation has revoked the certificate of \(userId) (\(detail.en)); nothing is sent to \(userId).",
                de: "Die Organisation hat das Zertifikat von \(userId) gesperrt (\(detail.de)); an \(userId) wird nichts gesendet.")
        default:
            return Localized(
                en: "The relay lists keys for \(userId) that the organisation did not certify (\(detail.en)). Nothing was sent. This can mean someone tries to read along: tell the IT operator and compare the safety number with \(userId) in person.",
                de: "Das Relay nennt für \(userId) Schlüssel, die die Organisation nicht bestätigt hat (\(detail.de)). Es wurde nichts gesendet. Das kann bedeuten, dass jemand mitlesen will: den IT-Betrieb informieren und die Sicherheitsnummer mit \(userId) persönlich vergleichen.")
        }
    }

    /// Describes a failed certificate check in both languages.
    static func certificateReason(_ reason: CertificateError) -> (en: String, de: String) {
        func date(_ seconds: UInt64) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        switch reason {
        case .rootMismatch(let expected, let actual):
            return ("root key fingerprint \(actual.prefix(16)) instead of \(expected.prefix(16))", "Wurzel-Fingerabdruck \(actual.prefix(16)) statt \(expected.prefix(16))")
        case .invalidSignature(let structure):
            return ("invalid signature on \(structure)", "ungültige Signatur auf \(structure)")
        case .unknownIssuer(let structure):
            return ("\(structure) signed by an unknown issuing key", "\(structure) von unbekanntem Ausstellerschlüssel signiert")
        case .notYetValid(_, let validFrom, _):
            return ("valid only from \(date(validFrom))", "erst ab \(date(validFrom)) gültig")
        case .expired(_, let validUntil, _):
            return ("expired on \(date(validUntil))", "abgelaufen am \(date(validUntil))")
        case .revoked(let serial):
            return ("certificate \(serial) revoked", "Zertifikat \(serial) gesperrt")
        case .fieldMismatch(let field):
            return ("\(field) differs from the certificate", "\(field) weicht vom Zertifikat ab")
        case .malformed(let detail):
            return ("certificate unreadable: \(detail)", "Zertifikat unlesbar: \(detail)")
        }
    }

    static func relayFailure(_ failure: RelayFailure) -> Localized {
        switch failure.code {
        case .invalidInvite:
            return Localized(
                en: "The relay rejected the invite code: it is unknown, used or expired. Ask your IT department for a new one.",
                de: "Der Relay-Server lehnt den Einladungscode ab: unbekannt, bereits benutzt oder abgelaufen. Bei der IT einen neuen anfordern.")
        case .notEnrolled, .revoked:
            return Localized(
                en: "The relay does not know this device (it was never enrolled or was revoked). Ask your IT department for a new invite.",
                de: "Der Relay-Server kennt dieses Gerät nicht (nie angemeldet oder gesperrt). Bei der IT eine neue Einladung anfordern.")
        case .mailboxFull:
            return Localized(
                en: "The recipient's mailbox is full. The message stays in the outbox; try 'ratsbote sync' later.",
                de: "Das Postfach des Empfängers ist voll. Die Nachricht bleibt im Postausgang; später 'ratsbote sync' versuchen.")
        case .rateLimited:
            return Localized(en: "Too many messages in a short time. Wait a minute and run 'ratsbote sync'.", de: "Zu viele Nachrichten in kurzer Zeit. Eine Minute warten und 'ratsbote sync' ausführen.")
        default:
            return Localized(
                en: "The relay rejected the request (error \(failure.rawCode): \(failure.reason)).",
                de: "Der Relay-Server lehnte die Anfrage ab (Fehler \(failure.rawCode): \(failure.reason)).")
        }
    }
}
