import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

/// Previous versions kept at upgrades and reinstalls, rollback and prune, on real directories.
final class GenerationTests: XCTestCase {
    /// foo 1.0.0 installed from the gallery, then the gallery moved to 2.0.0 and foo upgraded.
    private func upgraded(_ f: EngineFixture, keep: Int? = nil, environment: [String: String] = [:],
                          versions: [String] = ["1.0.0", "2.0.0"]) throws -> Engine {
        if let keep { try f.write(f.site.config + "/hangar.json", "{\"keep_generations\": \(keep)}\n") }
        let engine = try f.engine(extraEnvironment: environment)
        for (index, version) in versions.enumerated() {
            let src = try f.source("foo-\(version)", files: ["VERSION": version, "only-\(version)": "x"])
            try f.gallery("---\n- {name: foo, uri: \"\(src)\", version: \"\(version)\", alias: fooalias}\n")
            engine.refreshGalleries()  // the engine caches the gallery it read; this one changed
            let outcome = try finish(engine) { index == 0 ? try $0.install("foo", force: false) : try $0.upgrade("foo") }
            XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        }
        return engine
    }

    private func generationDirs(_ f: EngineFixture, _ name: String = "foo") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/generations/" + name)) ?? []).sorted()
    }

    func testAnUpgradeKeepsTheReplacedTreeWithItsMetadataOutsideLocalAIsListing() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let kept = try engine.generations(of: "foo")
        XCTAssertEqual(kept.map(\.number), [1])
        XCTAssertEqual(kept.first?.metadata?.version, "1.0.0")
        XCTAssertEqual(kept.first?.label, "v1.0.0")
        XCTAssertGreaterThan(kept.first?.diskBytes ?? 0, 0)
        XCTAssertLessThanOrEqual(abs((kept.first?.replacedAt ?? 0) - Date().timeIntervalSince1970), 60)
        XCTAssertEqual(f.read(kept[0].path + "/tree/VERSION"), "1.0.0")
        // LocalAI lists only what is directly under the backends path: the kept tree is not there.
        XCTAssertEqual(try engine.installed().rows.map(\.name).sorted(), ["foo", "fooalias"])
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "2.0.0")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/trash"), [])
    }

    func testOnlyTheConfiguredNumberOfGenerationsIsKeptAndZeroKeepsNone() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f, keep: 2, versions: ["1.0.0", "2.0.0", "3.0.0", "4.0.0"])
        XCTAssertEqual(try engine.generations(of: "foo").map { $0.metadata?.version ?? "" }, ["3.0.0", "2.0.0"])
        XCTAssertEqual(generationDirs(f).count, 2)

        let none = try EngineFixture()
        let engineWithout = try upgraded(none, keep: 0)
        XCTAssertEqual(try engineWithout.generations(of: "foo"), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: none.backends + "/.hangar/generations/foo"))
    }

    func testAReinstallKeepsAGenerationAndAFreshInstallDoesNot() throws {
        let f = try EngineFixture()
        let src = try f.source("foo-1", files: ["VERSION": "1"])
        try f.gallery("---\n- {name: foo, uri: \"\(src)\", version: \"1.0.0\"}\n")
        let engine = try f.engine()
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        XCTAssertEqual(try engine.generations(of: "foo"), [])
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: true) }.isSuccess)
        XCTAssertEqual(try engine.generations(of: "foo").map(\.label), ["v1.0.0"])
    }

    func testWithTooLittleFreeSpaceTheReplacedTreeIsDeletedWithAWarningAndTheUpgradeSucceeds() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f, environment: ["HANGAR_FAKE_FREE_BYTES": "1000"], versions: ["1.0.0"])
        let src = try f.source("foo-2.0.0", files: ["VERSION": "2.0.0"])
        try f.gallery("---\n- {name: foo, uri: \"\(src)\", version: \"2.0.0\"}\n")
        engine.refreshGalleries()
        let warnings = Locked<[String]>([])
        engine.jobs.subscribe(on: DispatchQueue(label: "t")) { event in
            if case .warning(let message) = event.kind { warnings.update { $0.append(message) } }
        }
        XCTAssertTrue(try finish(engine) { try $0.upgrade("foo") }.isSuccess)
        engine.jobs.waitAll()
        XCTAssertTrue(waitUntil(timeout: 5) { !warnings.get().isEmpty })
        XCTAssertTrue(warnings.get().contains { $0.contains("deleted, not kept for rollback") && $0.contains("margin") }, "\(warnings.get())")
        XCTAssertEqual(try engine.generations(of: "foo"), [])
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "2.0.0")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/trash"), [])
    }

    func testRollbackRestoresTheTreeAndMetadataExactlyAndCanBeRolledForward() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let v1Metadata = try XCTUnwrap(try engine.generations(of: "foo").first?.metadata)
        let v2Snapshot = f.snapshot()
        let v2Metadata = try f.metadata("foo")

        let outcome = try finish(engine) { try $0.rollback("foo") }
        guard case .succeeded(let summary) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(summary, "rolled back foo v2.0.0 → v1.0.0 (v2.0.0 kept as generation 1)")
        XCTAssertEqual(try f.metadata("foo"), v1Metadata)
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "1.0.0")
        XCTAssertTrue(f.exists("foo/only-1.0.0"))
        XCTAssertFalse(f.exists("foo/only-2.0.0"))
        XCTAssertEqual(try engine.generations(of: "foo").map(\.label), ["v2.0.0"])

        XCTAssertTrue(try finish(engine) { try $0.rollback("foo") }.isSuccess)
        XCTAssertEqual(f.snapshot(), v2Snapshot)
        XCTAssertEqual(try f.metadata("foo"), v2Metadata)
        XCTAssertEqual(try engine.generations(of: "foo").map(\.label), ["v1.0.0"])
        for sub in ["staging", "trash", "journal"] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/" + sub), [], sub)
        }
    }

    func testRollbackToAnOlderGenerationByNumberAndThroughAnAlias() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f, keep: 3, versions: ["1.0.0", "2.0.0", "3.0.0"])
        XCTAssertEqual(try engine.generations(of: "fooalias").map(\.label), ["v2.0.0", "v1.0.0"])
        XCTAssertTrue(try finish(engine) { try $0.rollback("fooalias", to: 2) }.isSuccess)
        XCTAssertEqual(try f.metadata("foo").version, "1.0.0")
        XCTAssertEqual(try engine.generations(of: "foo").map(\.label), ["v3.0.0", "v2.0.0"])
    }

    func testAMetaRollsBackItsConcreteAndKeepsItsOwnMetadata() throws {
        let f = try EngineFixture()
        let engine = try f.engine()
        for version in ["0.9", "1.0"] {
            let src = try f.source("cpu-kokoro-\(version)", files: ["VERSION": version])
            try f.gallery("""
                ---
                - {name: kokoro, capabilities: {default: cpu-kokoro}}
                - {name: cpu-kokoro, uri: "\(src)", version: "\(version)"}

                """)
            engine.refreshGalleries()
            let outcome = try finish(engine) { version == "0.9" ? try $0.install("kokoro", force: false) : try $0.upgrade("kokoro") }
            XCTAssertTrue(outcome.isSuccess, "\(outcome)")
        }
        let meta = f.read(f.backends + "/kokoro/metadata.json")
        XCTAssertEqual(try engine.generations(of: "kokoro").map(\.backend), ["cpu-kokoro"])
        XCTAssertTrue(try finish(engine) { try $0.rollback("kokoro") }.isSuccess)
        XCTAssertEqual(try f.metadata("cpu-kokoro").version, "0.9")
        XCTAssertEqual(f.read(f.backends + "/cpu-kokoro/VERSION"), "0.9")
        XCTAssertEqual(f.read(f.backends + "/kokoro/metadata.json"), meta)
    }

    func testRollbackWithoutAGenerationOrWithAnUnknownNumberIsOneClearErrorAndChangesNothing() throws {
        let f = try EngineFixture()
        let src = try f.source("foo-1")
        try f.gallery("---\n- {name: foo, uri: \"\(src)\", version: \"1.0.0\"}\n")
        let engine = try f.engine()
        XCTAssertTrue(try finish(engine) { try $0.install("foo", force: false) }.isSuccess)
        let before = f.snapshot()
        XCTAssertThrowsError(try engine.rollback("foo")) { error in
            XCTAssertEqual((error as? HangarError)?.category, .notFound)
            XCTAssertEqual("\(error)", "no previous version of foo is kept to roll back to (one is kept at each upgrade or reinstall while keep_generations is above 0)")
        }
        let other = try EngineFixture()  // held: the fixture removes its site when released
        let upgradedEngine = try upgraded(other)
        XCTAssertThrowsError(try upgradedEngine.rollback("foo", to: 3)) { error in
            XCTAssertEqual("\(error)", "foo has no generation 3: it keeps only generation 1 (hangar generations foo lists them)")
        }
        XCTAssertThrowsError(try upgradedEngine.rollback("foo", to: 0)) { error in
            XCTAssertEqual((error as? HangarError)?.category, .configuration)
        }
        XCTAssertThrowsError(try engine.rollback("nope"))
        XCTAssertEqual(f.snapshot(), before)
        XCTAssertEqual(try upgradedEngine.generations(of: "foo").count, 1)
    }

    func testARollbackWhoseGenerationIsNotABackendFailsAndLeavesBothAsTheyWere() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let generation = try XCTUnwrap(try engine.generations(of: "foo").first)
        try FileManager.default.removeItem(atPath: generation.path + "/tree/run.sh")
        let before = f.snapshot()
        let outcome = try finish(engine) { try $0.rollback("foo") }
        guard case .rolledBack(let error, let restored) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(error.message.contains("run.sh missing in generation 1 of foo"), error.message)
        XCTAssertEqual(restored, "v2.0.0 kept")
        XCTAssertEqual(f.snapshot(), before)
        // The generation got its tree back and is listed again, whole.
        XCTAssertEqual(try engine.generations(of: "foo").map(\.id), [generation.id])
        XCTAssertTrue(FileManager.default.fileExists(atPath: generation.path + "/tree/VERSION"))
    }

    func testPruneKeepsTheNewestAndZeroRemovesAll() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f, keep: 3, versions: ["1.0.0", "2.0.0", "3.0.0", "4.0.0"])
        XCTAssertEqual(try engine.prune("foo", keep: 1).map(\.label), ["v2.0.0", "v1.0.0"])
        XCTAssertEqual(try engine.generations().map(\.label), ["v3.0.0"])
        XCTAssertEqual(try engine.prune(keep: 0).map(\.label), ["v3.0.0"])
        XCTAssertEqual(try engine.generations(), [])
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "4.0.0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.backends + "/.hangar/generations/foo"))
    }

    func testKeepGenerationsIsReadFromAndWrittenToHangarJSON() throws {
        let f = try EngineFixture()
        let engine = try f.engine()
        XCTAssertEqual(engine.keepGenerations, 1)
        try engine.setKeepGenerations(3)
        XCTAssertEqual(engine.keepGenerations, 3)
        XCTAssertTrue(f.read(f.site.config + "/hangar.json")?.contains("\"keep_generations\": 3") == true)
        XCTAssertThrowsError(try engine.setKeepGenerations(-1))
        try f.write(f.site.config + "/hangar.json", "{\"keep_generations\": \"two\"}")
        XCTAssertThrowsError(try engine.hangarSettings.load()) { error in
            XCTAssertTrue("\(error)".contains("\"keep_generations\" must be a whole number from 0 to 20"), "\(error)")
        }
    }

    /// Recovery after a kill while a rollback had the generation's tree in staging puts the tree back whole.
    func testRecoveryPutsALentTreeBackIntoItsGeneration() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let generation = try XCTUnwrap(try engine.generations(of: "foo").first)
        let root = BackendsRoot(f.backends)
        // What a kill at rollback.tree-staged leaves: the generation's tree in staging, no journal.
        let lock = try XCTUnwrap(try BackendLocks(root: root).lock(["foo"], mode: .wait))
        let transaction = try BackendTransaction.begin(root: root, name: "foo", operation: "rollback", lock: lock)
        XCTAssertEqual(try Sys.identityIfPresent(generation.path + "/tree"), generation.tree)
        try Sys.rename(generation.path + "/tree", transaction.stagingPath)
        XCTAssertEqual(try engine.generations(of: "foo"), [], "a lent generation is not listed")
        lock.release()
        let report = Recovery.run(root: root)
        XCTAssertEqual(report.repairs, ["put generation \(generation.id) of foo back after an interrupted rollback"], "\(report)")
        XCTAssertEqual(try engine.generations(of: "foo").map(\.id), [generation.id])
        XCTAssertEqual(f.read(generation.path + "/tree/VERSION"), "1.0.0")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.backends + "/.hangar/staging"), [])
        _ = transaction
    }

    /// A record lost to a power cut (it is not fsynced): recovery drops that generation and never touches the backend.
    func testAGenerationWhoseRecordIsLostIsRemovedByRecovery() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let generation = try XCTUnwrap(try engine.generations(of: "foo").first)
        try f.write(generation.path + "/generation.json", "")
        XCTAssertEqual(try engine.generations(of: "foo"), [], "an unreadable generation is not offered")
        let report = Recovery.run(root: BackendsRoot(f.backends))
        XCTAssertEqual(report.repairs, ["removed generation \(generation.id) of foo: its record was lost"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: generation.path))
        XCTAssertEqual(f.read(f.backends + "/foo/VERSION"), "2.0.0")
        XCTAssertTrue(Recovery.run(root: BackendsRoot(f.backends)).isEmpty)
    }

    func testUninstallDeletesTheKeptVersionsToo() throws {
        let f = try EngineFixture()
        let engine = try upgraded(f)
        let kept = try XCTUnwrap(try engine.generations(of: "foo").first)
        let outcome = try finish(engine) { try $0.uninstall("foo") }
        guard case .succeeded(let summary) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(summary.hasPrefix("uninstalled foo ("), summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: kept.path))
        XCTAssertEqual(try engine.generations(), [])
        XCTAssertThrowsError(try engine.rollback("foo"))
    }
}
