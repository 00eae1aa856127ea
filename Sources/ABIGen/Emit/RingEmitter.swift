// Emits the ring layouts: for every DEFINE_RING_TYPES instance a type conforming to
// XenRingLayout (entry types, index offsets, sizes), for every byte ring a XenByteRingLayout, for
// every flex ring a XenFlexRingLayout. Only numbers and names: the protocol is written once, in
// XenABI/Rings. Also emits the C reference's instance list and the Swift cases that pair each
// ring with it for the differential tests.

struct RingEmitter: Emitter {
    let model: ABIModel
    let types: SwiftTypes
    let provenance: String
    /// Every ring instance of the model, resolved once (the expressibility step admits only
    /// rings that resolve).
    let rings: [Resolved]
    /// The guest view's flex rings, with their Swift names.
    let flexRings: [(ring: FlexRingInstance, swiftName: String)]
    /// Swift names the layer already uses: a layout that would collide gets a suffix.
    let taken: Set<String>

    /// A ring with everything the emitters need, resolved from the model.
    struct Resolved {
        var ring: RingInstance
        var swiftName: String
        var request: String
        var response: String
        var header: String
        var visibility: Visibility
        var offsets: [String: Int]
        var entryStride: Int
    }

    init(model: ABIModel, types: SwiftTypes, provenance: String) {
        self.model = model
        self.types = types
        self.provenance = provenance
        let taken = Set(model.types.map(\.swiftName)).union(model.constants.map(\.name))
        self.taken = taken
        func unique(_ name: String, else suffix: String) -> String { taken.contains(name) ? name + suffix : name }
        rings = model.rings.map { r in
            guard var resolved = Self.resolve(r, types: types) else { preconditionFailure("the expressibility step admits only rings that resolve: \(r.name)") }
            resolved.swiftName = unique(resolved.swiftName, else: "_layout")
            return resolved
        }
        // Byte and flex rings are guest-view interfaces (the expressibility step refuses others).
        flexRings = (model.flexRings ?? []).map { ($0, unique("\($0.name)_flex_ring", else: "_layout")) }
    }

    /// A ring's entry types and index offsets from its `_sring` and `_sring_entry` types; nil
    /// where the model lacks one of them.
    static func resolve(_ r: RingInstance, types: SwiftTypes) -> Resolved? {
        guard let entry = types.index["union \(r.name)_sring_entry"], let ef = entry.fields, ef.count == 2,
              let sring = types.index["struct \(r.name)_sring"], let sf = sring.fields,
              let req = types.spelling(ef[0].type), let rsp = types.spelling(ef[1].type) else { return nil }
        var offsets: [String: Int] = [:]
        for f in sf { if let n = f.name { offsets[n] = f.offset } }
        guard ["req_prod", "req_event", "rsp_prod", "rsp_event", "pvt", "ring"].allSatisfy({ offsets[$0] != nil }) else { return nil }
        return Resolved(ring: r, swiftName: "\(r.name)_ring", request: req, response: rsp,
                        header: r.location.header, visibility: sring.visibility, offsets: offsets, entryStride: entry.size)
    }

    func emit() -> [GeneratedFile] {
        [GeneratedFile(path: "Swift/Guest/_Rings.swift", contents: fileHeader(model, provenance, "ring layouts for XenABI/Rings") + layouts(view: .guest)),
         GeneratedFile(path: "Swift/Tools/_Rings.swift", contents: fileHeader(model, provenance, "ring layouts of the tools view", imports: ["XenABI"]) + layouts(view: .toolsOnly)),
         GeneratedFile(path: "Swift/RingTestCases/RingCases.swift", contents: fileHeader(model, provenance, "the differential ring cases") + testCases()),
         GeneratedFile(path: "check/ring_reference_instances.h", contents: cReferenceInstances())]
    }

