import Foundation
import Synchronization

/// Distributed LocalAI (spec §13): the nodes and what each has, and operations scoped to one node, which run as
/// LocalAI jobs followed like any other (their per-node failure is in the job's `nodes[]`, §5.5).
extension LocalAIServerStore {
    /// Why a node operation cannot start: the server is not a cluster (its node routes answer 404).
    private var notDistributed: HangarError {
        .configuration("LocalAI server \(server.url) is not in distributed mode (GET /api/nodes answered 404): --node applies to a cluster's frontend only; drop --node")
    }

    /// `GET /api/nodes`; nil when the server is not distributed.
    func clusterNodes() throws -> [ClusterNode]? {
        do {
            return try LocalAIDecoding.nodes(client.get("/api/nodes"))
        } catch let failure as LocalAIFailure where failure.status == 404 {
            return nil
        } catch let failure as LocalAIFailure {
            throw failure.hangarError
        } catch let failure as LocalAIDecoding.Failure {
            throw HangarError.operation("LocalAI server \(server.url): \(failure.description)")
        }
    }

    /// The nodes, then every node's backends at once (one thread per node, up to 32 at a time): two round trips
    /// whatever the cluster's size. Offline nodes are not asked; a node whose listing fails keeps its error.
    func clusterSnapshot() throws -> ClusterSnapshot? {
        guard let nodes = try clusterNodes() else { return nil }
        let results = Mutex<[Int: Result<[NodeBackend], HangarError>]>([:])
        let asked = nodes.indices.filter { !nodes[$0].isOffline }
        BlockingWork.run(asked.count, width: 32) { [client, server] k in
            let node = nodes[asked[k]]
            let result: Result<[NodeBackend], HangarError>
            do {
                result = .success(try LocalAIDecoding.nodeBackends(client.get("/api/nodes/\(node.id)/backends"), node: node.id))
            } catch let failure as LocalAIFailure {
                result = .failure(.operation(failure.serverMessage ?? failure.message))
            } catch {
                result = .failure(.operation("LocalAI server \(server.url): \(error)"))
            }
            results.withLock { $0[asked[k]] = result }
        }
        let listings = results.withLock { $0 }
        return ClusterSnapshot(server: server.url, nodes: nodes.indices.map { i in
            let node = nodes[i]
            if node.isOffline { return ClusterNodeState(node: node, backends: nil, error: "offline: its backends cannot be listed", drifted: []) }
            switch listings[i] {
            case .success(let backends)?: return ClusterNodeState(node: node, backends: backends, error: nil, drifted: [])
            case .failure(let error)?: return ClusterNodeState(node: node, backends: nil, error: error.message, drifted: [])
            case nil: return ClusterNodeState(node: node, backends: nil, error: "not asked", drifted: [])
            }
        })
    }

    /// LocalAI's own drift report: `node_drift` of each `GET /backends/upgrades` entry that has one, as served
    /// (checked, never rewritten). The cached answer: it does not start a check.
    func servedNodeDrift() throws -> [String: JSONValue] {
        try api { try LocalAIDecoding.upgrades(client.get("/backends/upgrades")) }.compactMapValues(\.nodeDrift)
    }

    /// Throws the one-line configuration error when the server is not distributed (one `GET /api/nodes`).
    func requireDistributed() throws {
        guard try clusterNodes() != nil else { throw notDistributed }
    }

    /// The node called `reference` (its id or its name).
    private func resolveNode(_ reference: String) throws -> ClusterNode {
        guard let nodes = try clusterNodes() else { throw notDistributed }
        guard let node = nodes.first(where: { $0.id == reference }) ?? nodes.first(where: { $0.name == reference }) else {
            let known = nodes.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
            throw HangarError.notFound("no node \"\(reference)\" in the cluster at \(server.url): give a node id or name from hangar nodes (\(known.isEmpty ? "none" : known))")
        }
        if node.isOffline {
            throw HangarError.operation("node \(node.name) (\(node.id)) of \(server.url) is offline: LocalAI cannot reach it; retry once hangar nodes shows it healthy")
        }
        return node
    }

    private func nodeBackend(_ name: String, on node: ClusterNode) throws -> NodeBackend? {
        try api { try LocalAIDecoding.nodeBackends(client.get("/api/nodes/\(node.id)/backends"), node: node.id) }.first { $0.name == name }
    }

