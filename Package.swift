// swift-tools-version: 6.1
import PackageDescription

// Debian's libclang-dev (clang 14) installs its headers under the LLVM prefix
// and ships no pkg-config file, so the package names the prefix itself.
let llvmPrefix = "/usr/lib/llvm-14"
let libclangFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvmPrefix)/include"])]
let libclangLink: [LinkerSetting] = [.unsafeFlags(["-L\(llvmPrefix)/lib"])]

// The guest kernel is Embedded Swift for x86_64-unknown-none-elf: its targets exist only when
// `xen-guest build` asks for them (XENSWIFT_KERNEL=1, its own scratch path), so host builds and
// tests never compile them, and they never compile host code.
let kernelBuild = Context.environment["XENSWIFT_KERNEL"] == "1"
// -enforce-exclusivity=unchecked: the Embedded runtime's swift_beginAccess and swift_endAccess
// are empty (no dynamic exclusivity checking there), so the dynamic checks were only calls to
// nothing around every global access (9.7 KB); the compiler's static checks stay.
let kernelSwiftFlags = [
    "-Osize", "-wmo", "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections",
    "-enforce-exclusivity=unchecked",
    "-Xcc", "-mno-red-zone", "-Xcc", "-fno-pic", "-Xcc", "-ffreestanding", "-Xcc", "-fomit-frame-pointer",
]
let kernelCFlags = ["-mno-red-zone", "-fno-pic", "-ffreestanding", "-fno-stack-protector", "-fomit-frame-pointer"]
let embedded: [SwiftSetting] = kernelBuild ? [.enableExperimentalFeature("Embedded"), .unsafeFlags(kernelSwiftFlags)] : []
// The kernel's build profile (`xen-guest build --profile`, each in its own scratch path):
// `all` (the default) has every self-test; `domu` leaves Sources/GuestKernel/SelfTests out and
// keeps what a domU runs (console ring, xenstore, xenbus, control, netfront, the net stack).
let kernelProfile = Context.environment["XENSWIFT_PROFILE"] ?? "all"
let selfTests = kernelProfile != "domu"

