// swift-tools-version:6.0
//
// libFuzzer targets for every Ratsbote decoder that reads bytes from a peer or a file.
//
// This is a separate package so that the main build is never compiled with `-sanitize=fuzzer`,
// which links the libFuzzer runtime and which every module needs for coverage instrumentation.
// Build it through Fuzz/fuzz.mk, which passes `-sanitize=fuzzer,address -parse-as-library` to
// every Swift module, these and the main package's. docs/fuzzing.md describes the targets.

import PackageDescription

/// The fuzz targets: the executable name, the file in Sources/<name>/, and its dependencies.
let targets: [(name: String, dependencies: [String])] = [
    ("fuzz-relay-frame", ["RatsboteWire"]),
    ("fuzz-client-hello", ["RatsboteWire"]),
    ("fuzz-invite-code", ["RatsboteWire"]),
    ("fuzz-invite-text", ["RatsboteWire"]),
    ("fuzz-noise-stream", ["RatsboteNoise", "RatsboteCrypto"]),
    ("fuzz-noise-handshake", ["RatsboteNoise", "RatsboteCrypto"]),
    ("fuzz-note-content", ["RatsboteClient", "RatsboteWire"]),
    ("fuzz-session-message", ["RatsboteSession"]),
    ("fuzz-message-payload", ["RatsboteSession"]),
    ("fuzz-sealed-sender", ["RatsboteSession"]),
    ("fuzz-prekey-bundle", ["RatsboteSession"]),
    ("fuzz-session-state", ["RatsboteSession", "RatsboteCrypto"]),
    ("fuzz-key-store", ["RatsboteClient", "RatsboteCrypto"]),
    ("fuzz-secret-stream", ["RatsboteCrypto"]),
]

let package = Package(
    name: "RatsboteFuzz",
    platforms: [.macOS(.v14)],
    products: targets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [.package(name: "Ratsbote", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "RatsboteWire", package: "Ratsbote"), .product(name: "RatsboteCrypto", package: "Ratsbote"),
            ]
        )
    ]
        + targets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.dependencies.map { .product(name: $0, package: "Ratsbote") }
            )
        },
    swiftLanguageModes: [.v6]
)
