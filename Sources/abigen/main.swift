import ABIGen
import Foundation
let tree = try HeaderTree(root: URL(fileURLWithPath: "/usr/include/xen"))
let t0 = Date()
let spec = try Spec.load(URL(fileURLWithPath: "Specs/xen.yaml"))
let g = try Generator(tree: tree, options: GenerationOptions(xenVersion: "4.17"), spec: spec, provenance: "abigen regenerate --xen-version 4.17").generate()
print(Date().timeIntervalSince(t0))
print(g.summary)
try OutputWriter.replace(URL(fileURLWithPath: "/tmp/gen"), with: g.files)
