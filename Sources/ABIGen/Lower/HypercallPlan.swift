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
    /// A counted array; `count` names the argument that carries its length.
    case buffer(name: String, type: String, direction: Hypercall.Direction)
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
                        out.append(HypercallOperation(hypercall: h, subop: op, name: FamilyEmitter.memberName(op.constant, prefix: prefix), arguments: args))
                    case let .failure(why):
                        unplanned.append(Unexpressed(entity: "\(h.name) \(op.constant)", location: nil, reason: why.reason))
                    }
                }
            } else {
                switch arguments(h, subop: nil) {
                case let .success(args): out.append(HypercallOperation(hypercall: h, subop: nil, name: h.name, arguments: args))
                case let .failure(why): unplanned.append(Unexpressed(entity: h.name, location: nil, reason: why.reason))
                }
            }
        }
        return (out, unplanned)
    }

    struct Unplannable: Error { var reason: String }

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
                plans.append(a.count != nil ? .buffer(name: a.name, type: t, direction: subop.direction)
                                            : .pointer(name: a.name, type: t, zero: types.zero(.named(key)), direction: subop.direction))
            default:
                guard let ref = a.type else { return .failure(Unplannable(reason: "argument \(a.name) has no type")) }
                if case let .pointer(to, _) = ref {
                    let t = to.flatMap { types.spelling($0) } ?? "UInt8"
                    // A sub-op's direction describes its data (console_io: write reads the buffer,
                    // read fills it); the argument's own applies when there are no sub-ops.
                    let dir = subop?.direction ?? a.direction ?? .in
                    plans.append(a.count != nil ? .buffer(name: a.name, type: t, direction: dir)
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
