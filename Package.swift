// swift-tools-version:6.0
import PackageDescription

// mcpctl has no package dependencies: only the toolchain and system libraries.
let package = Package(
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
        .target(name: "MCPAuth", dependencies: ["CSQLite"]),
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
