// swift-tools-version: 6.0
//
// KnowledgePlane: a multi-tenant enterprise knowledge platform.
// Layout: `Shared/` holds the libraries every executable uses, layered from the C library
// modules at the bottom to the service kit at the top; `Services/` holds one folder per
// executable; `Tools/` holds development tools such as the protocol code generator.

import Foundation
import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Declares one of the platform's executables from `Services/<folder>`.
func service(_ name: String, folder: String, dependencies: [Target.Dependency]) -> Target {
  .executableTarget(
    name: name,
    dependencies: dependencies,
    path: "Services/\(folder)",
    swiftSettings: strictSettings
  )
}

/// The settings of the libraries every frame of every call runs through: the RPC runtime and
/// the protobuf layers. In release builds their accesses to class properties skip the runtime's
/// dynamic exclusivity checks, which cost about 3,000 instructions per side of a unary call
/// (bench/rpc); debug builds, and so every test run, keep them and trap on a conflicting access.
let hotPathSettings: [SwiftSetting] =
  strictSettings + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
  ]

/// Declares one of the shared Swift libraries from `Shared/<name>`.
func library(
  _ name: String,
  dependencies: [Target.Dependency],
  exclude: [String] = [],
  hotPath: Bool = false
) -> Target {
  .target(
    name: name,
    dependencies: dependencies,
    path: "Shared/\(name)",
    exclude: exclude,
    swiftSettings: hotPath ? hotPathSettings : strictSettings
  )
}

let serviceDependencies: [Target.Dependency] = [
  "KPServiceKit", "KPRPC", "KPProtocol", "KPLogging",
]

