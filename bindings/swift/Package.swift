// swift-tools-version:5.7
// MLSFrame for Swift: the C module over include/mlsframe.h, and small classes on top.
// Not compiled in CI (no Swift toolchain there): see README.md.
import PackageDescription

let package = Package(
    name: "MLSFrame",
    products: [
        .library(name: "MLSFrame", targets: ["MLSFrame"]),
    ],
    targets: [
        // The C ABI, linked against libmlsframe (pkg-config "mlsframe" when installed
        // with scripts/install.sh; otherwise pass -Xlinker -L<dir of libmlsframe>).
        .systemLibrary(name: "CMLSFrame", path: "Sources/CMLSFrame", pkgConfig: "mlsframe"),
        .target(name: "MLSFrame", dependencies: ["CMLSFrame"]),
    ]
)
