// How each typed hypercall operation fills its registers, planned once from the model: the
// expressibility step refuses a run with an operation it cannot plan, and the hypercall emitter
// renders the plans it is given.

/// How one hypercall argument register is filled, decided once and rendered three ways.
enum ArgumentPlan {
    /// A constant: the sub-op number, or 0 where the sub-op takes no argument.
    case constant(String)
    /// A scalar parameter.
    case value(name: String, type: String, signed: Bool)
    /// A pointer to one struct: `in` passes a copy, `out` returns one, `inout` takes `inout`.
    case pointer(name: String, type: String, zero: String, direction: Hypercall.Direction)
    /// A counted array; `count` names the argument that carries its length. `hasElementForm`:
    /// a counted array of records, which also gets a form taking one element.
    case buffer(name: String, type: String, direction: Hypercall.Direction, hasElementForm: Bool)
    /// One element where the hypercall takes a counted array (its count is then 1): `in` takes
    /// a value, `out` and `inout` take `inout` (the caller's element is written back).
    case element(name: String, type: String, direction: Hypercall.Direction)
    /// The length of the buffer `owner`.
    case count(owner: String)
}

/// One typed operation: a hypercall, or one sub-op of it, with its registers planned.
struct HypercallOperation {
    var hypercall: Hypercall
    var subop: Hypercall.SubOp?
    /// Swift name: the hypercall's, or the sub-op's suffix inside the hypercall's namespace.
    var name: String
    var arguments: [ArgumentPlan]
    /// The single-element form of an operation on a counted array of records.
    var isElementForm = false

    /// The same operation on one element: the array becomes the element, its count 1.
    var elementForm: HypercallOperation? {
        guard arguments.contains(where: { if case .buffer(_, _, _, true) = $0 { return true }; return false }) else { return nil }
        var one = self
        one.isElementForm = true
        one.arguments = arguments.map { a in
            switch a {
            case let .buffer(name, type, direction, true): return .element(name: name, type: type, direction: direction)
            case .count: return .constant("1")
            default: return a
            }
        }
        return one
    }
}

struct HypercallPlanner {
    let model: ABIModel
    let types: SwiftTypes

    /// Every typed operation of the spec, in spec order, and those that cannot be planned.
    func plan() -> (operations: [HypercallOperation], unplanned: [Unexpressed]) {
        var out: [HypercallOperation] = [], unplanned: [Unexpressed] = []
        for h in model.hypercalls where h.typed != false {
            // A hypercall whose family a release lacks has no sub-ops (SpecApplier), so the
            // family is looked up only where there is a sub-op to name.
            let prefix = h.family.flatMap { f in model.families.first { $0.swiftName == f }?.prefix }
            if h.family != nil {
                for op in h.subops {
                    guard let prefix else {
                        unplanned.append(Unexpressed(entity: "\(h.name) \(op.constant)", location: nil, reason: "sub-op family \(h.family!) is not in the model"))
                        continue
                    }
                    switch arguments(h, subop: op) {
                    case let .success(args):
                        let operation = HypercallOperation(hypercall: h, subop: op, name: FamilyEmitter.memberName(op.constant, prefix: prefix), arguments: args)
                        out.append(operation)
                        if let one = operation.elementForm { out.append(one) }
                    case let .failure(why):
                        unplanned.append(Unexpressed(entity: "\(h.name) \(op.constant)", location: nil, reason: why.reason))
                    }
                }
            } else {
                switch arguments(h, subop: nil) {
                case let .success(args):
                    let operation = HypercallOperation(hypercall: h, subop: nil, name: h.name, arguments: args)
                    out.append(operation)
                    if let one = operation.elementForm { out.append(one) }
                case let .failure(why): unplanned.append(Unexpressed(entity: h.name, location: nil, reason: why.reason))
                }
            }
        }
        return (out, unplanned)
    }

    struct Unplannable: Error { var reason: String }

    /// A counted array (not one ended by a sentinel) of structs or unions: one element is a
    /// call of its own (one mmu_update, one grant copy). Byte buffers are not.
    func hasElementForm(_ a: Hypercall.Argument, _ element: TypeRef) -> Bool {
        guard let c = a.count, c != "terminated", case let .named(key) = types.resolved(element) else { return false }
        return [.struct, .union].contains(types.index[key]?.kind)
    }

    func arguments(_ h: Hypercall, subop: Hypercall.SubOp?) -> Result<[ArgumentPlan], Unplannable> {
        var plans: [ArgumentPlan] = []
        for a in h.arguments {
            if let owner = h.arguments.first(where: { $0.count == a.name }) {
                plans.append(.count(owner: owner.name))
                continue
            }
            switch a.cType {
            case "subop":
                guard let subop else { return .failure(Unplannable(reason: "argument \(a.name) is a sub-op, but the spec gives no sub-ops")) }
                plans.append(.constant(subop.constant))
            case "subop-arg":
                guard let subop else { return .failure(Unplannable(reason: "argument \(a.name) is a sub-op's argument, but the spec gives no sub-ops")) }
                guard let key = subop.argument else { plans.append(.constant("0")); continue }
                guard let t = types.spelling(.named(key)) else { return .failure(Unplannable(reason: "\(key) has no Swift type")) }
                plans.append(a.count != nil ? .buffer(name: a.name, type: t, direction: subop.direction, hasElementForm: hasElementForm(a, .named(key)))
                                            : .pointer(name: a.name, type: t, zero: types.zero(.named(key)), direction: subop.direction))
            default:
                guard let ref = a.type else { return .failure(Unplannable(reason: "argument \(a.name) has no type")) }
                if case let .pointer(to, _) = ref {
                    let t = to.flatMap { types.spelling($0) } ?? "UInt8"
                    // A sub-op's direction describes its data (console_io: write reads the buffer,
                    // read fills it); the argument's own applies when there are no sub-ops.
                    let dir = subop?.direction ?? a.direction ?? .in
                    plans.append(a.count != nil ? .buffer(name: a.name, type: t, direction: dir, hasElementForm: to.map { hasElementForm(a, $0) } ?? false)
                                                : .pointer(name: a.name, type: t, zero: to.map { types.zero($0) } ?? "0", direction: dir))
                } else {
                    guard let t = types.spelling(ref) else { return .failure(Unplannable(reason: "argument \(a.name)'s type \(a.cType) has no Swift type")) }
                    var signed = false
                    if case let .integer(_, s) = types.resolved(ref) { signed = s }
                    plans.append(.value(name: a.name, type: t, signed: signed))
                }
            }
        }
        guard plans.count <= 5 else { return .failure(Unplannable(reason: "\(plans.count) arguments; x86_64 passes at most 5 in registers")) }
        return .success(plans)
    }
}
