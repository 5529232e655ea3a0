import Foundation
import RatsboteRelay
import RatsboteStorage
import RatsboteSupport
import RatsboteWire

/// Every text a person reads from `ratsbote-relay`, in English and German. Logs stay English and
/// are not here.
enum Texts {
    static let usage = Localized(
        en: """
            Usage: ratsbote-relay COMMAND [OPTIONS]

            Commands:
              init     create a data folder with a new relay key and database
              serve    run the relay
              invite   create a participant and print a one-time invite code
              users    list participants
              revoke   revoke a participant and all of their devices
              renew    issue new certificates to a participant, with a new term of office
              group    create groups (units, committees) and change their members
              stats    show counts, mailbox depths and bytes

            Options for every command: --lang de|en, --help
            Run "ratsbote-relay COMMAND --help" for the options of a command.
            """,
        de: """
            Aufruf: ratsbote-relay BEFEHL [OPTIONEN]

            Befehle:
              init     Datenordner mit neuem Relay-Schlüssel und Datenbank anlegen
              serve    das Relay betreiben
              invite   Teilnehmer anlegen und einen Einmal-Einladungscode ausgeben
              users    Teilnehmer auflisten
              revoke   Teilnehmer und alle seine Geräte sperren
              renew    einem Teilnehmer neue Zertifikate mit neuer Amtszeit ausstellen
              group    Gruppen (Einheiten, Ausschüsse) anlegen und Mitglieder ändern
              stats    Anzahlen, Postfachtiefen und Bytes anzeigen

            Optionen für jeden Befehl: --lang de|en, --help
            "ratsbote-relay BEFEHL --help" zeigt die Optionen eines Befehls.
            """)

    static let initHelp = Localized(
        en: """
            Usage: ratsbote-relay init --data DIR [--org NAME] [--address HOST:PORT]

            Creates DIR (mode 0700) with the relay's Noise key (relay.key), the organisation
            root key (org-root.key), an issuing key certified by the root (issuing.key,
            issuer.cert), relay.json and relay.sqlite. An existing DIR is never overwritten.
            The relay runs without org-root.key: move it to offline storage after init.

              --data DIR            the data folder to create
              --org NAME            the organisation's name (default: Ratsbote)
              --address HOST:PORT   the address invite codes carry (default: 127.0.0.1:7443)

            Example: ratsbote-relay init --data /var/lib/ratsbote --org "Stadt Musterstadt" --address relay.example.de:7443
            """,
        de: """
            Aufruf: ratsbote-relay init --data ORDNER [--org NAME] [--address HOST:PORT]

            Legt ORDNER (Modus 0700) an, mit dem Noise-Schlüssel des Relays (relay.key), dem
            Wurzelschlüssel der Organisation (org-root.key), einem von ihm bestätigten
            Ausstellerschlüssel (issuing.key, issuer.cert), relay.json und relay.sqlite. Ein
            vorhandener ORDNER wird nie überschrieben. Das Relay läuft ohne org-root.key:
            nach init offline ablegen.

              --data ORDNER         der anzulegende Datenordner
              --org NAME            Name der Organisation (Standard: Ratsbote)
              --address HOST:PORT   Adresse in den Einladungscodes (Standard: 127.0.0.1:7443)

            Beispiel: ratsbote-relay init --data /var/lib/ratsbote --org "Stadt Musterstadt" --address relay.example.de:7443
            """)

    static let serveHelp = Localized(
        en: """
            Usage: ratsbote-relay serve --data DIR [--listen HOST:PORT]

            Runs the relay until SIGTERM or SIGINT, then finishes pending commits and exits.
            Logs go to standard error as key=value lines.

              --data DIR            the data folder created by init
              --listen HOST:PORT    where to listen (default: the configured address; an IPv6
                                    address goes in brackets, such as [::]:7443; port 0 picks a
                                    free port, printed as "listening address=...")

            Example: ratsbote-relay serve --data /var/lib/ratsbote --listen 0.0.0.0:7443
            """,
        de: """
            Aufruf: ratsbote-relay serve --data ORDNER [--listen HOST:PORT]

            Betreibt das Relay bis SIGTERM oder SIGINT, schreibt dann offene Commits fertig und
            beendet sich. Protokollzeilen gehen als key=value auf die Standardfehlerausgabe.

              --data ORDNER         der mit init angelegte Datenordner
              --listen HOST:PORT    Adresse zum Lauschen (Standard: die konfigurierte Adresse;
                                    IPv6-Adressen in eckigen Klammern, z. B. [::]:7443; Port 0
                                    wählt einen freien Port, ausgegeben als "listening address=...")

            Beispiel: ratsbote-relay serve --data /var/lib/ratsbote --listen 0.0.0.0:7443
            """)

