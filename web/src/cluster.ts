// The cluster view (#/cluster), on a cluster node only: this node's replica of each Raft group it
// is a member of, from GetClusterStatus every 2 s (docs/dashboard.md, "On a cluster node"): its
// role, the group's leader and term, the commit and applied indexes (their difference is the
// replica's apply backlog), its pipelines, and the replica's signature and validity. The page
// talks to this node only; whether every node's replica of a group agrees is what
// `lightspeed cluster status` shows, asking each node.
import { Code, ConnectError } from "@connectrpc/connect";
import { api, describeError } from "./api";
import { poll } from "./connection";
import { clear, h, setText } from "./dom";
import type { ClusterGroupStatus } from "./gen/lightspeed/orchestrator/v1/orchestrator_service_pb";

/** Whether this server is a cluster node (a single server answers NOT_A_CLUSTER). */
export async function isClusterNode(): Promise<boolean> {
  try {
    await api.getClusterStatus({});
    return true;
  } catch (e) {
    if (e instanceof ConnectError && e.code === Code.FailedPrecondition) return false;
    throw e;
  }
}

const COLUMNS = ["group", "role", "leader", "term", "commit", "applied", "backlog", "pipelines",
  "members", "valid", "signature"];

export function renderCluster(root: HTMLElement, alive: () => boolean): void {
  const title = h("h1", {}, "Cluster");
  const info = h("p", { class: "muted", id: "cluster-info" }, "…");
  const error = h("div", { class: "error", id: "cluster-error", hidden: true });
  const tbody = h("tbody");
  clear(root, title, info, error,
    h("table", { id: "groups", class: "grid" },
      h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", {}, c)))),
      tbody),
    h("p", { class: "muted" },
      "This node's replica of each group it is a member of. backlog = commit − applied: "
      + "commands committed that this replica has not applied yet. To compare every node's "
      + "replicas, run ", h("code", {}, "lightspeed cluster status"), "."));
  const rows = new Map<number, Record<string, HTMLTableCellElement>>();

  function row(g: ClusterGroupStatus): Record<string, HTMLTableCellElement> {
    let cells = rows.get(g.group);
    if (!cells) {
      cells = {};
      const tr = h("tr", { "data-group": String(g.group) });
      for (const c of COLUMNS) {
        cells[c] = h("td", { class: `c-${c}` });
        tr.append(cells[c]);
      }
      rows.set(g.group, cells);
      tbody.append(tr);
    }
    return cells;
  }

  poll(2000, alive, async () => {
    let status;
    try {
      status = await api.getClusterStatus({});
    } catch (e) {
      if (e instanceof ConnectError && e.code !== Code.Unavailable) {
        error.hidden = false;
        setText(error, describeError(e));
        return;
      }
      throw e;
    }
    error.hidden = true;
    setText(info, `node ${status.nodeId} of cluster '${status.clusterName}': a member of `
      + `${status.groups.length} group${status.groups.length === 1 ? "" : "s"}; updated `
      + new Date().toLocaleTimeString());
    const seen = new Set<number>();
    for (const g of status.groups) {
      seen.add(g.group);
      const c = row(g);
      setText(c.group, String(g.group));
      setText(c.role, g.role.toLowerCase());
      setText(c.leader, g.leaderId || "none");
      c.leader.classList.toggle("error", !g.leaderId);
      setText(c.term, String(g.term));
      setText(c.commit, String(g.commitIndex));
      setText(c.applied, String(g.appliedIndex));
      setText(c.backlog, String(g.commitIndex - g.appliedIndex));
      setText(c.pipelines, String(g.pipelineCount));
      setText(c.members, g.members.join(", "));
      setText(c.valid, g.valid ? "yes" : "NO");
      c.valid.classList.toggle("error", !g.valid);
      setText(c.signature, g.signature);
    }
    for (const [group, cells] of rows) {
      if (!seen.has(group)) {
        cells.group.parentElement?.remove(); // this node left the group
        rows.delete(group);
      }
    }
  });
}