let package = Package(
    name: "XenSwift",
    products: [
        .executable(name: "abigen", targets: ["abigen"]),
        .library(name: "XenABI", targets: ["XenABI"]),
        .executable(name: "xen-guest", targets: ["xen-guest"]),
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
        .target(name: "XenABI", dependencies: ["XenHypercallPage", "XenSharedMemory"], swiftSettings: embedded),
        // Platform-free device protocols (xenstore client, xenbus, PV console), generic over a
        // platform the kernel or a host test supplies. Builds on the host and in Embedded Swift.
        .target(name: "XenDevices", dependencies: ["XenABI"], swiftSettings: embedded),
        // The one hand-written way into Xen: a call through the hypercall page (inline asm).
        .target(name: "XenHypercallPage", cSettings: kernelBuild ? [.unsafeFlags(kernelCFlags)] : []),
        // The other hand-written primitives: barriers and single accesses to memory a peer can write.
        .target(name: "XenSharedMemory", cSettings: kernelBuild ? [.unsafeFlags(kernelCFlags)] : []),
        // The tools-only view (__XEN_TOOLS__: domctl, sysctl, ...), host only.
        .target(name: "XenToolsABI", dependencies: ["XenABI"], path: "Sources/XenToolsABI"),
        // `xen-guest build` and `xen-guest boot`: the kernel's build and its boot under real Xen.
        .target(name: "XenGuestHarness"),
        .executableTarget(
            name: "xen-guest",
            dependencies: ["XenGuestHarness", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Benchmarks/ring-throughput.sh's Swift side: the ring API on two threads.
        .executableTarget(name: "ring-throughput", dependencies: ["XenABI"], path: "Benchmarks/RingThroughput"),
        // Call sites of generated wrappers for Benchmarks/hypercall-zero-cost.sh (Embedded only).
        .target(name: "ZeroCostProbe", dependencies: ["XenABI"], path: "Benchmarks/ZeroCostProbe"),
        .testTarget(
            name: "ABIGenTests",
            dependencies: ["ABIGen", "XenABI", "XenToolsABI", "XenGuestHarness"],
            swiftSettings: libclangFlags,
            linkerSettings: libclangLink),
        // The C reference for the ring tests: ring.h's macros over every instance of the installed
        // headers (the interface version the committed layer was generated at).
        .target(
            name: "RingReference",
            path: "Tests/RingReference",
            cSettings: [.define("__XEN_INTERFACE_VERSION__", to: "0x00040e00"), .unsafeFlags(["-O2"])]),
        // The ring engine's barrier paths, compiled for the kernel (Embedded) by scripts/test and
        // disassembled by RingTests.
        .target(name: "RingFenceProbe", dependencies: ["XenABI"], path: "Tests/RingFenceProbe"),
        // The rings against the C reference, against themselves on two threads, and against a
        // hostile peer.
        .testTarget(name: "RingTests", dependencies: ["XenABI", "RingReference"]),
        // Every XenDevices driver specialised for the kernel (Embedded), built by scripts/test.
        .target(name: "XenDevicesProbe", dependencies: ["XenDevices", "XenABI"], path: "Tests/XenDevicesProbe"),
        // The device layer against a simulated platform and a scriptable, hostile xenstored.
        .testTarget(name: "XenDevicesTests", dependencies: ["XenDevices", "XenABI"]),
    ] + (kernelBuild ? kernelTargets : []),
    swiftLanguageModes: [.v5]
)

/// The kernel: boot stub (ELF notes, entry, hypercall page), runtime symbols, and the kernel.
var kernelTargets: [Target] {
    [
        .target(
            name: "GuestKernelBoot",
            exclude: ["kernel.ld"],
            cSettings: [.headerSearchPath("../../Generated/xen-4.17/include"), .unsafeFlags(kernelCFlags)]),
        .target(
            name: "GuestKernelRuntime",
            dependencies: ["XenABI"],
            // Loop idiom recognition would turn memset's own loop into a call to memset.
            swiftSettings: embedded + [.unsafeFlags(["-Xllvm", "-disable-loop-idiom-all"])]),
        .executableTarget(
            name: "GuestKernel",
            dependencies: ["XenABI", "XenDevices", "GuestKernelBoot", "GuestKernelRuntime"],
            exclude: selfTests ? [] : ["SelfTests"],
            swiftSettings: embedded + (Context.environment["XENSWIFT_INJECT_FAILURE"] == "1" ? [.define("GUEST_INJECT_FAILURE")] : [])
                + (selfTests ? [.define("GUEST_SELF_TESTS")] : []),
            linkerSettings: [.unsafeFlags([
                "-Xclang-linker", "-nostdlib", "-Xclang-linker", "-static", "-Xclang-linker", "-fuse-ld=lld",
                "-Xlinker", "-T", "-Xlinker", Context.packageDirectory + "/Sources/GuestKernelBoot/kernel.ld",
                "-Xlinker", "--gc-sections", "-Xlinker", "--icf=all",
                // `xen-guest build` links with LTO (SwiftPM's --experimental-lto-mode full): one
                // optimisation over every module, so what XenDevices and XenABI hand the kernel is
                // inlined and dropped across the module boundary (-9 KB). clang's driver refuses
                // bitcode for the bare-metal triple ("unable to pass LLVM bit-code files to
                // linker") though ld.lld reads it; the Linux driver passes it on, and with
                // -nostdlib and -static it adds no start files or libraries, only library search
                // paths nothing uses. The modules keep their own triple.
                "-Xclang-linker", "--target=x86_64-unknown-linux-gnu",
                // LLVM's machine outliner: repeated instruction sequences (register saves, a
                // Console.write call with its arguments) become one call (-1.4 KB). Off by
                // default on x86_64; size is what this kernel is measured by.
                "-Xlinker", "-mllvm", "-Xlinker", "-enable-machine-outliner",
            ])]),
    ]
}