    static let inviteHelp = Localized(
        en: """
            Usage: ratsbote-relay invite --data DIR --name NAME --role ROLE --unit UNIT [--expires DURATION]
                                         [--valid-from DATE] [--valid-until DATE]
                   ratsbote-relay invite --data DIR --user USER [--expires DURATION]

            Creates a participant and prints their user id and a one-time invite code (last
            line). The code enrolls one device and expires after DURATION. With --user, the
            code enrolls another device of an existing participant.

              --data DIR            the data folder
              --name NAME           the participant's display name
              --role ROLE           their role, e.g. "Ratsmitglied"
              --unit UNIT           their organisational unit, e.g. "Fraktion A"
              --user USER           an existing participant's user id, for another device
              --expires DURATION    validity such as 7d, 12h, 30m or seconds (default: 7d)
              --valid-from DATE     start of the term of office in the certificate,
                                    YYYY-MM-DD (UTC) (default: now)
              --valid-until DATE    end of the term of office (default: 5 years after the start)

            Example: ratsbote-relay invite --data /var/lib/ratsbote --name "Erika Muster" --role Ratsmitglied --unit "Fraktion A"
            """,
        de: """
            Aufruf: ratsbote-relay invite --data ORDNER --name NAME --role ROLLE --unit EINHEIT [--expires DAUER]
                                          [--valid-from DATUM] [--valid-until DATUM]
                    ratsbote-relay invite --data ORDNER --user BENUTZER [--expires DAUER]

            Legt einen Teilnehmer an und gibt seine Benutzerkennung und einen
            Einmal-Einladungscode aus (letzte Zeile). Der Code meldet ein Gerät an und verfällt
            nach DAUER. Mit --user meldet der Code ein weiteres Gerät eines vorhandenen
            Teilnehmers an.

              --data ORDNER         der Datenordner
              --name NAME           Anzeigename des Teilnehmers
              --role ROLLE          seine Rolle, z. B. "Ratsmitglied"
              --unit EINHEIT        seine Organisationseinheit, z. B. "Fraktion A"
              --user BENUTZER       Benutzerkennung eines vorhandenen Teilnehmers, für ein weiteres Gerät
              --expires DAUER       Gültigkeit wie 7d, 12h, 30m oder Sekunden (Standard: 7d)
              --valid-from DATUM    Beginn der Amtszeit im Zertifikat, JJJJ-MM-TT (UTC)
                                    (Standard: jetzt)
              --valid-until DATUM   Ende der Amtszeit (Standard: 5 Jahre nach Beginn)

            Beispiel: ratsbote-relay invite --data /var/lib/ratsbote --name "Erika Muster" --role Ratsmitglied --unit "Fraktion A"
            """)

    static let usersHelp = Localized(
        en: """
            Usage: ratsbote-relay users --data DIR [--json]

            Lists every participant with role, unit, active devices and pending invites.

            Example: ratsbote-relay users --data /var/lib/ratsbote --json
            """,
        de: """
            Aufruf: ratsbote-relay users --data ORDNER [--json]

            Listet alle Teilnehmer mit Rolle, Einheit, aktiven Geräten und offenen Einladungen.

            Beispiel: ratsbote-relay users --data /var/lib/ratsbote --json
            """)

    static let revokeHelp = Localized(
        en: """
            Usage: ratsbote-relay revoke --data DIR [--json] USER|USER.DEVICE

            Revokes USER: their devices can no longer connect, their waiting envelopes and
            prekeys are deleted and their unused invites become invalid. USER.DEVICE (for
            example erika-muster.2) revokes one lost device and keeps the others. A connected
            device is disconnected within the sweep interval (default 60 seconds).

            Example: ratsbote-relay revoke --data /var/lib/ratsbote erika-muster
            """,
        de: """
            Aufruf: ratsbote-relay revoke --data ORDNER [--json] BENUTZER|BENUTZER.GERÄT

            Sperrt BENUTZER: seine Geräte können sich nicht mehr verbinden, wartende Umschläge
            und Prekeys werden gelöscht und unbenutzte Einladungen werden ungültig.
            BENUTZER.GERÄT (z. B. erika-muster.2) sperrt ein verlorenes Gerät und behält die
            anderen. Ein verbundenes Gerät wird innerhalb des Prüfintervalls getrennt
            (Standard 60 Sekunden).

            Beispiel: ratsbote-relay revoke --data /var/lib/ratsbote erika-muster
            """)

