// swift-tools-version:6.0
//
// Ratsbote: end-to-end encrypted messaging for a city, its companies and its council.
// The module map and the rules for dependencies are described in DESIGN.md section 2;
// RatsboteSupport and RatsboteNet are the two splits made so far (see their first files).

import PackageDescription

let package = Package(
    name: "Ratsbote",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RatsboteCrypto", targets: ["RatsboteCrypto"]),
        .library(name: "RatsboteWire", targets: ["RatsboteWire"]),
        .library(name: "RatsboteNoise", targets: ["RatsboteNoise"]),
        .library(name: "RatsboteSession", targets: ["RatsboteSession"]),
        .library(name: "RatsboteClient", targets: ["RatsboteClient"]),
        .library(name: "RatsboteRelay", targets: ["RatsboteRelay"]),
        .executable(name: "ratsbote", targets: ["ratsbote"]),
        .executable(name: "ratsbote-relay", targets: ["ratsbote-relay"]),
        .executable(name: "ratsbote-bench", targets: ["ratsbote-bench"]),
    ],
    targets: [
        // C libraries from Debian, imported through system-library targets.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        // Linux epoll and eventfd headers, which the Glibc module leaves out (part of libc, nothing to link).
        .systemLibrary(name: "CEpoll"),

        // Pure layers: no I/O.
        .target(name: "RatsboteCrypto", dependencies: ["CSodium"]),
        .target(name: "RatsboteWire", dependencies: ["RatsboteCrypto"]),
        .target(name: "RatsboteNoise", dependencies: ["RatsboteCrypto"]),
        .target(name: "RatsboteSession", dependencies: ["RatsboteCrypto", "RatsboteWire"]),

        // Shared infrastructure: logging, argument parsing, localisation, sockets.
        .target(name: "RatsboteSupport"),
        .target(name: "RatsboteNet", dependencies: ["CEpoll", "RatsboteSupport", "RatsboteNoise", "RatsboteWire"]),
        .target(name: "RatsboteStorage", dependencies: ["CSQLite"]),

        // Relay and client libraries.
        .target(
            name: "RatsboteRelay",
            dependencies: [
                "RatsboteCrypto", "RatsboteWire", "RatsboteNoise", "RatsboteNet", "RatsboteStorage",
                "RatsboteSupport",
            ]
        ),
        .target(
            name: "RatsboteClient",
            dependencies: [
                "RatsboteCrypto", "RatsboteWire", "RatsboteNoise", "RatsboteSession", "RatsboteNet",
                "RatsboteStorage", "RatsboteSupport",
            ]
        ),

        // Command-line programs.
        .executableTarget(name: "ratsbote", dependencies: ["RatsboteClient", "RatsboteSupport"]),
        .executableTarget(name: "ratsbote-relay", dependencies: ["RatsboteRelay", "RatsboteSupport"]),

        // Benchmarks: the Swift figures beside the same work done directly in C on libsodium.
        .target(name: "CSodiumBench", dependencies: ["CSodium", "CSQLite"], path: "Benchmarks/CSodiumBench"),
        .executableTarget(
            name: "ratsbote-bench",
            dependencies: [
                "RatsboteCrypto", "RatsboteSession", "RatsboteSupport", "CSodiumBench", "RatsboteNet", "RatsboteNoise",
                "RatsboteWire", "RatsboteClient", "RatsboteRelay",
            ],
            path: "Benchmarks/ratsbote-bench"
        ),

        // Tests.
        .target(name: "RatsboteTestSupport", dependencies: ["RatsboteSupport"], path: "Tests/RatsboteTestSupport"),
        .testTarget(name: "RatsboteCryptoTests", dependencies: ["RatsboteCrypto", "RatsboteTestSupport"]),
        .testTarget(name: "RatsboteWireTests", dependencies: ["RatsboteWire", "RatsboteCrypto", "RatsboteTestSupport"]),
        .testTarget(
            name: "RatsboteNoiseTests",
            dependencies: ["RatsboteNoise", "RatsboteNet", "RatsboteCrypto", "RatsboteTestSupport"],
            // The Python peer for the interoperability tests is run by path, not built.
            exclude: ["Interop"]
        ),
        .testTarget(name: "RatsboteSessionTests", dependencies: ["RatsboteSession", "RatsboteCrypto", "RatsboteTestSupport"]),
        .testTarget(name: "RatsboteSupportTests", dependencies: ["RatsboteSupport", "RatsboteTestSupport"]),
        .testTarget(name: "RatsboteStorageTests", dependencies: ["RatsboteStorage", "RatsboteTestSupport"]),
        .testTarget(
            name: "RatsboteRelayTests",
            dependencies: ["RatsboteRelay", "RatsboteClient", "RatsboteTestSupport"]
        ),
        .testTarget(
            name: "RatsboteClientTests",
            dependencies: ["RatsboteClient", "RatsboteRelay", "RatsboteTestSupport"]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["RatsboteTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
