// Emits the hypercall layer from the spec: a raw entry for every __HYPERVISOR_* number, typed
// wrappers (sub-op by sub-op, with argument directions and Xen's error numbers), the same
// operations as multicall entries, and a test case for every wrapper.

struct HypercallEmitter: Emitter {
    let model: ABIModel
    let types: SwiftTypes
    let provenance: String

    /// The plans the expressibility step has admitted: every typed operation of the spec.
    func operations() -> [HypercallOperation] {
        let plan = HypercallPlanner(model: model, types: types).plan()
        precondition(plan.unplanned.isEmpty, "the expressibility step admits only plannable hypercalls")
        return plan.operations
    }

    func emit() -> [GeneratedFile] {
        [GeneratedFile(path: "Swift/Guest/_Hypercalls.swift", contents: fileHeader(model, provenance, "hypercalls of Specs/xen.yaml") + layer()),
         GeneratedFile(path: "Swift/TestCases/HypercallCases.swift", contents: fileHeader(model, provenance, "a host test case for every typed hypercall wrapper") + testCases())]
    }

    // MARK: the layer

    func layer() -> String {
        var s = """
        /// A hypercall's failure: the `XEN_E*` number it returned, negated.
        @frozen public struct XenError: Error, Equatable {
            public var code: Int32
            @inline(__always) public init(code: Int32) { self.code = code }
            @inline(__always) public init(returned: Int) { code = Int32(truncatingIfNeeded: 0 &- returned) }

        """
        if let errno = model.type("enum xen_errno"), case let .integer(bits, signed)? = errno.enumIntegerType {
            s += "    /// The error as `enum xen_errno` (errno.h).\n"
            s += "    public var errno: xen_errno { xen_errno(rawValue: \(signed ? "Int" : "UInt")\(bits)(truncatingIfNeeded: code)) }\n"
        }
        s += "}\n\n"
        s += """
        /// How a hypercall enters Xen: the hypercall page in a guest (`XenHypercallPage`), a
        /// recording double in host tests. Arguments go in rdi, rsi, rdx, r10, r8; the result is rax.
        /// One entry per argument count, so a call site loads only the registers it uses.
        public protocol XenHypercallEntry {
            static func hypercall0(_ nr: UInt) -> Int
            static func hypercall1(_ nr: UInt, _ a1: UInt) -> Int
            static func hypercall2(_ nr: UInt, _ a1: UInt, _ a2: UInt) -> Int
            static func hypercall3(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt) -> Int
            static func hypercall4(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt) -> Int
            static func hypercall5(_ nr: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int
        }

        /// Every hypercall of the headers: raw entries by number, typed wrappers from Specs/xen.yaml.
        public enum XenHypercall<Entry: XenHypercallEntry> {}

        /// The typed operations as `multicall_entry` values, for `XenHypercall.multicall`. Every
        /// pointer must stay valid until the batch has run.
        public enum XenMulticall {}


        """
        s += raw()
        let ops = operations()
        var done = Set<String>()
        for op in ops where !done.contains(op.hypercall.name) {
            done.insert(op.hypercall.name)
            let group = ops.filter { $0.hypercall.name == op.hypercall.name }
            if op.subop == nil {
                // The operation and, for a counted array of records, its single-element form.
                s += "extension XenHypercall {\n\(group.map { wrapper($0, indent: "    ") }.joined())}\n\nextension XenMulticall {\n\(group.map { entry($0, indent: "    ") }.joined())}\n\n"
            } else {
                s += "extension XenHypercall {\n    /// `\(op.hypercall.numberConstant)`: one function per sub-op.\n    public enum \(op.hypercall.name) {\n"
                for o in group { s += wrapper(o, indent: "        ") }
                s += "    }\n}\n\nextension XenMulticall {\n    public enum \(op.hypercall.name) {\n"
                for o in group { s += entry(o, indent: "        ") }
                s += "    }\n}\n\n"
            }
        }
        if model.type("struct multicall_entry") != nil {
            s += """
            extension multicall_entry {
                /// This entry's result after the batch ran: the value, or the Xen error it returned.
                public var outcome: Result<Int, XenError> {
                    let r = Int(truncatingIfNeeded: result)
                    return r < 0 ? .failure(XenError(returned: r)) : .success(r)
                }
            }


            """
        }
        return s
    }