    static let statsHelp = Localized(
        en: """
            Usage: ratsbote-relay stats --data DIR [--json]

            Shows participants, devices, waiting envelopes and bytes, one-time prekeys, document
            blobs (count, announced bytes, uploads not yet complete) and the depth of each
            mailbox.

            Example: ratsbote-relay stats --data /var/lib/ratsbote --json
            """,
        de: """
            Aufruf: ratsbote-relay stats --data ORDNER [--json]

            Zeigt Teilnehmer, Geräte, wartende Umschläge und Bytes, Einmal-Prekeys,
            Dokument-Blobs (Anzahl, angekündigte Bytes, noch nicht abgeschlossene Uploads) und
            die Tiefe jedes Postfachs.

            Beispiel: ratsbote-relay stats --data /var/lib/ratsbote --json
            """)

    static func created(_ path: String) -> Localized {
        Localized(en: "Created the data folder \(path).", de: "Datenordner \(path) angelegt.")
    }

    static func relayKey(_ hex: String) -> Localized {
        Localized(en: "Relay public key: \(hex)", de: "Öffentlicher Relay-Schlüssel: \(hex)")
    }

    static func userCreated(_ id: String, expires: String) -> Localized {
        Localized(
            en: "User id: \(id)\nThe invite code is valid until \(expires) and enrolls one device:",
            de: "Benutzerkennung: \(id)\nDer Einladungscode gilt bis \(expires) und meldet ein Gerät an:")
    }

    static func deviceInviteCreated(_ id: String, expires: String) -> Localized {
        Localized(
            en: "The invite code enrolls another device of \(id) and is valid until \(expires):",
            de: "Der Einladungscode meldet ein weiteres Gerät von \(id) an und gilt bis \(expires):")
    }

    static func deviceRevoked(_ address: String) -> Localized {
        Localized(en: "Revoked the device \(address).", de: "Gerät \(address) gesperrt.")
    }

    static func revoked(_ id: String, devices: Int) -> Localized {
        Localized(en: "Revoked \(id) and \(devices) device(s).", de: "\(id) und \(devices) Gerät(e) gesperrt.")
    }

    static let noUsers = Localized(en: "No participants yet. Create one with \"ratsbote-relay invite\".", de: "Noch keine Teilnehmer. Mit \"ratsbote-relay invite\" anlegen.")

    static let usersHeader = Localized(
        en: "USER\tNAME\tROLE\tUNIT\tDEVICES\tINVITES\tSTATUS", de: "BENUTZER\tNAME\tROLLE\tEINHEIT\tGERÄTE\tEINLADUNGEN\tSTATUS")
    static let active = Localized(en: "active", de: "aktiv")
    static let revokedStatus = Localized(en: "revoked", de: "gesperrt")

    static func statistics(_ stats: RelayStatistics) -> Localized {
        var en = "Participants: \(stats.users)\nDevices: \(stats.devices)\nWaiting envelopes: \(stats.envelopes) (\(stats.bytes) bytes)\nOne-time prekeys: \(stats.oneTimePrekeys)"
        var de = "Teilnehmer: \(stats.users)\nGeräte: \(stats.devices)\nWartende Umschläge: \(stats.envelopes) (\(stats.bytes) Bytes)\nEinmal-Prekeys: \(stats.oneTimePrekeys)"
        if let blobs = stats.blobs {
            en += "\nDocument blobs: \(blobs.count) (\(blobs.bytes) bytes), incomplete uploads: \(blobs.incompleteUploads)"
            de += "\nDokument-Blobs: \(blobs.count) (\(blobs.bytes) Bytes), unvollständige Uploads: \(blobs.incompleteUploads)"
        }
        return Localized(en: en, de: de)
    }


    static let mailboxHeader = Localized(en: "MAILBOX\tENVELOPES\tBYTES", de: "POSTFACH\tUMSCHLÄGE\tBYTES")

    static func errorPrefix(_ text: String) -> Localized {
        Localized(en: "error: \(text)", de: "Fehler: \(text)")
    }

    /// Returns the message for a command-line mistake.
    static func usageError(_ error: UsageError) -> Localized {
        switch error {
        case .unknownOption(let option):
            return Localized(en: "unknown option \(option)", de: "unbekannte Option \(option)")
        case .missingValue(let option):
            return Localized(en: "the option \(option) needs a value", de: "die Option \(option) braucht einen Wert")
        case .repeatedOption(let option):
            return Localized(en: "the option \(option) was given twice", de: "die Option \(option) wurde zweimal angegeben")
        case .unexpectedArgument(let argument):
            return Localized(en: "unexpected argument \"\(argument)\"", de: "unerwartetes Argument \"\(argument)\"")
        case .missingArgument(let name):
            return Localized(en: "the argument \(name) is missing", de: "das Argument \(name) fehlt")
        case .invalidValue(let option, let value, let expected):
            return Localized(
                en: "invalid value \"\(value)\" for \(option); expected \(expected)",
                de: "ungültiger Wert \"\(value)\" für \(option); erwartet: \(expected)")
        case .unknownCommand(let command):
            return Localized(en: "unknown command \"\(command)\"", de: "unbekannter Befehl \"\(command)\"")
        case .missingCommand:
            return Localized(en: "a command is missing", de: "es fehlt ein Befehl")
        }
    }

