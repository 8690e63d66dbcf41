import Foundation
import HangarEngine

/// One line of the Nodes screen: a node, or one backend of the node above it.
public enum NodeRow: Sendable, Equatable {
    case node(ClusterNodeState)
    case backend(ClusterNodeState, NodeBackend)

    /// The node this line belongs to.
    public var state: ClusterNodeState {
        switch self {
        case .node(let s), .backend(let s, _): return s
        }
    }
}

/// The Nodes screen's rows and its per-node keys (upgrade, reinstall, uninstall).
extension UIState {
    /// Every node, each followed by its backends (system ones left out); an offline node has none to list.
    public var nodeRows: [NodeRow] {
        (snapshot.cluster?.nodes ?? []).flatMap { state in
            [NodeRow.node(state)] + (state.backends ?? []).filter { !$0.isSystem }.map { .backend(state, $0) }
        }
    }

    public var selectedNodeRow: NodeRow? {
        let rows = nodeRows
        return rows.isEmpty ? nil : rows[Self.clamp(selection[.nodes] ?? 0, count: rows.count)]
    }

    /// The tab `step` tabs away from the current screen; Nodes, which is not a tab, sits between Settings and
    /// Backends.
    func tab(_ step: Int) -> Screen {
        let tabs = Screen.allCases
        guard let i = tabs.firstIndex(of: screen) else { return step > 0 ? tabs[0] : tabs[tabs.count - 1] }
        return tabs[((i + step) % tabs.count + tabs.count) % tabs.count]
    }

    /// The selected backend and its reachable node for `verb` (`u`, `r`, `d` on Nodes); nil, with the reason
    /// said, when there is none or its backend is busy.
    private mutating func nodeTarget(_ verb: String) -> (node: ClusterNode, backend: NodeBackend)? {
        guard snapshot.cluster != nil else {
            message = ("no nodes: the Nodes screen is for a distributed LocalAI server (hangar --server URL)", true)
            return nil
        }
        guard case .backend(let state, let backend)? = selectedNodeRow else {
            message = ("select one of the node's backends (j/k) to \(verb) it on that node", true)
            return nil
        }
        if state.node.isOffline {
            message = ("node \(state.node.name) is offline: LocalAI cannot reach it", true)
            return nil
        }
        if let job = activeJob(for: backend.name) {
            message = ("\(backend.name) is busy: job #\(job.job) \(job.operation.rawValue) \(job.stateWord)", true)
            return nil
        }
        return (state.node, backend)
    }

    /// `u` on Nodes: the selected backend, on its node only.
    mutating func upgradeOnNode() -> [Effect] {
        guard let (node, backend) = nodeTarget("upgrade") else { return [] }
        message = ("upgrading \(backend.name) on node \(node.name)", false)
        return [.upgradeOnNode(backend.name, node: node.id)]
    }

    /// `r` on Nodes: asks, then reinstalls the selected backend on its node only (LocalAI deletes it there first).
    mutating func reinstallOnNode() {
        guard let (node, backend) = nodeTarget("reinstall") else { return }
        if backend.isSystem { message = ("\(backend.name) is a system backend (protected): it cannot be reinstalled", true); return }
        confirmation = Confirmation(
            title: "Reinstall \(backend.name) on node \(node.name)?",
            lines: ["Deletes \(backend.name) (\(backend.versionBadge)) from node \(node.name) (\(node.id)),",
                    "then installs it there again from the server's gallery. Other nodes are not touched."],
            effect: .reinstallOnNode(backend.name, node: node.id))
    }

    /// `d` on Nodes: asks, then removes the selected backend from its node only.
    mutating func uninstallOnNode() {
        guard let (node, backend) = nodeTarget("uninstall") else { return }
        if backend.isSystem { message = ("\(backend.name) is a system backend (protected): it cannot be uninstalled", true); return }
        confirmation = Confirmation(
            title: "Uninstall \(backend.name) from node \(node.name)?",
            lines: ["Deletes \(backend.name) (\(backend.versionBadge)) from node \(node.name) (\(node.id)).",
                    "Other nodes keep it; that node can no longer load it until it is installed there again."],
            effect: .uninstallOnNode(backend.name, node: node.id))
    }
}

extension UIState {
    /// A Backends row's cluster state as LocalAI reports it: `4/4 nodes` or `3/4 · 1 drifted`, from the row's own
    /// `nodes[]` (`GET /backends`, §5.1) over every node, and the check's `node_drift` (§5.6); from the node
    /// listings when the server sent no `nodes[]`. Nil outside a cluster.
    func clusterSummary(of row: InstalledBackend) -> String? {
        guard let cluster = snapshot.cluster else { return nil }
        guard let refs = row.nodes else { return cluster.backends[row.name]?.summary }
        let drifted = upgrades.report?.upgrades[row.name]?.driftedNodes.count ?? 0
        let base = "\(refs.count)/\(max(cluster.nodes.count, refs.count))"
        return drifted == 0 ? base + " nodes" : "\(base) · \(drifted) drifted"
    }
}
