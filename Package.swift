// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "hearings",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hearings", targets: ["hearings"]),
        .library(name: "Journal", targets: ["Journal"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // liblz4's frame API (lz4frame.h); apt provider liblz4-dev.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // OpenSSL's libcrypto, for the journal's SHA-256 hash chain; apt provider libssl-dev.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "Journal",
            dependencies: ["CLZ4", "CLibCrypto"]
        ),
        .target(
            name: "FaultInjection",
            dependencies: ["Journal"]
        ),
        .target(
            name: "Store",
            dependencies: [
                "Journal", .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for binding the one-row statements replay runs per mutation.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "Congress",
            dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Resources/sample")]
        ),
        .target(
            name: "Updater",
            dependencies: [
                "Journal", "Store", "Congress", .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for rebuild's replay (statements bound from the journal line's bytes).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "hearings",
            dependencies: [
                "Journal",
                "Store",
                "Congress",
                "Updater",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "JournalBenchmark",
            dependencies: ["Journal"]
        ),
        .executableTarget(
            name: "UpdaterBenchmark",
            dependencies: ["Updater"]
        ),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "FaultInjection"]),
        .testTarget(
            name: "StoreTests", dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "CongressTests",
            dependencies: ["Congress", "Store", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "UpdaterTests",
            dependencies: [
                "Updater", "Journal", "Store", "Congress", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures", "Golden"]
        ),
    ]
)

// Package-wide settings, applied once (as swift-log does).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    target.swiftSettings = settings
}
