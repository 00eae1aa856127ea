// Every release 4.6 ... 4.22 from a xen.git clone: runs when XEN_GIT names one, says so when not.
import Foundation
import Testing

@Suite struct ReleaseSweepTests {
    static let repository = ProcessInfo.processInfo.environment["XEN_GIT"]

    @Test(.enabled(if: repository != nil, "skipped: set XEN_GIT to a xen.git clone to regenerate and verify every release 4.6-4.22"))
    func everyReleaseRegeneratesAndVerifiesAgainstGcc() throws {
        let repo = try #require(Self.repository)
        for minor in 6...22 {
            let ref = "RELEASE-4.\(minor).0"
            let out = try temporaryDirectory("sweep\(minor)").appendingPathComponent("xen-4.\(minor)")
            let r = try runAbigen(["regenerate", "--xen-git", repo, "--ref", ref, "--output", out.path])
            #expect(r.status == 0, "\(ref): \(r.stderr)")
            #expect(r.stdout.hasPrefix("Xen 4.\(minor) "), "\(ref): the release is read from xen/Makefile")
            let v = try runAbigen(["verify", "--xen-git", repo, "--ref", ref, "--c-only"])
            #expect(v.status == 0 && v.stdout.contains("verified "), "\(ref): \(v.stdout)\(v.stderr)")
        }
    }

    @Test func releaseComesFromTheSourceTreesMakefile() throws {
        let f = try FixtureTree.make()
        let tree = f.root.deletingLastPathComponent().appendingPathComponent("src")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("xen/include"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: tree.appendingPathComponent("xen/include/public"), withDestinationURL: f.root)
        try "export XEN_VERSION       = 4\nexport XEN_SUBVERSION    = 99\n".write(to: tree.appendingPathComponent("xen/Makefile"), atomically: true, encoding: .utf8)
        let out = f.root.deletingLastPathComponent().appendingPathComponent("gen")
        let r = try runAbigen(["regenerate", "--xen-source", tree.path, "--spec", f.spec.path, "--output", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("Xen 4.99 "))
        let notATree = try runAbigen(["regenerate", "--xen-source", f.root.path, "--spec", f.spec.path, "--output", out.path])
        #expect(notATree.status == 1 && notATree.stderr.contains("is not a Xen source tree"))
    }
}
