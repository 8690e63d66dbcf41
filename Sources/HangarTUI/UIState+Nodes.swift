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

/// The Nodes screen's rows and its upgrade key.
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

    /// `u` on Nodes: the selected backend, on its node only.
    mutating func upgradeOnNode() -> [Effect] {
        guard snapshot.cluster != nil else {
            message = ("no nodes: the Nodes screen is for a distributed LocalAI server (hangar --server URL)", true)
            return []
        }
        guard case .backend(let state, let backend)? = selectedNodeRow else {
            message = ("select one of the node's backends (j/k) to upgrade it on that node", true)
            return []
        }
        if state.node.isOffline {
            message = ("node \(state.node.name) is offline: LocalAI cannot reach it", true)
            return []
        }
        if let job = activeJob(for: backend.name) {
            message = ("\(backend.name) is busy: job #\(job.job) \(job.operation.rawValue) \(job.stateWord)", true)
            return []
        }
        message = ("upgrading \(backend.name) on node \(state.node.name)", false)
        return [.upgradeOnNode(backend.name, node: state.node.id)]
    }
}
