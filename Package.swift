// swift-tools-version:6.0
import PackageDescription

// mcpctl has no package dependencies: only the toolchain and system libraries.
var package = Package(
    name: "mcpctl",
    products: [
        .executable(name: "mcpctl", targets: ["mcpctl"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Declarations only: libpq itself is loaded at run time by the first postgresql:// store, so no
        // pkgConfig (its `-lpq` would make every binary need libpq5; see Sources/CLibPQ/module.modulemap).
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "MCPAuth", dependencies: ["CSQLite", "CLibPQ"]),
        .target(name: "HTTP"),
        .target(name: "MCPGateway", dependencies: ["MCPAuth", "HTTP"]),
        .target(name: "OAuthServer", dependencies: ["MCPAuth", "HTTP"]),
        .target(name: "Commands", dependencies: ["MCPAuth", "HTTP", "MCPGateway", "OAuthServer"]),
        .executableTarget(name: "mcpctl", dependencies: ["Commands"]),
        .testTarget(name: "MCPAuthTests", dependencies: ["MCPAuth"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "CommandsTests", dependencies: ["Commands", "MCPAuth"]),
        .testTarget(name: "MCPGatewayTests", dependencies: ["MCPGateway", "MCPAuth", "HTTP"]),
        .testTarget(name: "OAuthServerTests", dependencies: ["OAuthServer", "MCPAuth", "HTTP"]),
        .testTarget(name: "InteropTests", dependencies: ["MCPAuth"]),
    ]
)

// libFuzzer targets (Tests/Fuzz/README.md): declared only when MCPCTL_FUZZ=1, because they link only with
// `-sanitize=fuzzer` (libFuzzer), which Tests/Fuzz/run.sh passes in its own scratch path.
// Each reaches internal parser types through `@testable import`, so that build also passes `-enable-testing`.
if Context.environment["MCPCTL_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzHTTPRequest", ["HTTP"]),
        ("FuzzChunked", ["HTTP"]),
        ("FuzzSSE", ["HTTP"]),
        ("FuzzJSONRPC", ["MCPGateway", "MCPAuth"]),
        ("FuzzForm", ["HTTP"]),
        ("FuzzArguments", ["Commands"]),
        ("FuzzTokens", ["MCPAuth"]),
    ]
    package.targets.append(.target(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Tests/Fuzz/FuzzSupport"))
    for fuzz in fuzzTargets {
        package.products.append(.executable(name: fuzz.name, targets: [fuzz.name]))
        package.targets.append(.executableTarget(name: fuzz.name, dependencies: fuzz.dependencies + ["FuzzSupport"], path: "Tests/Fuzz/\(fuzz.name)"))
    }
}
