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
}
