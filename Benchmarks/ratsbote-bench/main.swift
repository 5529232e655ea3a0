// ratsbote-bench: Swift figures beside the same work done directly on libsodium in C, measured
// in the same process with alternating batches. See BENCHMARKS.md for the cases and figures.

import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())

// Subcommands that drive a relay process instead of running cases.
switch arguments.first {
case "load": exit(LoadCommand.main(Array(arguments.dropFirst())))
case "crash-check": exit(CrashCheck.main(Array(arguments.dropFirst())))
default: break
}

let options: Options
do {
    options = try Options(arguments: arguments)
} catch {
    FileHandle.standardError.write(Data("ratsbote-bench: \(error)\n\n\(Options.usage)\n".utf8))
    exit(2)
}
if options.helpRequested {
    print(Options.usage)
    exit(0)
}

var registry = CaseRegistry()
registry.addHarnessCases()
registry.addCryptoCases()
registry.addDocumentCases()
registry.addRatchetCases()
registry.addDiagnosticCases()
registry.addRelayCases()
registry.addRelayStorageCase()

if options.list {
    for benchmark in registry.cases { print(benchmark.name) }
    exit(0)
}

let selected = registry.selected(by: options.filters)
guard !selected.isEmpty else {
    FileHandle.standardError.write(
        Data("ratsbote-bench: no case matches \(options.filters); run ratsbote-bench --list for the names\n".utf8))
    exit(2)
}

options.clock.activate()
print(Machine.description(arguments: CommandLine.arguments, clock: options.clock))
print(Report.header())
let runner = Runner(settings: options.settings)
var results: [CaseResult] = []
var failed = false
for benchmark in selected {
    do {
        for result in try runner.run(benchmark) {
            results.append(result)
            print(Report.line(for: result))
        }
    } catch {
        // One broken case must not hide the figures of the others.
        FileHandle.standardError.write(Data("ratsbote-bench: \(error)\n".utf8))
        failed = true
    }
}

let misses = results.filter(\.missesTarget).map(\.name)
if !misses.isEmpty { print("missed targets: \(misses.joined(separator: ", "))") }

if let path = options.jsonPath {
    do {
        try Report.json(results).write(to: URL(fileURLWithPath: path))
    } catch {
        FileHandle.standardError.write(Data("ratsbote-bench: cannot write JSON to \(path): \(error)\n".utf8))
        exit(1)
    }
}
exit(failed ? 1 : 0)