    /// Every member of the spec's hypercall-number family (`__HYPERVISOR_name`) ->
    /// `XenHypercall.raw_name(a1, ..., a5)`.
    func raw() -> String {
        var s = "extension XenHypercall {\n"
        let numbers = model.families.first { $0.prefix == "__HYPERVISOR_" }?.members ?? []
        // Family members are integer constants (SpecApplier), so each has its number.
        for c in model.constants where numbers.contains(c.name) {
            let name = String(c.name.dropFirst("__HYPERVISOR_".count))
            s += "    /// `\(c.name)` (\(c.location.header):\(c.location.line)), untyped.\n"
            s += "    @inline(__always) public static func raw_\(name)(_ a1: UInt = 0, _ a2: UInt = 0, _ a3: UInt = 0, _ a4: UInt = 0, _ a5: UInt = 0) -> Int {\n"
            s += "        Entry.hypercall5(UInt(truncatingIfNeeded: \(c.name)), a1, a2, a3, a4, a5)\n    }\n"
        }
        return s + "}\n\n"
    }

    func doc(_ op: HypercallOperation) -> String {
        let one = op.isElementForm ? ", on one element (count 1)" : ""
        guard let sub = op.subop else { return "`\(op.hypercall.numberConstant)`\(one)" }
        return "`\(op.hypercall.numberConstant)` with `\(sub.constant)`\(sub.argument.map { ", `\($0)`" } ?? ""), \(sub.direction.rawValue)\(one)"
    }

    /// The declaration and register expression the wrapper and the multicall entry share; nil
    /// for a pointer, which the two pass differently.
    func shared(_ a: ArgumentPlan) -> (declaration: String?, register: String)? {
        switch a {
        case let .constant(c): return (nil, c == "0" ? "0" : "UInt(truncatingIfNeeded: \(c))")
        case let .value(name, type, signed):
            let n = Naming.identifier(name)
            return ("_ \(n): \(type)", signed ? "UInt(bitPattern: Int(\(n)))" : "UInt(truncatingIfNeeded: \(n))")
        case let .count(owner): return (nil, "UInt(\(Naming.identifier(owner)).count)")
        case .buffer, .pointer, .element: return nil
        }
    }

