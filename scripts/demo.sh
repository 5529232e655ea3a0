#!/usr/bin/env bash
# The main job end to end: a relay on loopback with SQLite, three participants, and the
# ratsbote CLI alone carrying a note, a reply, a document and an inquiry with its answer.
# Every step prints what happened; the script checks that everything arrived byte for byte and
# that no relay file contains plaintext, then stops the relay and removes its files.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$root" && swift build --show-bin-path)
relay_bin="$bin/ratsbote-relay"
client_bin="$bin/ratsbote"
export LANG=${DEMO_LANG:-de_DE.UTF-8}

work=$(mktemp -d "${TMPDIR:-/tmp}/ratsbote-demo.XXXXXX")
relay_pid=""
cleanup() {
    if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
        kill -TERM "$relay_pid" 2>/dev/null || true
        wait "$relay_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Headings and checks in the demo's language: German when LANG starts with "de", else English.
case "$LANG" in de*) german=1 ;; *) german=0 ;; esac
pick() { if [ "$german" -eq 1 ] && [ -n "${2:-}" ]; then printf '%s' "$2"; else printf '%s' "$1"; fi; }
step() { printf '\n\033[1m== %s\033[0m\n' "$(pick "$1" "${2:-}")"; }
ok() { printf '   ✔ %s\n' "$(pick "$1" "${2:-}")"; }
fail() { printf '   ✘ %s\n' "$*" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

step "Relay: init and serve on 127.0.0.1:$port (SQLite in $work/relay)" "Relay-Server: einrichten und auf 127.0.0.1:$port starten (SQLite in $work/relay)"
"$relay_bin" init --data "$work/relay" --org "Stadt Musterstadt" --address "127.0.0.1:$port"
# The root key certified the issuing key at init; the relay runs without it from here on.
mkdir -m 700 "$work/offline"
mv "$work/relay/org-root.key" "$work/offline/"
ok "org-root.key moved to offline storage; the relay keeps issuing.key and issuer.cert" "org-root.key in den Offline-Speicher verschoben; der Relay-Server behält issuing.key und issuer.cert"
"$relay_bin" serve --data "$work/relay" >"$work/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 1 100); do
    grep -q "listening" "$work/relay.log" 2>/dev/null && break
    kill -0 "$relay_pid" 2>/dev/null || { cat "$work/relay.log"; fail "relay did not start"; }
    sleep 0.1
done
grep -q "listening" "$work/relay.log" || fail "relay did not report listening within 10 s"
ok "relay listening (pid $relay_pid)" "Relay-Server lauscht (PID $relay_pid)"

invite() { "$relay_bin" invite --data "$work/relay" "$@" | tail -n 1; }
step "Operator: invites for three participants" "Betrieb: Einladungen für drei Beteiligte"
code_dept=$(invite --name "Amt für Stadtentwicklung" --role "Sachbearbeitung" --unit "Dezernat II")
code_council=$(invite --name "Anna Schmidt" --role "Ratsmitglied" --unit "Fraktion Bürgerliste")
code_company=$(invite --name "Jens Becker" --role "Geschäftsführung" --unit "Stadtwerke Musterstadt GmbH")
ok "three one-time invite codes issued" "drei Einmal-Einladungscodes ausgestellt"

# Each participant gets a home folder and a passphrase file (never a passphrase in argv).
declare -A home
for who in dept council company; do
    home[$who]="$work/home-$who"
    mkdir -p "${home[$who]}"
    printf 'demo passphrase for %s\n' "$who" >"$work/pass-$who"
    chmod 600 "$work/pass-$who"
done
declare -A label=([dept]="Amt" [council]="Ratsmitglied" [company]="Stadtwerke")
# Runs the CLI as one participant. Commands whose output is shown are echoed first (on stderr,
# so captured --json output stays clean), with arguments over 40 characters shortened.
rb() {
    local who=$1; shift
    if [[ " $* " != *" --json "* ]]; then
        local shown=() argument
        for argument in "$@"; do
            [ ${#argument} -gt 40 ] && argument="${argument:0:37}..."
            if [[ "$argument" == *" "* ]]; then shown+=("\"$argument\""); else shown+=("$argument"); fi
        done
        printf '   \033[2m[%s] $ ratsbote %s\033[0m\n' "${label[$who]}" "${shown[*]}" >&2
    fi
    "$client_bin" --home "${home[$who]}" --passphrase-file "$work/pass-$who" "$@"
}

step "Participants: enroll each device with its invite code" "Beteiligte: jedes Gerät mit seinem Einladungscode anmelden"
rb dept enroll "$code_dept"
rb council enroll "$code_council"
echo "$code_company" | rb company enroll -
dept_id=$(rb dept whoami --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["userId"])')
council_id=$(rb council whoami --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["userId"])')
company_id=$(rb company whoami --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["userId"])')
rb council directory

subject1="Vertraulich: Rückfrage zur Vorlage 2026/117"
body1="Sehr geehrte Damen und Herren, wie hoch lag der zweite Verhandlungspreis für das Grundstück Flur 12? Mit freundlichen Grüßen, Anna Schmidt"
step "1. Council member sends a confidential note to the department" "1. Ratsmitglied schickt dem Amt eine vertrauliche Notiz"
rb council send "$dept_id" --subject "$subject1" --message "$body1"
rb dept sync
note_id=$(rb dept inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
rb dept read "$note_id"
got=$(rb dept read "$note_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["body"], end="")')
[ "$got" = "$body1" ] || fail "note body differs"
ok "note arrived byte for byte" "Notiz bytegenau angekommen"

body2="Sehr geehrte Frau Schmidt, der zweite Preis lag bei 1.120.000 EUR. Die Niederschrift folgt mit der Vorlage."
step "2. The department replies" "2. Das Amt antwortet"
rb dept reply "$note_id" --message "$body2"
rb council sync
reply_id=$(rb council inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
rb council read "$reply_id"
got=$(rb council read "$reply_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["body"], end="")')
[ "$got" = "$body2" ] || fail "reply body differs"
thread_a=$(rb council read "$reply_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["threadId"])')
thread_b=$(rb dept read "$note_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["threadId"])')
[ "$thread_a" = "$thread_b" ] || fail "reply is not in the same conversation"
ok "reply arrived byte for byte, in the same conversation" "Antwort bytegenau angekommen, im selben Gespräch"

document="$root/demo/Sitzungsvorlage-2026-117.txt"
subject3="Nichtöffentliche Sitzungsvorlage 2026/117"
step "3. The department sends a document to the council member and the municipal company" "3. Das Amt schickt ein Dokument an das Ratsmitglied und die Stadtwerke"
# One send to both recipients: the document is encrypted and uploaded to the relay once.
rb dept send "$council_id" "$company_id" --subject "$subject3" --file "$document" --message "Anbei die Vorlage zur Sitzung am 10.12."
[ "$(find "$work/relay/blobs" -type f | wc -l)" -eq 1 ] || fail "expected one blob on the relay for two recipients"
ok "one encrypted blob on the relay serves both recipients" "ein verschlüsselter Blob auf dem Relay-Server dient beiden Empfängern"
for who in council company; do
    rb "$who" sync
    doc_id=$(rb "$who" inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
    mkdir -p "$work/saved-$who"
    rb "$who" save "$doc_id" --out "$work/saved-$who"
    cmp -s "$document" "$work/saved-$who/$(basename "$document")" || fail "document differs for $who"
    ok "document arrived byte for byte at ${label[$who]} ($(wc -c <"$document") bytes)" "Dokument bytegenau bei ${label[$who]} angekommen ($(wc -c <"$document") Bytes)"
done
[ "$(find "$work/relay/blobs" -type f | wc -l)" -eq 0 ] || fail "the blob is still on the relay after both recipients saved it"
ok "the relay deleted the blob once both recipients had saved it" "der Relay-Server hat den Blob gelöscht, nachdem beide ihn gespeichert hatten"

subject4="Anfrage: Stromlieferung für die Feuerwache Nord"
body4="Guten Tag Herr Becker, können die Stadtwerke den Netzanschluss für die neue Wache bis Ende 2027 zusagen?"
body5="Sehr geehrte Frau Schmidt, ja: der Anschluss ist bis Ende 2027 möglich, die Netzplanung liegt vor."
step "4. The municipal company answers an inquiry from the council member" "4. Die Stadtwerke beantworten eine Anfrage des Ratsmitglieds"
rb council send "$company_id" --subject "$subject4" --message "$body4"
rb company sync
inquiry_id=$(rb company inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
got=$(rb company read "$inquiry_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["body"], end="")')
[ "$got" = "$body4" ] || fail "inquiry body differs"
rb company reply "$inquiry_id" --message "$body5"
rb council sync
answer_id=$(rb council inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
rb council read "$answer_id"
got=$(rb council read "$answer_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["body"], end="")')
[ "$got" = "$body5" ] || fail "answer body differs"
ok "inquiry and answer arrived byte for byte" "Anfrage und Antwort bytegenau angekommen"

step "5. Verification: both sides compare the safety number, and the sender sees the receipts" "5. Prüfung: beide Seiten vergleichen die Sicherheitsnummer, die Absenderin sieht die Bestätigungen"
number_council=$(rb council verify "$dept_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["safetyNumber"])')
number_dept=$(rb dept verify "$council_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["safetyNumber"])')
rb council verify "$dept_id"
[ "$number_council" = "$number_dept" ] || fail "safety numbers differ: $number_council / $number_dept"
rb council verify "$dept_id" --confirm
rb council sync
first_note=$(rb council read "${note_id:0:8}" --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print("read" if m["readAt"] else ("delivered" if m["deliveredAt"] else "sent"))')
rb council read "${note_id:0:8}" | head -n 4
[ "$first_note" = "read" ] || fail "the first note shows '$first_note', expected a read receipt"
ok "same safety number on both sides; the department's read receipt reached the council member" "gleiche Sicherheitsnummer auf beiden Seiten; die Lesebestätigung des Amts hat das Ratsmitglied erreicht"

committee_name="Ausschuss für Stadtentwicklung und Umwelt"
subject6="Nichtöffentliche Vorlage für den Ausschuss"
step "6. Operator defines a committee; the department sends one document to the whole group" "6. Der Betrieb legt einen Ausschuss an; das Amt schickt ein Dokument an die ganze Gruppe"
"$relay_bin" group --data "$work/relay" create ausschuss-umwelt --name "$committee_name" --kind committee
"$relay_bin" group --data "$work/relay" add ausschuss-umwelt "$council_id"
"$relay_bin" group --data "$work/relay" add ausschuss-umwelt "$company_id"
rb dept directory Ausschuss
rb dept send "$committee_name" --subject "$subject6" --file "$document" --message "Anbei die Vorlage für den Ausschuss."
for who in council company; do
    rb "$who" sync
    doc_id=$(rb "$who" inbox --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[-1]["id"])')
    mkdir -p "$work/committee-$who"
    rb "$who" save "$doc_id" --out "$work/committee-$who"
    cmp -s "$document" "$work/committee-$who/$(basename "$document")" || fail "committee document differs for $who"
    ok "committee document arrived byte for byte at ${label[$who]}" "Ausschussdokument bytegenau bei ${label[$who]} angekommen"
done

step "Blindness: no relay file contains any plaintext or subject" "Blindheit: keine Datei des Relay-Servers enthält Klartext oder Betreffzeilen"
found=0
for secret in "$body1" "$body2" "$body4" "$body5" "$subject1" "$subject3" "$subject4" "$subject6" \
    "Verhandlungspreis" "Flurstück 345" "Beschlussvorschlag" "Sitzungsvorlage-2026-117"; do
    if grep -r -a -F -q -- "$secret" "$work/relay" "$work/relay.log"; then
        printf '   ✘ found in relay files: %s\n' "$secret" >&2
        found=1
    fi
done
[ $found -eq 0 ] || fail "plaintext found on the relay"
ls -l "$work/relay"
ok "none of 11 plaintext strings occurs in $(find "$work/relay" -type f | wc -l) relay files or the relay log" "keiner von 11 Klartexten steht in $(find "$work/relay" -type f | wc -l) Dateien oder im Protokoll des Relay-Servers"

step "Stop the relay" "Relay-Server beenden"
kill -TERM "$relay_pid"
wait "$relay_pid" && status=0 || status=$?
relay_pid=""
[ "$status" -eq 0 ] || fail "relay exited with status $status after SIGTERM"
ok "relay stopped cleanly; temporary files are removed on exit" "Relay-Server sauber beendet; temporäre Dateien werden beim Ende gelöscht"
printf '\n%s\n' "$(pick 'Demo complete.' 'Vorführung abgeschlossen.')"
