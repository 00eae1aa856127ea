// Shared test plumbing: the package root, the built abigen, fixture header trees, the real model.
import Foundation
@testable import ABIGen

enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let spec = packageRoot.appendingPathComponent("Specs/xen.yaml")
    static let generated = packageRoot.appendingPathComponent("Generated/xen-4.17")
    static let installedHeaders = URL(fileURLWithPath: "/usr/include/xen")

    /// The abigen that `swift build` made before the tests (tests must not build: SwiftPM's lock).
    static var abigen: URL {
        if let p = ProcessInfo.processInfo.environment["ABIGEN_BIN"] { return URL(fileURLWithPath: p) }
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("abigen")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/abigen")
    }
}

struct CommandResult { var status: Int32; var stdout: String; var stderr: String }

func runAbigen(_ args: [String], in directory: URL? = nil) throws -> CommandResult {
    try runTool(Paths.abigen, args, in: directory)
}

/// Runs one of the package's built tools with no standard input and collects what it printed.
func runTool(_ executable: URL, _ args: [String], in directory: URL? = nil) throws -> CommandResult {
    let p = Process()
    p.executableURL = executable
    p.standardInput = FileHandle.nullDevice
    p.arguments = args
    p.currentDirectoryURL = directory ?? Paths.packageRoot
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func temporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("abigen-test-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A small header tree of our own, shaped like Xen's (xen.h, xen-compat.h, io/...), with the
/// constructs the generator must handle. Tests add or replace files to make it odd.
struct FixtureTree {
    let root: URL

    static let compat = """
        #ifndef FIXTURE_COMPAT_H
        #define FIXTURE_COMPAT_H
        #define __XEN_LATEST_INTERFACE_VERSION__ 0x00040e00
        #if defined(__XEN__) || defined(__XEN_TOOLS__)
        #undef __XEN_INTERFACE_VERSION__
        #define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
        #elif !defined(__XEN_INTERFACE_VERSION__)
        #define __XEN_INTERFACE_VERSION__ 0x00000000
        #endif
        #endif

        """

    static let xen = """
        #ifndef FIXTURE_XEN_H
        #define FIXTURE_XEN_H
        #include "xen-compat.h"
        #define xen_mk_uint(x) x##U
        #define xen_mk_ulong(x) x##UL
        typedef uint16_t domid_t;
        #define DOMID_SELF xen_mk_uint(0x7FF0)
        #define FLUSH_ALL xen_mk_ulong(4)
        #define FIXTURE_NAME "fixture-abi"
        #define FIXTURE_NEGATIVE (-22)
        #define FIXTURE_EMPTY_MARKER
        #define FIXTURE_OP_alpha 0
        #define FIXTURE_OP_beta 1
        #define __HYPERVISOR_fixture_op 7
        #define ___DEFINE_GUEST_HANDLE(name, type) typedef struct { type *p; } __guest_handle_ ## name
        ___DEFINE_GUEST_HANDLE(uint8, uint8_t);
        struct fixture_alpha { uint32_t port; };
        struct fixture_beta { domid_t dom; uint64_t value; };
        enum fixture_state { fixture_state_unknown = 0, fixture_state_ready = 3 };
        #endif

        """

    static let demo = """
        #ifndef FIXTURE_DEMO_H
        #define FIXTURE_DEMO_H
        #include "../xen.h"
        struct demo_regs {
            union { uint64_t rax; uint32_t eax; struct { uint8_t al, ah; }; };
            uint16_t cs;
        };
        struct demo_bits {
            uint8_t state:4;
            uint8_t ptr:1;
            int8_t neg:3;
            uint8_t type;
            uint32_t wide:20;
        };
        struct demo_tail { uint8_t tag; uint8_t data[]; };
        struct demo_aligned_tail { uint32_t count; uint64_t values[]; };
        enum { DEMO_FEATURE_A = 1, DEMO_FEATURE_B = 5 };
        typedef enum { demo_typed_a, demo_typed_b } demo_typed_t;
        struct demo_nested { uint8_t kind; union { uint32_t word; uint8_t bytes[4]; } u; };
        #define FIX_RD2(x)  (((x) & 2) ? 2 : ((x) & 1))
        #define FIX_RD4(x)  (((x) & 0xc) ? FIX_RD2((x) >> 2) << 2 : FIX_RD2(x))
        #define FIX_RD8(x)  (((x) & 0xf0) ? FIX_RD4((x) >> 4) << 4 : FIX_RD4(x))
        #define FIX_RD16(x) (((x) & 0xff00) ? FIX_RD8((x) >> 8) << 8 : FIX_RD8(x))
        #define __CONST_RING_SIZE(_s, _sz) FIX_RD16(((_sz) - __builtin_offsetof(struct _s##_sring, ring)) / sizeof(((struct _s##_sring *)0)->ring[0]))
        struct demo_req { uint64_t id; };
        struct demo_rsp { uint64_t id; int16_t status; };
        union demo_sring_entry { struct demo_req req; struct demo_rsp rsp; };
        typedef uint32_t RING_IDX;
        struct demo_sring { RING_IDX req_prod, req_event; RING_IDX rsp_prod, rsp_event; uint8_t pvt[4]; uint8_t __pad[44]; union demo_sring_entry ring[1]; };
        #define DEMO_RING_SIZE __CONST_RING_SIZE(demo, 4096)
        #if defined(__XEN_TOOLS__)
        struct demo_toolsonly { uint64_t secret; };
        #define DEMO_TOOLS_ONLY 42
        #endif
        #endif

        """

    static let emptySpec = "families: []\nhypercalls: []\n"

    static func make(_ name: String = #function, extra: [String: String] = [:]) throws -> FixtureTree {
        let root = try temporaryDirectory(name).appendingPathComponent("xen")
        var files = ["xen-compat.h": compat, "xen.h": xen, "io/demo.h": demo]
        for (k, v) in extra { files[k] = v }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try emptySpec.write(to: root.deletingLastPathComponent().appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        return FixtureTree(root: root)
    }

    var spec: URL { root.deletingLastPathComponent().appendingPathComponent("spec.yaml") }
    var output: URL { root.deletingLastPathComponent().appendingPathComponent("out") }

    func writeSpec(_ text: String) throws { try text.write(to: spec, atomically: true, encoding: .utf8) }

    func model() throws -> ABIModel {
        let tree = try HeaderTree(root: root)
        defer { tree.removeStaging() }
        var m = try ModelBuilder(tree: tree, options: GenerationOptions(xenVersion: "9.9")).build()
        try SpecApplier(spec: try Spec.load(spec)).apply(to: &m)
        return m
    }

    func regenerate(_ extra: [String] = []) throws -> CommandResult {
        try runAbigen(["regenerate", "--headers", root.path, "--xen-version", "9.9", "--spec", spec.path, "--output", output.path] + extra)
    }
}

/// The model of the installed 4.17 headers, built once for the tests that read it.
enum RealHeaders {
    static let model: ABIModel = {
        let tree = try! HeaderTree(root: Paths.installedHeaders)
        defer { tree.removeStaging() }
        let generator = Generator(tree: tree, options: GenerationOptions(xenVersion: "4.17"), spec: try! Spec.load(Paths.spec), provenance: "test")
        return try! generator.model()
    }()

    static func type(_ key: String) -> TypeDecl? { model.type(key) }
    static func constant(_ name: String) -> Constant? { model.constants.first { $0.name == name } }
}
