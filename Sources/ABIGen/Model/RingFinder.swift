// Finds the headers' DEFINE_RING_TYPES instantiations from the types they leave behind.

enum RingFinder {
    /// `DEFINE_RING_TYPES(name, req, rsp)` defines `union name_sring_entry { req_t req; rsp_t rsp; }`
    /// and `struct name_sring { ...; union name_sring_entry ring[1]; }`: that pair is the instance.
    static func rings(in model: ABIModel) -> [RingInstance] {
        let index = model.typeIndex
        var out: [RingInstance] = []
        for t in model.types where t.kind == .union && t.key.hasPrefix("union ") && t.key.hasSuffix("_sring_entry") {
            guard let fields = t.fields, fields.count == 2, fields[0].name == "req", fields[1].name == "rsp" else { continue }
            let name = String(t.key.dropFirst("union ".count).dropLast("_sring_entry".count))
            guard let sring = index["struct \(name)_sring"],
                  let ring = sring.fields?.first(where: { $0.name == "ring" }) else { continue }
            out.append(RingInstance(name: name, request: fields[0].cType, response: fields[1].cType,
                                    location: t.location, pageRingSize: pageRingSize(ringOffset: ring.offset, entrySize: t.size)))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// `__CONST_RING_SIZE(name, 4096)`: the entries that fit after the header, rounded down to a
    /// power of two.
    static func pageRingSize(ringOffset: Int, entrySize: Int, pageSize: Int = 4096) -> Int {
        guard entrySize > 0 else { return 0 }
        let fit = (pageSize - ringOffset) / entrySize
        var n = 1
        while n * 2 <= fit { n *= 2 }
        return fit == 0 ? 0 : n
    }

    /// A struct with a `char NAME[N]` (N a power of two) and 32-bit `NAME_cons` and `NAME_prod`
    /// fields is one direction of a byte ring: the console's and xenstore's pages.
    static func byteRings(in model: ABIModel) -> [ByteRingInstance] {
        let types = RingFieldTypes(model: model)
        var out: [ByteRingInstance] = []
        for t in model.types where t.kind == .struct && t.key.hasPrefix("struct ") {
            guard let fields = t.fields else { continue }
            let byName = Dictionary(fields.compactMap { f in f.name.map { ($0, f) } }, uniquingKeysWith: { a, _ in a })
            for f in fields {
                guard let name = f.name, case let .array(element, count) = f.type, count > 0, count & (count - 1) == 0,
                      types.isByte(element),
                      let cons = byName[name + "_cons"], let prod = byName[name + "_prod"],
                      types.isUInt32(cons.type), types.isUInt32(prod.type) else { continue }
                out.append(ByteRingInstance(interface: t.key, buffer: name, dataOffset: f.offset, capacity: count,
                                            consumerOffset: cons.offset, producerOffset: prod.offset, location: t.location))
            }
        }
        return out.sorted { ($0.interface, $0.buffer) < ($1.interface, $1.buffer) }
    }

    /// `DEFINE_XEN_FLEX_RING(name)` leaves `struct name_data { unsigned char *in, *out; }`; its
    /// interface is `struct name_data_intf` with `in_cons`, `in_prod`, `out_cons`, `out_prod`,
    /// `ring_order` and `ref[]` (defined by the _AND_INTF form, or by hand as pvcalls does).
    static func flexRings(in model: ABIModel) -> [FlexRingInstance] {
        let index = model.typeIndex
        var out: [FlexRingInstance] = []
        for t in model.types where t.kind == .struct && t.key.hasPrefix("struct ") && t.key.hasSuffix("_data") {
            guard let fields = t.fields, fields.map(\.name) == ["in", "out"] else { continue }
            let name = String(t.key.dropFirst("struct ".count).dropLast("_data".count))
            guard let intf = index["struct \(name)_data_intf"], let f = intf.fields else { continue }
            func offset(_ n: String) -> Int? { f.first { $0.name == n }?.offset }
            guard let ic = offset("in_cons"), let ip = offset("in_prod"), let oc = offset("out_cons"), let op = offset("out_prod"),
                  let order = offset("ring_order"), let ref = offset("ref") else { continue }
            out.append(FlexRingInstance(name: name, interface: intf.key, inConsumerOffset: ic, inProducerOffset: ip,
                                        outConsumerOffset: oc, outProducerOffset: op, ringOrderOffset: order,
                                        referencesOffset: ref, location: intf.location))
        }
        return out.sorted { $0.name < $1.name }
    }
}

/// Just enough type resolution for the finders: through typedefs to the integer underneath.
struct RingFieldTypes {
    let index: [String: TypeDecl]
    init(model: ABIModel) { index = model.typeIndex }

    func integer(_ ref: TypeRef) -> (bits: Int, signed: Bool)? {
        switch ref {
        case let .integer(bits, signed): return (bits, signed)
        case let .named(key): return index[key].flatMap { $0.kind == .typedef ? $0.underlying : nil }.flatMap { integer($0) }
        default: return nil
        }
    }
    func isByte(_ ref: TypeRef) -> Bool { integer(ref)?.bits == 8 }
    func isUInt32(_ ref: TypeRef) -> Bool { integer(ref).map { $0.bits == 32 && !$0.signed } ?? false }
}
