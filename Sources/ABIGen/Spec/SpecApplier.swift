// Applies the spec to a model: resolves families and hypercalls against what the headers define.
import Foundation

public struct SpecApplier {
    let spec: Spec

    public init(spec: Spec) { self.spec = spec }

    public func apply(to model: inout ABIModel) throws {
        let guestConstants = model.constants.filter { $0.visibility == .guest }
        let byName = Dictionary(guestConstants.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let allNames = Set(model.constants.map(\.name) + model.nonValueMacros.map(\.name))
        var families: [String: Family] = [:]
        /// Constants the spec types, with the line that types them.
        var typed: [String: (Constant.SpecType, String)] = [:]
        model.families = []
        for f in spec.families {
            let at = "\(spec.file):\(f.line)"
            for name in f.exclude where !allNames.contains(name) {
                throw ABIGenError("family \(f.swift) excludes \(name), which the headers do not define", at: at)
            }
            var members = guestConstants.filter { c in
                guard c.name.hasPrefix(f.prefix), case .integer = c.value else { return false }
                return !f.exclude.contains(c.name) && !f.excludePrefixes.contains { c.name.hasPrefix($0) }
            }.map(\.name)
            if members.isEmpty {
                if f.mayBeAbsent { continue }
                throw ABIGenError("family \(f.swift): no integer constant starts with \(f.prefix)", at: at)
            }
            var family = Family(swiftName: f.swift, prefix: f.prefix, shape: f.shape, members: [], rawType: Self.rawType(members.compactMap { byName[$0] }))
            if let mask = f.typeFieldMask {
                guard let m = byName[mask], case let .integer(maskValue, _) = m.value else {
                    throw ABIGenError("family \(f.swift): the type-field mask \(mask) is not an integer constant of the headers", at: at)
                }
                members.removeAll { $0 == mask }
                family.typeFieldMask = mask
                family.typeFieldName = f.typeFieldSwift
                family.typeFieldMembers = members.filter { n in
                    if case let .integer(v, _) = byName[n]!.value { return v & ~maskValue == 0 }
                    return false
                }
                members.removeAll { family.typeFieldMembers!.contains($0) }
            }
            family.members = members
            if let spelled = f.type {
                let type = try Self.integerType(spelled, model: model, at: at, what: "family \(f.swift)")
                family.rawType = type.type
                for name in members + (family.typeFieldMembers ?? []) { typed[name] = (type, at) }
            }
            families[f.swift] = family
            model.families.append(family)
        }
        try applyConstantTypes(&typed, model: model)
        for i in model.constants.indices {
            guard let (type, at) = typed[model.constants[i].name] else { continue }
            let c = model.constants[i]
            for value in [c.value] + (c.toolsValue.map { [$0] } ?? []) where !Self.fits(value, type.type, model: model) {
                throw ABIGenError("\(c.name) (\(c.location.description)) is \(Self.describe(value)), which does not fit \(type.cType), the type the spec gives it", at: at)
            }
            model.constants[i].specType = type
        }

        model.bootConstants = guestConstants.filter { c in
            guard case .integer = c.value else { return false }
            return spec.bootConstantPrefixes.contains { c.name.hasPrefix($0) }
        }.map(\.name)
        for p in spec.bootConstantPrefixes where !guestConstants.contains(where: { $0.name.hasPrefix(p) }) {
            throw ABIGenError("bootConstants: no constant starts with \(p)", at: "\(spec.file):\(spec.bootLine)")
        }
        model.bootLayouts = try spec.bootLayouts.map { name in
            guard let t = model.type(name), t.visibility == .guest, t.fields != nil else {
                throw ABIGenError("bootConstants: \(name) is not a guest struct of the headers", at: "\(spec.file):\(spec.bootLine)")
            }
            return t.key
        }

        model.hypercalls = []
        for h in spec.hypercalls {
            let at = "\(spec.file):\(h.line)"
            guard let number = byName[h.number], case let .integer(nr, _) = number.value else {
                if h.mayBeAbsent { continue }
                throw ABIGenError("hypercall \(h.name): \(h.number) is not defined by the headers", at: at)
            }
            var call = Hypercall(name: h.name, numberConstant: h.number, number: nr, arguments: [], family: h.subops?.family, subops: [])
            if !h.typed { call.typed = false }
            for a in h.args {
                var arg = Hypercall.Argument(name: a.name, cType: a.type, direction: a.dir, count: a.count)
                if a.type != "subop" && a.type != "subop-arg" {
                    guard let ref = Self.typeRef(a.type, model: model) else {
                        throw ABIGenError("hypercall \(h.name), argument \(a.name): unknown C type '\(a.type)'", at: "\(spec.file):\(a.line)")
                    }
                    arg.type = ref
                }
                if let c = a.count, c != "terminated", !h.args.contains(where: { $0.name == c }) {
                    throw ABIGenError("hypercall \(h.name), argument \(a.name): count names no argument '\(c)'", at: "\(spec.file):\(a.line)")
                }
                call.arguments.append(arg)
            }
            if let rule = h.subops {
                let ruleAt = "\(spec.file):\(rule.line)"
                guard let family = families[rule.family] else {
                    if spec.families.contains(where: { $0.swift == rule.family && $0.mayBeAbsent }) { model.hypercalls.append(call); continue }
                    throw ABIGenError("hypercall \(h.name): sub-op family \(rule.family) is not a family of the spec", at: ruleAt)
                }
                let prefix = spec.families.first { $0.swift == rule.family }!.prefix
                var exceptions: [String: Spec.SubopException] = [:]
                for e in rule.exceptions {
                    if !family.members.contains(e.subop) && !(family.typeFieldMembers ?? []).contains(e.subop) && !e.mayBeAbsent {
                        throw ABIGenError("hypercall \(h.name): exception for \(e.subop), which is not a member of \(rule.family) in these headers", at: "\(spec.file):\(e.line)")
                    }
                    exceptions[e.subop] = e
                }
                for member in family.members {
                    let e = exceptions[member]
                    let suffix = String(member.dropFirst(prefix.count))
                    let structName = e?.structName ?? rule.structRule.replacingOccurrences(of: "{suffix}", with: suffix)
                    var key: String? = nil
                    if structName != "none" {
                        guard let k = Self.typeKey(structName, model: model) else {
                            if e?.mayBeAbsent == true { continue }
                            throw ABIGenError("hypercall \(h.name): \(member) takes \(structName) by the rule '\(rule.structRule)', which the headers do not define; add an exception", at: e.map { "\(spec.file):\($0.line)" } ?? ruleAt)
                        }
                        key = k
                    }
                    guard case let .integer(v, _) = byName[member]!.value else { continue }
                    call.subops.append(Hypercall.SubOp(constant: member, value: v, argument: key, direction: e?.direction ?? rule.direction))
                }
            }
            model.hypercalls.append(call)
        }
    }

    /// `constantTypes`: constants by name or prefix. A constant a family already types may not be
    /// typed again.
    func applyConstantTypes(_ typed: inout [String: (Constant.SpecType, String)], model: ABIModel) throws {
        for entry in spec.constantTypes {
            let at = "\(spec.file):\(entry.line)"
            let type = try Self.integerType(entry.type, model: model, at: at, what: "constant type")
            let matched = model.constants.filter { c in
                guard case .integer = c.value else { return false }
                return entry.name.map { c.name == $0 } ?? c.name.hasPrefix(entry.prefix!)
            }
            if matched.isEmpty && !entry.mayBeAbsent {
                throw ABIGenError(entry.name.map { "constant type \(entry.type): the headers define no integer constant \($0)" }
                                  ?? "constant type \(entry.type): no integer constant of the headers starts with \(entry.prefix!)", at: at)
            }
            for c in matched {
                if let (_, earlier) = typed[c.name] {
                    throw ABIGenError("\(c.name) is typed twice: by \(earlier) and here", at: at)
                }
                typed[c.name] = (type, at)
            }
        }
    }

    /// A spec's C type for constants: an integer type, a scalar or a typedef of one.
    static func integerType(_ spelled: String, model: ABIModel, at: String, what: String) throws -> Constant.SpecType {
        guard let ref = typeRef(spelled, model: model) else {
            throw ABIGenError("\(what): unknown C type '\(spelled)'", at: at)
        }
        guard integerShape(ref, model: model) != nil else {
            throw ABIGenError("\(what): '\(spelled)' is not an integer type", at: at)
        }
        return Constant.SpecType(cType: spelled, type: ref)
    }

    /// Follows typedefs to the integer a type is.
    static func integerShape(_ ref: TypeRef, model: ABIModel) -> (bits: Int, signed: Bool)? {
        switch ref {
        case let .integer(bits, signed): return (bits, signed)
        case let .named(key):
            guard let t = model.type(key), t.kind == .typedef, let u = t.underlying else { return nil }
            return integerShape(u, model: model)
        default: return nil
        }
    }

    static func fits(_ value: Constant.Value, _ type: TypeRef, model: ABIModel) -> Bool {
        guard case let .integer(v, unsigned) = value, let (bits, signed) = integerShape(type, model: model) else { return false }
        if unsigned {
            let u = UInt64(bitPattern: v)
            return bits >= 64 ? (!signed || u <= UInt64(Int64.max)) : u <= (UInt64(1) << UInt64(signed ? bits - 1 : bits)) - 1
        }
        if signed { return bits >= 64 || (v >= -(Int64(1) << Int64(bits - 1)) && v < Int64(1) << Int64(bits - 1)) }
        return v >= 0 && (bits >= 64 || v < Int64(1) << Int64(bits))
    }

    static func describe(_ value: Constant.Value) -> String {
        switch value {
        case let .integer(v, unsigned): return unsigned ? "0x" + String(UInt64(bitPattern: v), radix: 16, uppercase: true) : String(v)
        case let .string(s): return "\"\(s)\""
        }
    }

    /// The widest C type among a family's members (signed only if none is unsigned).
    static func rawType(_ members: [Constant]) -> TypeRef {
        var bits = 8, unsigned = false
        for c in members { if case let .integer(b, s) = c.type { bits = max(bits, b); unsigned = unsigned || !s } }
        return .integer(bits: max(bits, 32), signed: !unsigned)
    }

    static func typeKey(_ name: String, model: ABIModel) -> String? {
        let index = model.typeIndex
        for k in [name, "struct \(name)", "union \(name)", "enum \(name)"] where index[k] != nil { return k }
        return nil
    }

    /// A C type as the spec spells it: scalars, typedefs and records of the headers, and pointers.
    static func typeRef(_ spelled: String, model: ABIModel) -> TypeRef? {
        var s = spelled.trimmingCharacters(in: .whitespaces)
        if s.hasSuffix("*") {
            s = String(s.dropLast()).trimmingCharacters(in: .whitespaces)
            let const = s.hasPrefix("const ")
            if const { s = String(s.dropFirst(6)) }
            if s == "void" { return .pointer(nil, const: const) }
            guard let to = typeRef(s, model: model) else { return nil }
            return .pointer(to, const: const)
        }
        let scalars: [String: TypeRef] = [
            "int": .integer(bits: 32, signed: true), "unsigned int": .integer(bits: 32, signed: false),
            "unsigned": .integer(bits: 32, signed: false), "long": .integer(bits: 64, signed: true),
            "unsigned long": .integer(bits: 64, signed: false), "char": .integer(bits: 8, signed: true),
            "uint8_t": .integer(bits: 8, signed: false), "uint16_t": .integer(bits: 16, signed: false),
            "int8_t": .integer(bits: 8, signed: true), "int16_t": .integer(bits: 16, signed: true),
            "uint32_t": .integer(bits: 32, signed: false), "uint64_t": .integer(bits: 64, signed: false),
            "int32_t": .integer(bits: 32, signed: true), "int64_t": .integer(bits: 64, signed: true),
        ]
        if let r = scalars[s] { return r }
        for prefix in ["struct ", "union ", "enum "] where s.hasPrefix(prefix) {
            return model.type(s) != nil ? .named(s) : nil
        }
        return model.type(s) != nil ? .named(s) : nil
    }
}