    func wrapper(_ op: HypercallOperation, indent: String) -> String {
        var declarations: [String] = [], setup: [String] = [], registers: [String] = [], scopes: [String] = []
        var result: (name: String, type: String)?
        for a in op.arguments {
            if let (declaration, register) = shared(a) {
                if let declaration { declarations.append(declaration) }
                registers.append(register)
                continue
            }
            switch a {
            case .constant, .value, .count: break
            case let .buffer(name, type, direction, _):
                let n = Naming.identifier(name)
                declarations.append("_ \(n): \(direction == .in ? "UnsafeBufferPointer" : "UnsafeMutableBufferPointer")<\(type)>")
                registers.append("UInt(bitPattern: \(n).baseAddress)")
            case let .element(name, type, direction):
                let n = Naming.identifier(name), local = "_\(name)", p = "_\(name)Pointer"
                if direction == .in {
                    declarations.append("_ \(n): \(type)")
                    setup.append("var \(local) = \(n)")
                    scopes.append("withUnsafeMutablePointer(to: &\(local)) { \(p) in")
                } else {
                    declarations.append("_ \(n): inout \(type)")
                    scopes.append("withUnsafeMutablePointer(to: &\(n)) { \(p) in")
                }
                registers.append("UInt(bitPattern: \(p))")
            case let .pointer(name, type, zero, direction):
                let n = Naming.identifier(name), local = "_\(name)", p = "_\(name)Pointer"
                switch direction {
                case .out:
                    setup.append("var \(local): \(type) = \(zero)")
                    scopes.append("withUnsafeMutablePointer(to: &\(local)) { \(p) in")
                    result = (local, type)
                case .inout:
                    declarations.append("_ \(n): inout \(type)")
                    scopes.append("withUnsafeMutablePointer(to: &\(n)) { \(p) in")
                case .in:
                    declarations.append("_ \(n): \(type)")
                    setup.append("var \(local) = \(n)")
                    scopes.append("withUnsafeMutablePointer(to: &\(local)) { \(p) in")
                }
                registers.append("UInt(bitPattern: \(p))")
            }
        }
        let arity = registers.count
        var body = "Entry.hypercall\(arity)(\(([ "UInt(truncatingIfNeeded: \(op.hypercall.numberConstant))"] + registers).joined(separator: ", ")))"
        for scope in scopes.reversed() { body = "\(scope) \(body) }" }
        var s = "\(indent)/// \(doc(op)).\n"
        s += "\(indent)\(result == nil ? "@discardableResult " : "")@inline(__always) public static func \(Naming.identifier(op.name))(\(declarations.joined(separator: ", "))) throws(XenError) -> \(result?.type ?? "Int") {\n"
        for line in setup { s += "\(indent)    \(line)\n" }
        s += "\(indent)    let rc = \(body)\n"
        s += "\(indent)    if rc < 0 { throw XenError(returned: rc) }\n"
        return s + "\(indent)    return \(result?.name ?? "rc")\n\(indent)}\n"
    }

    func entry(_ op: HypercallOperation, indent: String) -> String {
        var declarations: [String] = [], registers: [String] = []
        for a in op.arguments {
            if let (declaration, register) = shared(a) {
                if let declaration { declarations.append(declaration) }
                registers.append(register)
                continue
            }
            switch a {
            case .constant, .value, .count: break
            case let .buffer(name, type, _, _):
                let n = Naming.identifier(name)
                declarations.append("_ \(n): UnsafeMutableBufferPointer<\(type)>")
                registers.append("UInt(bitPattern: \(n).baseAddress)")
            case let .pointer(name, type, _, _), let .element(name, type, _):
                let n = Naming.identifier(name)
                declarations.append("_ \(n): UnsafeMutablePointer<\(type)>")
                registers.append("UInt(bitPattern: \(n))")
            }
        }
        var s = "\(indent)/// \(doc(op)), as a multicall entry.\n"
        s += "\(indent)@inline(__always) public static func \(Naming.identifier(op.name))(\(declarations.joined(separator: ", "))) -> multicall_entry {\n"
        s += "\(indent)    var e = multicall_entry()\n\(indent)    e.op = .init(truncatingIfNeeded: \(op.hypercall.numberConstant))\n"
        for (i, r) in registers.enumerated() where r != "0" { s += "\(indent)    e.args[\(i)] = .init(truncatingIfNeeded: \(r))\n" }
        return s + "\(indent)    return e\n\(indent)}\n"
    }

    // MARK: test cases