    /// `name` on `node` after a job; `known` is false when the node could not be asked.
    private func lookOnNode(_ name: String, _ node: ClusterNode) -> (backend: NodeBackend?, known: Bool) {
        do { return (try nodeBackend(name, on: node), true) } catch { return (nil, false) }
    }

    private func label(_ node: ClusterNode) -> String { "node \(node.name) (\(node.id)) of \(server.url)" }

    /// Why the job failed on this node: its `nodes[]` line when the server gave one, else the job's error.
    private func nodeFailure(_ outcome: Outcome, _ node: ClusterNode) -> String? {
        guard let error = outcome.error else { return nil }
        return outcome.nodes.first { $0.nodeID == node.id }?.error ?? error
    }

    /// §7.2 "inspect nodes[] even on success": the nodes a completed distributed job left without the change (an
    /// error, or `queued` for a retry once an unhealthy node is back). Each is a warning and the summary's tail names
    /// them; when no node got the change the job failed. "" when every node has it (or the job had no `nodes[]`).
    func nodeShortfall(_ outcome: Outcome, _ operation: String, of name: String, context: JobContext) throws -> String {
        let missed = outcome.nodes.filter { !$0.succeeded }
        guard outcome.error == nil, !missed.isEmpty else { return "" }
        let list = missed.map(\.text).joined(separator: "; ")
        guard outcome.nodes.contains(where: \.succeeded) else {
            throw HangarError.operation("\(operation) of \(name) reached no node of \(server.url): \(list)")
        }
        for node in missed {
            context.warning("\(operation) of \(name) not done on node \(node.label) (\(node.nodeID)): \(node.error.map { "\(node.status): \($0)" } ?? node.status)")
        }
        return "; not on \(missed.count) of \(outcome.nodes.count) nodes: \(list)"
    }

    /// Install (not forced: a no-op when the node has it), or with `force` delete then install, on one node.
    func performNodeInstall(_ name: String, force: Bool, node reference: String, context: JobContext) throws -> String {
        let node = try resolveNode(reference)
        let before = try nodeBackend(name, on: node)
        if let before, !force { return "\(name) is already installed on \(label(node)) (\(before.versionBadge)); nothing to do" }
        context.phase(.resolving, "\(name) on \(label(node))")
        if before != nil {
            // A node install is never forced (§13): a reinstall is a delete first.
            _ = try api { try client.post("/api/nodes/\(node.id)/backends/delete", .object(JSONObject(["backend": .string(name)]))) }
        }
        let path = "/api/nodes/\(node.id)/backends/install"
        let id = try api { try LocalAIDecoding.nodeJobID(client.post(path, .object(JSONObject(["backend": .string(name)]))), endpoint: "POST \(path)") }
        let outcome = try follow(id, context: context)
        let after = lookOnNode(name, node).backend
        context.recordChange(from: before.map { BuildIdentity(version: $0.version, digest: $0.digest) },
                             to: after.map { BuildIdentity(version: $0.version, digest: $0.digest) })
        if let why = nodeFailure(outcome, node) {
            let verb = before != nil ? "reinstall" : "install"
            throw HangarError.operation("\(verb) of \(name) failed on \(label(node)): \(LocalAIClient.oneLine(why))")
        }
        // An unhealthy node's job completes as a retry row (§7.2): that is not an install.
        _ = try nodeShortfall(outcome, before != nil ? "reinstall" : "install", of: name, context: context)
        let badge = after?.versionBadge ?? "?"
        return "\(before != nil ? "reinstalled" : "installed") \(name) \(badge) on \(label(node))\(outcome.note)"
    }

