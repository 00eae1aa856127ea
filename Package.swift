// swift-tools-version: 6.1
import PackageDescription

// Debian's libclang-dev (clang 14) installs its headers under the LLVM prefix
// and ships no pkg-config file, so the package names the prefix itself.
let llvmPrefix = "/usr/lib/llvm-14"
let libclangFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvmPrefix)/include"])]
let libclangLink: [LinkerSetting] = [.unsafeFlags(["-L\(llvmPrefix)/lib"])]

let package = Package(
    name: "XenSwift",
    products: [
        .executable(name: "abigen", targets: ["abigen"]),
        .library(name: "XenABI", targets: ["XenABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // libclang's C API: the only C library the generator talks to.
        .systemLibrary(name: "CClang", path: "Sources/CClang"),
        // headers -> clang front -> ABI model -> specs -> emitters; diff on the model.
        .target(
            name: "ABIGen",
            dependencies: ["CClang", .product(name: "Yams", package: "Yams")],
            swiftSettings: libclangFlags,
            linkerSettings: libclangLink),
        // The command: argument parsing and wiring only.
        .executableTarget(
            name: "abigen",
            dependencies: ["ABIGen", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: libclangFlags,
            linkerSettings: libclangLink),
        // The generated layer for the pinned Xen version (Sources/XenABI/Generated links to
        // Generated/xen-4.17/Swift/Guest) plus the hand-written primitives. Builds on the host and,
        // with -enable-experimental-feature Embedded, for x86_64-unknown-none-elf.
        .target(name: "XenABI", dependencies: ["XenHypercallPage"]),
        // The one hand-written way into Xen: a call through the hypercall page (inline asm).
        .target(name: "XenHypercallPage"),
        // The tools-only view (__XEN_TOOLS__: domctl, sysctl, ...), host only.
        .target(name: "XenToolsABI", dependencies: ["XenABI"], path: "Sources/XenToolsABI"),
        // Call sites of generated wrappers for Benchmarks/hypercall-zero-cost.sh (Embedded only).
        .target(name: "ZeroCostProbe", dependencies: ["XenABI"], path: "Benchmarks/ZeroCostProbe"),
        .testTarget(
            name: "ABIGenTests",
            dependencies: ["ABIGen", "XenABI", "XenToolsABI"],
            swiftSettings: libclangFlags,
            linkerSettings: libclangLink),
    ],
    swiftLanguageModes: [.v5]
)