    func layouts(view: Visibility) -> String {
        var s = view == .guest ? SwiftSupport.ringProtocols + "\n\n" : ""
        for r in rings where r.visibility == view {
            let o = r.offsets
            s += """
            /// `DEFINE_RING_TYPES(\(r.ring.name), \(r.ring.request), \(r.ring.response))` (\(r.header):\(r.ring.location.line)):
            /// \(r.ring.pageRingSize) entries of \(r.entryStride) bytes in a one-page ring.
            public enum \(r.swiftName): XenRingLayout {
                public typealias Request = \(r.request)
                public typealias Response = \(r.response)
                public static var name: StaticString { "\(r.ring.name)" }
                public static var requestProducerOffset: Int { \(o["req_prod"]!) }
                public static var requestEventOffset: Int { \(o["req_event"]!) }
                public static var responseProducerOffset: Int { \(o["rsp_prod"]!) }
                public static var responseEventOffset: Int { \(o["rsp_event"]!) }
                public static var privateAreaOffset: Int { \(o["pvt"]!) }
                public static var entriesOffset: Int { \(o["ring"]!) }
                public static var entryStride: Int { \(r.entryStride) }
                public static var pageRingSize: RING_IDX { \(r.ring.pageRingSize) }
            }


            """
        }
        guard view == .guest else { return s }
        var interfaces: [String] = []
        for b in model.byteRings ?? [] {
            let t = types.index[b.interface]!
            if !interfaces.contains(b.interface) { interfaces.append(b.interface) }
            var name = "\(t.swiftName)_\(b.buffer)"
            if taken.contains(name) { name += "_ring" }
            s += """
            /// The `\(b.buffer)` byte ring of `\(b.interface)` (\(b.location.header):\(b.location.line)): \(b.capacity) bytes,
            /// indexed by the free-running `\(b.buffer)_cons` and `\(b.buffer)_prod`.
            public enum \(name): XenByteRingLayout {
                public static var name: StaticString { "\(t.cName).\(b.buffer)" }
                public static var dataOffset: Int { \(b.dataOffset) }
                public static var capacity: RING_IDX { \(b.capacity) }
                public static var consumerOffset: Int { \(b.consumerOffset) }
                public static var producerOffset: Int { \(b.producerOffset) }
            }


            """
        }
        // The other fields of a byte-ring page (xenstore's features, connection and error) are
        // read one at a time from shared memory, by offset.
        for key in interfaces {
            let t = types.index[key]!, fields = t.fields ?? []
            s += "extension \(t.swiftName) {\n    /// Field offsets, for single accesses to the shared page.\n    public enum FieldOffset {\n"
            for f in fields { if let n = f.name { s += "        public static var \(Naming.identifier(n)): Int { \(f.offset) }\n" } }
            s += "    }\n}\n\n"
        }
        for (f, name) in flexRings {
            s += """
            /// The flex ring `\(f.name)` (`struct \(f.name)_data`, interface `\(f.interface)`, \(f.location.header):\(f.location.line)).
            public enum \(name): XenFlexRingLayout {
                public static var name: StaticString { "\(f.name)" }
                public static var inConsumerOffset: Int { \(f.inConsumerOffset) }
                public static var inProducerOffset: Int { \(f.inProducerOffset) }
                public static var outConsumerOffset: Int { \(f.outConsumerOffset) }
                public static var outProducerOffset: Int { \(f.outProducerOffset) }
                public static var ringOrderOffset: Int { \(f.ringOrderOffset) }
                public static var referencesOffset: Int { \(f.referencesOffset) }
            }


            """
        }
        return s
    }

    /// The C reference's instance list: every guest ring, instantiated with ring.h's own macros
    /// by Tests/RingReference.
    func cReferenceInstances() -> String {
        let rings = rings.filter { $0.visibility == .guest }
        var s = "/* Generated by \(provenance)\n * Xen \(model.xenVersion), \(model.target): every ring instance of the guest view, for Tests/RingReference.\n * Do not edit: regenerate. */\n\n"
        for h in Set(rings.map(\.header) + flexRings.map(\.ring.location.header)).sorted() { s += "#include <xen/\(h)>\n" }
        s += "\n#define RING_REFERENCE_INSTANCES(X) \\\n"
        s += rings.map { "    X(\($0.ring.name))" }.joined(separator: " \\\n") + "\n\n"
        s += "#define FLEX_RING_REFERENCE_INSTANCES(X) \\\n"
        s += (flexRings.isEmpty ? "    /* none */" : flexRings.map { "    X(\($0.ring.name))" }.joined(separator: " \\\n")) + "\n"
        return s
    }

    /// Swift cases pairing each guest ring with its C reference.
    func testCases() -> String {
        var s = "import XenABI\n\n/// Every guest ring's layout with the C reference built from ring.h's macros.\n"
        s += "let generatedRingCases: [RingCase] = [\n"
        for r in rings where r.visibility == .guest {
            s += "    RingCase(name: \"\(r.ring.name)\") { try $0.run(\(r.swiftName).self) },\n"
        }
        s += "]\n\n/// Every flex ring's layout with the C reference built from DEFINE_XEN_FLEX_RING.\n"
        s += "let generatedFlexRingCases: [FlexRingCase] = [\n"
        for (f, name) in flexRings {
            s += "    FlexRingCase(name: \"\(f.name)\") { try $0.run(\(name).self) },\n"
        }
        s += "]\n"
        return s
    }
}