    /// One host test case per typed wrapper: the registers it must fill, the bytes it must pass
    /// (in), return (out) or both (inout), and that a negative result comes back as `XenError`.
    func testCases() -> String {
        var s = """
        import XenABI

        /// One typed wrapper, called against `RecordingEntry`.
        struct HypercallCase {
            var name: String
            var number: UInt
            /// Each argument register's expected value, one per argument of the spec; nil where it is
            /// a pointer (checked by content).
            var registers: [UInt?]
            /// Which register carries the argument struct or buffer, and the bytes it holds.
            var argumentRegister: Int?
            var argumentBytes: Int
            /// 2 for a counted buffer of two patterned elements, else 1.
            var elements: Int
            var direction: String
            /// Calls the wrapper; returns the bytes of what it sent back (out/inout), if anything.
            var call: () throws(XenError) -> [UInt8]?
        }

        let hypercallCases: [HypercallCase] = [

        """
        for op in operations() {
            let qualified = op.subop == nil ? op.name : "\(op.hypercall.name).\(op.name)"
            let element = op.isElementForm
            var registers: [String] = [], args: [String] = [], setup: [String] = []
            var argRegister = "nil", argBytes = "0", direction = "none", resultExpr = "nil", elements = 1
            var ret = "_ = "
            for (i, a) in op.arguments.enumerated() {
                switch a {
                case let .constant(c): registers.append(c == "0" ? "0" : "UInt(truncatingIfNeeded: \(c))")
                case let .value(_, type, signed):
                    let v = "\(type)(truncatingIfNeeded: 0x1234_5678_9ABC_DEF0 as UInt64 &+ \(i))"
                    args.append(v)
                    registers.append(signed ? "UInt(bitPattern: Int(\(v)))" : "UInt(truncatingIfNeeded: \(v))")
                case .count: registers.append("2")
                case let .buffer(_, type, dir, _):
                    setup.append("var buffer = [patterned(\(type).self), patterned(\(type).self)]")
                    args.append(dir == .in ? "UnsafeBufferPointer(b)" : "b")
                    registers.append("nil")
                    argRegister = "\(i)"; argBytes = "2 * MemoryLayout<\(type)>.stride"; direction = dir.rawValue; elements = 2
                    resultExpr = dir == .in ? "nil" : "buffer.withUnsafeBytes { Array($0) }"
                case let .element(_, type, dir):
                    // The element is the argument the case checks; a caller's element is
                    // passed as it is and written back, whatever the array's direction.
                    registers.append("nil")
                    argRegister = "\(i)"; argBytes = "MemoryLayout<\(type)>.size"; direction = dir == .out ? "inout" : dir.rawValue
                    if dir == .in {
                        args.append("patterned(\(type).self)")
                    } else {
                        setup.append("var element = patterned(\(type).self)")
                        args.append("&element")
                        resultExpr = "withUnsafeBytes(of: element) { Array($0) }"
                    }
                case let .pointer(_, type, _, dir) where element:
                    // A pointer beside the element (mmu_update's done count): not the one checked.
                    registers.append("nil")
                    switch dir {
                    case .out: break
                    case .inout:
                        setup.append("var value = patterned(\(type).self)")
                        args.append("&value")
                    case .in: args.append("patterned(\(type).self)")
                    }
                case let .pointer(_, type, _, dir):
                    registers.append("nil")
                    argRegister = "\(i)"; argBytes = "MemoryLayout<\(type)>.size"; direction = dir.rawValue
                    switch dir {
                    case .out:
                        ret = "let value = "
                        resultExpr = "withUnsafeBytes(of: value) { Array($0) }"
                    case .inout:
                        setup.append("var value = patterned(\(type).self)")
                        args.append("&value")
                        resultExpr = "withUnsafeBytes(of: value) { Array($0) }"
                    case .in:
                        args.append("patterned(\(type).self)")
                    }
                }
            }
            var callExpr = "try XenHypercall<RecordingEntry>.\(qualified)(\(args.joined(separator: ", ")))"
            if setup.contains(where: { $0.hasPrefix("var buffer") }) {
                callExpr = "try buffer.withUnsafeMutableBufferPointer { (b) throws(XenError) in \(ret)\(callExpr) }"
                ret = "_ = "
                if resultExpr.contains("value") { resultExpr = "nil" }
            }
            s += "    HypercallCase(name: \"\(qualified)\(op.isElementForm ? " (one element)" : "")\", number: UInt(truncatingIfNeeded: \(op.hypercall.numberConstant)),\n"
            s += "                  registers: [\(registers.joined(separator: ", "))], argumentRegister: \(argRegister), argumentBytes: \(argBytes), elements: \(elements), direction: \"\(direction)\") { () throws(XenError) in\n"
            for line in setup { s += "        \(line)\n" }
            s += "        \(ret)\(callExpr)\n        return \(resultExpr)\n    },\n"
        }
        return s + "]\n"
    }
}
