import Foundation
import RatsboteClient
import RatsboteSupport

/// A one-line progress bar for document transfers, drawn only when standard output is a
/// terminal, so piped and JSON output stay clean.
final class ProgressBar {
    private let language: Language
    private let isEnabled = Terminal.isInteractiveOutput
    private var lastDrawn = Date.distantPast
    private var lastPercent = -1
    private var lastPhase: TransferProgress.Phase?
    private var drawn = false

    init(language: Language) {
        self.language = language
    }

    /// Redraws the line, at most ten times a second unless the percentage or phase changed.
    func update(_ progress: TransferProgress) {
        guard isEnabled else { return }
        let percent = progress.total == 0 ? 100 : Int(progress.done * 100 / progress.total)
        let now = Date()
        guard percent != lastPercent || progress.phase != lastPhase || now.timeIntervalSince(lastDrawn) > 0.1 else { return }
        lastPercent = percent
        lastPhase = progress.phase
        lastDrawn = now

        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let label = Text.progress(progress).text(language)
        let megabytes = String(format: "%.1f/%.1f MiB", Double(progress.done) / 1_048_576, Double(progress.total) / 1_048_576)
        print("\r\u{1B}[2K\(label) [\(bar)] \(percent)% \(megabytes)", terminator: "")
        fflush(nil)
        drawn = true
    }

    /// Ends the line so that the next output starts on its own.
    func finish() {
        guard drawn else { return }
        print("")
        drawn = false
    }
}
