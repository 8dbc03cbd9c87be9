// The dashboard's entry: asks for a token when the server wants one, then routes
// #/ (overview), #/p/NAME (one pipeline) and, on a cluster node, #/cluster (its groups). Each view gets an alive() that turns false when
// the user navigates away, which stops its polls and streams.
import { session, setToken, token } from "./api";
import { isClusterNode, renderCluster } from "./cluster";
import { clear, h } from "./dom";
import { renderOverview } from "./overview";
import { renderPipeline } from "./pipeline";
import { setRoles } from "./roles";

const root = document.getElementById("app") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;
const clusterLink = document.getElementById("cluster-link") as HTMLElement;
let generation = 0;

function askForToken(reason: string): void {
  const input = h("input", { type: "password", id: "token-input", autocomplete: "off",
    placeholder: "bearer token" });
  const form = h("form", { id: "token-form", onsubmit: (ev: Event) => {
    ev.preventDefault();
    setToken(input.value.trim());
    void start();
  } },
    h("h1", {}, "Sign in"),
    h("p", {}, "This server needs a bearer token (", h("code", {}, "--token-file"), "). It is "
      + "kept in this tab's sessionStorage only and sent as an authorization header."),
    reason ? h("p", { class: "error" }, reason) : null,
    input, " ", h("button", { type: "submit" }, "Use token"));
  clear(root, form);
  input.focus();
}

function route(): void {
  const mine = ++generation;
  const alive = () => mine === generation;
  const m = /^#\/p\/(.+)$/.exec(location.hash);
  if (m) renderPipeline(root, decodeURIComponent(m[1]), alive);
  else if (location.hash === "#/cluster") renderCluster(root, alive);
  else renderOverview(root, alive);
}

async function start(): Promise<void> {
  let s;
  try {
    s = await session();
  } catch (e) {
    clear(root, h("p", { class: "error" }, `Cannot reach the server: ${String(e)}. Retrying…`));
    setTimeout(start, 2000);
    return;
  }
  if (s.auth && s.error) {
    askForToken(token() ? `The token was refused: ${s.error}.` : "");
    return;
  }
  setRoles(s.roles);
  // The header links to the cluster view on a cluster node only (a refusal hides nothing else).
  isClusterNode().then(
    (yes) => { clusterLink.hidden = !yes; },
    () => { clusterLink.hidden = true; });
  clear(who, s.auth ? `${s.name} (${s.roles.join(", ")}) ` : "no authentication ",
    s.auth ? h("button", { type: "button", id: "sign-out", onclick: () => {
      setToken(null);
      generation++;
      void start();
    } }, "Sign out") : null);
  route();
}

window.addEventListener("hashchange", route);
void start();