    /// Upgrade of `name` on one node (§13: the job fails if the node does not report it; hangar says so first).
    func performNodeUpgrade(_ name: String, node reference: String, context: JobContext) throws -> String {
        let node = try resolveNode(reference)
        guard let before = try nodeBackend(name, on: node) else {
            throw HangarError.notFound("backend \"\(name)\" is not installed on \(label(node)) (hangar nodes shows what each node has)")
        }
        context.phase(.resolving, "\(name) on \(label(node))")
        let path = "/api/nodes/\(node.id)/backends/upgrade"
        let id = try api { try LocalAIDecoding.nodeJobID(client.post(path, .object(JSONObject(["backend": .string(name)]))), endpoint: "POST \(path)") }
        let outcome = try follow(id, context: context)
        let (after, known) = lookOnNode(name, node)
        context.recordChange(from: BuildIdentity(version: before.version, digest: before.digest),
                             to: after.map { BuildIdentity(version: $0.version, digest: $0.digest) })
        if let why = nodeFailure(outcome, node) {
            let kept = !known ? "" : after != nil ? "; \(name) is still installed there"
                : "; LocalAI removed \(name) from that node after its failed upgrade; hangar install \(name) --node \(node.id) puts it back"

            throw HangarError.operation("upgrade of \(name) failed on \(label(node)): \(LocalAIClient.oneLine(why))\(kept)")
        }
        _ = try nodeShortfall(outcome, "upgrade", of: name, context: context)
        return "upgraded \(name) \(before.versionBadge) → \(after?.versionBadge ?? "?") on \(label(node))\(outcome.note)"
    }

    /// Removal of `name` from one node: synchronous on the server (§13), still one hangar job.
    func performNodeUninstall(_ name: String, node reference: String, context: JobContext) throws -> String {
        let node = try resolveNode(reference)
        guard let before = try nodeBackend(name, on: node) else {
            throw HangarError.notFound("backend \"\(name)\" is not installed on \(label(node)) (hangar nodes shows what each node has)")
        }
        if before.isSystem { throw HangarError.configuration("\(name) is a system backend of \(label(node)): LocalAI never deletes those") }
        context.phase(.swapping, "removing \(name) from \(label(node))")
        do {
            _ = try client.post("/api/nodes/\(node.id)/backends/delete", .object(JSONObject(["backend": .string(name)])))
        } catch {
            // §13: the worker's reason is not returned.
            throw HangarError.operation("uninstall of \(name) failed on \(label(node)): \(error.serverMessage ?? error.message)")
        }
        context.recordChange(from: BuildIdentity(version: before.version, digest: before.digest), to: nil)
        return "uninstalled \(name) from \(label(node))"
    }
}

extension Engine {
    /// The cluster behind a distributed LocalAI server: nodes, each node's backends, drift. nil when hangar is not in
    /// remote mode or the server is not distributed.
    public func cluster() throws -> ClusterSnapshot? {
        guard let remote = store as? LocalAIServerStore else { return nil }
        return try remote.clusterSnapshot()
    }

    /// LocalAI's `node_drift` per backend, exactly as its `GET /backends/upgrades` serves it (§5.6); nil when hangar
    /// is not in remote mode. Beside `cluster()`'s drift, which hangar counts from the node listings itself.
    public func servedNodeDrift() throws -> [String: JSONValue]? {
        guard let remote = store as? LocalAIServerStore else { return nil }
        return try remote.servedNodeDrift()
    }

    private func nodeStore() throws -> LocalAIServerStore {
        guard let remote = store as? LocalAIServerStore else {
            throw HangarError.configuration("--node needs a distributed LocalAI server: give its frontend's URL with --server URL (node ids from hangar nodes)")
        }
        return remote
    }

    /// Refuses, before any job is queued, when hangar is not talking to a distributed LocalAI server.
    public func requireCluster() throws {
        try nodeStore().requireDistributed()
    }

    /// Queues an install (with `force`: a reinstall) of `name` on one node of the cluster.
    public func install(_ name: String, force: Bool, node: String) throws -> JobID {
        _ = try BackendName.validate(name)
        let remote = try nodeStore()
        return jobs.submit(force ? .reinstall : .install, backend: name) { context in
            try remote.performNodeInstall(name, force: force, node: node, context: context)
        }
    }

    /// Queues an upgrade of `name` on one node of the cluster.
    public func upgrade(_ name: String, node: String) throws -> JobID {
        _ = try BackendName.validate(name)
        let remote = try nodeStore()
        return jobs.submit(.upgrade, backend: name) { context in
            try remote.performNodeUpgrade(name, node: node, context: context)
        }
    }

    /// Queues the removal of `name` from one node of the cluster.
    public func uninstall(_ name: String, node: String) throws -> JobID {
        _ = try BackendName.validate(name)
        let remote = try nodeStore()
        return jobs.submit(.uninstall, backend: name) { context in
            try remote.performNodeUninstall(name, node: node, context: context)
        }
    }
}
