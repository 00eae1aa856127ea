// The spec a command reads: the one given or the project's, loaded once, and only when a source
// needs it (a diff of two manifests reads none).
public final class SpecLoader {
    let given: String?
    let project: PackagePaths
    private var loaded: Spec?

    public init(given: String?, project: PackagePaths = PackagePaths()) { self.given = given; self.project = project }

    /// The spec as the provenance line and errors name it: as given, or relative to the project.
    public func name() throws -> String { try project.spec(given).name }

    public func load() throws -> Spec {
        if let loaded { return loaded }
        let (url, name) = try project.spec(given)
        let spec = try Spec.load(url, name: name)
        loaded = spec
        return spec
    }
}