let package = Package(
  name: "KnowledgePlane",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "kp-gateway", targets: ["Gateway"]),
    .executable(name: "kp-auth", targets: ["Auth"]),
    .executable(name: "kp-tenants", targets: ["Tenants"]),
    .executable(name: "kp-knowledge", targets: ["Knowledge"]),
    .executable(name: "kp-ingest", targets: ["Ingest"]),
    .executable(name: "kp-agent", targets: ["Agent"]),
    .executable(name: "kp", targets: ["CLI"]),
    .executable(name: "kp-load", targets: ["Load"]),
    .executable(name: "kp-protogen", targets: ["ProtoGen"]),
    .executable(name: "kp-bench-rpc", targets: ["RPCBench"]),
    .executable(name: "kp-bench-tenants", targets: ["TenantsBench"]),
    .executable(name: "kp-bench-knowledge", targets: ["KnowledgeBench"]),
    .executable(name: "kp-bench-platform", targets: ["PlatformBench"]),
  ],
  targets: [
    // C library modules.
    .systemLibrary(name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "openssl"),
    .systemLibrary(name: "CProtobufC", path: "Shared/CProtobufC", pkgConfig: "libprotobuf-c"),
    .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq"),
    .systemLibrary(name: "CSystem", path: "Shared/CSystem"),
    .systemLibrary(name: "CHTTPParser", path: "Shared/CHTTPParser"),
    .systemLibrary(name: "CArgon2", path: "Shared/CArgon2", pkgConfig: "libargon2"),
    // Document formats: Markdown (cmark-gfm), HTML (gumbo) and PDF (poppler's GLib API).
    .systemLibrary(name: "CCmarkGFM", path: "Shared/CCmarkGFM", pkgConfig: "libcmark-gfm"),
    .systemLibrary(name: "CGumbo", path: "Shared/CGumbo", pkgConfig: "gumbo"),
    .systemLibrary(name: "CPoppler", path: "Shared/CPoppler", pkgConfig: "poppler-glib"),
    .target(name: "CKPShim", dependencies: ["COpenSSL"], path: "Shared/CKPShim"),

    // Generated protocol code: protoc-c output, then Swift types over it.
    // protoc-c's output includes its headers as "kp/wire/v1/wire.pb-c.h", relative to Generated/.
    .target(
      name: "KPProtoC", dependencies: ["CProtobufC"], path: "Shared/KPProtoC",
      cSettings: [.headerSearchPath("Generated")]),
    .target(
      name: "KPProtoDescriptorC", dependencies: ["CProtobufC"], path: "Shared/KPProtoDescriptorC",
      cSettings: [.headerSearchPath("Generated")]),
    library("KPProtoRuntime", dependencies: ["CProtobufC"], hotPath: true),
    library("KPProtocol", dependencies: ["KPProtoRuntime", "KPProtoC"], hotPath: true),

    // Logging, TLS, the RPC runtime, database access and the service kit.
    library("KPLogging", dependencies: []),
    library("KPTLS", dependencies: ["COpenSSL", "CKPShim", "KPLogging"]),
    // Access tokens and opaque secrets, verified offline by every service.
    library("KPTokens", dependencies: ["COpenSSL"]),
    library(
      "KPRPC",
      dependencies: [
        "KPTLS", "KPProtocol", "KPProtoRuntime", "KPProtoC", "CProtobufC", "CSystem", "KPLogging",
      ],
      hotPath: true),
    library("KPDatabase", dependencies: ["CLibPQ", "KPLogging"]),
    // HTTPS/1.1 on the RPC runtime's event loops, for the gateway's external REST API.
    library("KPHTTP", dependencies: ["KPRPC", "KPTLS", "KPLogging", "CHTTPParser", "CSystem"]),
    // Document normalisation, chunking, content hashes and search-query parsing for ingest and
    // the knowledge store; pure code over the C parsers, no database and no service.
    library(
      "KPDocuments", dependencies: ["CCmarkGFM", "CGumbo", "CPoppler", "COpenSSL", "KPTokens"]),
    library(
      "KPServiceKit",
      dependencies: ["KPRPC", "KPTLS", "KPDatabase", "KPLogging", "KPHTTP", "CSystem"]),
    library(
      "KPTesting",
      dependencies: [
        "KPServiceKit", "KPRPC", "KPDatabase", "KPTLS", "KPProtocol", "KPProtoRuntime", "COpenSSL",
        "CKPShim",
      ]),

    // Executables.
    service(
      "Gateway", folder: "Gateway",
      dependencies: serviceDependencies + ["KPHTTP", "KPTokens", "KPTLS", "KPProtoRuntime"]),
    service(
      "Auth", folder: "Auth",
      dependencies: serviceDependencies + ["KPTokens", "KPDatabase", "CArgon2"]),
    service("Tenants", folder: "Tenants", dependencies: serviceDependencies + ["KPDatabase"]),
    service(
      "Knowledge", folder: "Knowledge",
      dependencies: serviceDependencies + ["KPDatabase", "KPDocuments", "KPTokens"]),
    service(
      "Ingest", folder: "Ingest",
      dependencies: serviceDependencies + ["KPDatabase", "KPDocuments", "KPTokens"]),
    service("Agent", folder: "Agent", dependencies: serviceDependencies),
    service(
      "CLI", folder: "CLI",
      dependencies: serviceDependencies + ["KPHTTP", "KPTokens", "KPTLS", "KPDocuments"]),
    service(
      "Load", folder: "Load",
      dependencies: serviceDependencies + ["KPProtoRuntime", "KPTLS", "KPHTTP"]),
    .executableTarget(
      name: "ProtoGen",
      dependencies: ["KPProtoRuntime", "KPProtoDescriptorC"],
      path: "Tools/ProtoGen",
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "RPCBench",
      dependencies: ["KPRPC", "KPTLS", "KPProtocol", "KPProtoRuntime"],
      path: "Tools/RPCBench",
      swiftSettings: strictSettings
    ),

    .executableTarget(
      name: "TenantsBench",
      dependencies: ["KPRPC", "KPTLS", "KPProtocol", "KPDatabase", "KPTesting"],
      path: "Tools/TenantsBench",
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "KnowledgeBench",
      dependencies: [
        "KPRPC", "KPTLS", "KPProtocol", "KPDatabase", "KPDocuments", "KPTokens", "KPTesting",
      ],
      path: "Tools/KnowledgeBench",
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "PlatformBench",
      dependencies: [
        "KPRPC", "KPTLS", "KPProtocol", "KPDatabase", "KPDocuments", "KPTokens", "KPHTTP",
        "KPTesting",
      ],
      path: "Tools/PlatformBench",
      swiftSettings: strictSettings
    ),

    // Tests mirror the shared libraries.
    .testTarget(
      name: "KPProtocolTests",
      dependencies: ["KPProtocol", "KPProtoRuntime", "KPTesting"],
      path: "Tests/KPProtocolTests"
    ),
    .testTarget(
      name: "KPRPCTests",
      dependencies: ["KPRPC", "KPTLS", "KPTesting"],
      path: "Tests/KPRPCTests"
    ),
    .testTarget(
      name: "KPTLSTests",
      dependencies: ["KPTLS", "KPTesting"],
      path: "Tests/KPTLSTests"
    ),
    .testTarget(
      name: "KPDatabaseTests",
      dependencies: ["KPDatabase", "KPTesting"],
      path: "Tests/KPDatabaseTests"
    ),
    .testTarget(
      name: "KPDocumentsTests",
      dependencies: ["KPDocuments"],
      path: "Tests/KPDocumentsTests"
    ),
    .testTarget(
      name: "KPTokensTests",
      dependencies: ["KPTokens", "COpenSSL"],
      path: "Tests/KPTokensTests"
    ),
    .testTarget(
      name: "AuthTests",
      dependencies: ["Auth", "KPTokens", "KPTesting", "KPDatabase", "KPRPC", "KPProtocol"],
      path: "Tests/AuthTests"
    ),
    .testTarget(
      name: "TenantsTests",
      dependencies: ["Tenants", "KPTesting", "KPDatabase", "KPRPC", "KPProtocol", "KPTLS"],
      path: "Tests/TenantsTests"
    ),
    .testTarget(
      name: "KnowledgeTests",
      dependencies: ["Knowledge", "KPTesting", "KPDatabase", "KPRPC", "KPProtocol", "KPTLS"],
      path: "Tests/KnowledgeTests"
    ),
    .testTarget(
      name: "IngestTests",
      dependencies: ["Ingest", "KPTesting", "KPDatabase", "KPRPC", "KPProtocol", "KPTLS"],
      path: "Tests/IngestTests"
    ),
    .testTarget(
      name: "KPHTTPTests",
      dependencies: ["KPHTTP", "KPTLS", "KPRPC", "KPTesting", "CHTTPParser"],
      path: "Tests/KPHTTPTests"
    ),
    .testTarget(
      name: "GatewayTests",
      dependencies: [
        "Gateway", "KPTesting", "KPRPC", "KPProtocol", "KPTLS", "KPHTTP", "KPTokens",
      ],
      path: "Tests/GatewayTests"
    ),
    .testTarget(
      name: "LoadTests",
      dependencies: ["Load", "KPTesting", "KPServiceKit", "KPRPC", "KPProtocol", "KPTLS"],
      path: "Tests/LoadTests"
    ),
    .testTarget(
      name: "EndToEndTests",
      dependencies: ["KPTesting"],
      path: "Tests/EndToEndTests"
    ),
    .testTarget(
      name: "KPServiceKitTests",
      dependencies: ["KPServiceKit", "KPTesting", "KPRPC", "KPProtocol", "KPTLS"],
      path: "Tests/KPServiceKitTests"
    ),
  ]
)

// The libFuzzer target exists only when asked for: it has no `main` of its own (libFuzzer
// supplies one), so it links only in a `swift build --sanitize=fuzzer` (see `scripts/fuzz`).
if ProcessInfo.processInfo.environment["KP_FUZZ"] == "1" {
  package.products.append(.executable(name: "kp-fuzz-frames", targets: ["FrameFuzzer"]))
  package.targets.append(
    .executableTarget(
      name: "FrameFuzzer",
      dependencies: ["KPRPC"],
      path: "Fuzz/FrameFuzzer",
      swiftSettings: strictSettings
    ))
}
