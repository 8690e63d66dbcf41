import CLibYAML
import Foundation
import HangarEngine

/// Section 1: full gallery decode against a bare libyaml event scan of the same bytes.
struct GalleryParseSection: BenchSection {
    let id = "gallery_parse"
    let title = "gallery parse: decodeIndex vs bare libyaml scan"
    /// decodeIndex may cost at most this multiple of the bare scan (median against median).
    let goal = 2.0

    func run(_ options: BenchOptions) throws -> BenchReport {
        guard let data = FileManager.default.contents(atPath: options.galleryPath) else {
            throw BenchFailure("cannot read gallery \(options.galleryPath)")
        }
        let bytes = Array(data)
        let gallery = GalleryConfig(name: "bench", url: "file://" + options.galleryPath)

        var scan = Timing(id: "scan", "a) bare libyaml event scan")
        var decode = Timing(id: "decode", "b) decodeIndex (tree + model)")
        var resolve = Timing(id: "resolve", "c) b + resolve every meta")
        var events = 0
        var entries: [GalleryEntry] = []
        // Warm-up (page faults, allocator, caches), then alternate so drift hits both sides alike.
        for _ in 0..<3 {
            events = try bareScan(bytes)
            entries = try GalleryEntry.decodeIndex(bytes, gallery: gallery)
            _ = try decodeAndResolve(bytes, gallery: gallery)
        }
        for _ in 0..<options.iterations {
            events = try scan.measure { try bareScan(bytes) }
            entries = try decode.measure { try GalleryEntry.decodeIndex(bytes, gallery: gallery) }
            _ = try resolve.measure { try decodeAndResolve(bytes, gallery: gallery) }
        }

        var report = BenchReport(id: id, section: title)
        report.timings = [scan, decode, resolve]
        report.checks = [BenchCheck(id: "ratio", label: "ratio b/a (median)", value: decode.median / scan.median, goal: goal, unit: "×")]
        report.facts = [
            ("gallery", "\(options.galleryPath) (\(bytes.count) bytes)"),
            ("events", "\(events)"),
            ("entries", "\(entries.count) (\(entries.filter(\.isMeta).count) metas)"),
            ("ratio c/a (median)", format(resolve.median / scan.median) + "× (what list --available does; no goal)"),
        ]
        return report
    }
}

/// What `hangar list --available` does with a gallery: decode it, filter by capability, resolve every meta.
func decodeAndResolve(_ bytes: [UInt8], gallery: GalleryConfig) throws -> [GalleryEntry] {
    let entries = try GalleryEntry.decodeIndex(bytes, gallery: gallery)
    let capability = Capability("default")
    let compatible = GalleryNameIndex(entries) { capability.isCompatible($0) }
    var resolved = 0
    for entry in entries where entry.isMeta {
        if let concrete = capability.resolvedConcrete(entry.capabilities), compatible.findByName(concrete) != nil { resolved += 1 }
    }
    precondition(resolved > 0, "no meta resolved: the benchmark would measure nothing")
    return entries
}

/// The baseline: every libyaml event parsed and deleted, nothing kept; returns the event count.
func bareScan(_ bytes: [UInt8]) throws -> Int {
    let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
    defer {
        event.deallocate()
        parser.deallocate()
    }
    guard yaml_parser_initialize(parser) == 1 else { throw BenchFailure("yaml_parser_initialize failed") }
    defer { yaml_parser_delete(parser) }
    return try bytes.withUnsafeBufferPointer { buffer in
        yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
        var count = 0
        while true {
            guard yaml_parser_parse(parser, event) == 1 else { throw BenchFailure("libyaml failed on the gallery") }
            let type = event.pointee.type
            yaml_event_delete(event)
            count += 1
            if type == YAML_STREAM_END_EVENT { return count }
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