    /// Returns the message for a failed operation.
    static func failure(_ error: any Error) -> Localized {
        switch error {
        case RelayError.dataFolderExists(let path):
            return Localized(
                en: "\(path) already exists; choose a new folder (init never overwrites a relay key)",
                de: "\(path) existiert bereits; einen neuen Ordner wählen (init überschreibt nie einen Relay-Schlüssel)")
        case RelayError.dataFolderMissing(let path):
            return Localized(
                en: "\(path) is missing; create the data folder with \"ratsbote-relay init --data DIR\"",
                de: "\(path) fehlt; den Datenordner mit \"ratsbote-relay init --data ORDNER\" anlegen")
        case RelayError.fileFailed(let path, let operation, let code):
            let reason = String(cString: strerror(code))
            return Localized(
                en: "\(operation) \(path) failed: \(reason) (errno \(code)); check the path and its permissions",
                de: "\(operation) \(path) fehlgeschlagen: \(reason) (errno \(code)); Pfad und Rechte prüfen")
        case RelayError.invalidKeyFile(let path, let expected, let actual):
            return Localized(
                en: "\(path) has \(actual) bytes, expected \(expected); restore it from the backup",
                de: "\(path) hat \(actual) Bytes, erwartet \(expected); aus der Sicherung wiederherstellen")
        case RelayError.invalidConfiguration(let path, let reason):
            return Localized(en: "\(path) is invalid: \(reason)", de: "\(path) ist ungültig: \(reason)")
        case RelayError.invalidValue(let field, let value, let reason):
            return Localized(
                en: "invalid \(field) \"\(value)\": expected \(reason)", de: "ungültiger Wert für \(field) \"\(value)\": erwartet \(reason)")
        case RelayError.userNotFound(let id):
            return Localized(
                en: "no user \"\(id)\"; list users with \"ratsbote-relay users\"",
                de: "kein Benutzer \"\(id)\"; Benutzer mit \"ratsbote-relay users\" auflisten")
        case RelayError.groupNotFound(let id):
            return Localized(
                en: "no group \"\(id)\"; list groups with \"ratsbote-relay group list\"",
                de: "keine Gruppe \"\(id)\"; Gruppen mit \"ratsbote-relay group list\" auflisten")
        case RelayError.rootKeyOffline(let path):
            return Localized(
                en: "this command needs the organisation root key, and \(path) is missing; copy org-root.key from its offline storage into the data folder, run the command, and remove it again",
                de: "dieser Befehl braucht den Wurzelschlüssel der Organisation, und \(path) fehlt; org-root.key aus der Offline-Ablage in den Datenordner kopieren, den Befehl ausführen und die Datei wieder entfernen")
        case RelayError.deviceNotFound(let address):
            return Localized(
                en: "no active device \"\(address)\"; list users and their devices with \"ratsbote-relay users\"",
                de: "kein aktives Gerät \"\(address)\"; Benutzer und Geräte mit \"ratsbote-relay users\" auflisten")
        case RelayError.userRevoked(let id):
            return Localized(
                en: "the user \"\(id)\" was revoked and gets no new invites; create a new participant instead",
                de: "der Benutzer \"\(id)\" ist gesperrt und erhält keine Einladungen; stattdessen einen neuen Teilnehmer anlegen")
        case RelayError.storage(let storage):
            return Localized(en: "database error: \(storage)", de: "Datenbankfehler: \(storage)")
        case RelayError.alreadyServing(let path):
            return Localized(
                en: "another ratsbote-relay process is serving \(path); stop it first",
                de: "ein anderer ratsbote-relay-Prozess betreibt bereits \(path); diesen zuerst beenden")
        case RelayError.listenFailed(let address, let reason):
            return Localized(
                en: "cannot listen on \(address): \(reason); choose another address with --listen",
                de: "kann nicht auf \(address) lauschen: \(reason); mit --listen eine andere Adresse wählen")
        case let storage as StorageError:
            return Localized(en: "database error: \(storage)", de: "Datenbankfehler: \(storage)")
        default:
            return Localized(en: "\(error)", de: "\(error)")
        }
    }
}
