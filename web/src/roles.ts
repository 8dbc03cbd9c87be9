// What each button needs: the role of the RPC it calls (the server's Role table). The page
// disables what the token's roles do not allow; the server refuses it regardless.
export const NEEDS = {
  applyAction: "operator",
  startRun: "operator",
  completeRun: "operator",
  createPipeline: "admin",
} as const;

let roles = new Set<string>();

export function setRoles(r: string[]): void {
  roles = new Set(r);
}

export function may(role: string): boolean {
  return roles.has(role);
}

/** A button that is disabled (with a tooltip saying why) when the token lacks {@code role}. */
export function guard(button: HTMLButtonElement, role: string): HTMLButtonElement {
  if (!may(role)) {
    button.disabled = true;
    button.title = `needs the ${role} role`;
    button.dataset.denied = role;
  }
  return button;
}
