// Small DOM helpers. Text always goes in as text nodes, never as HTML.

/** An element with attributes and children (strings become text nodes). */
export function el(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElement {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== "") element.setAttribute(name, value)
    else if (name.startsWith("data-")) element.setAttribute(name, "")
  }
  element.append(...children)
  return element
}

/** Shows an error to the user until the next one (or until dismissed). */
export function showError(message: string): void {
  const box = document.getElementById("error")
  if (!box) return
  const dismiss = el("button", { type: "button", "aria-label": "zamknij" }, "×")
  dismiss.addEventListener("click", () => {
    box.hidden = true
  })
  box.replaceChildren(el("span", { "data-testid": "error-text" }, message), dismiss)
  box.hidden = false
}

/** Shows the connection state in the header. */
export function showConnection(online: boolean): void {
  const status = document.getElementById("connection")
  if (!status) return
  status.dataset.state = online ? "online" : "offline"
  status.textContent = online ? "połączono" : "offline — zmiany zostaną wysłane po powrocie"
}

/** Hides the error shown, once what it was about has been put right. */
export function clearError(): void {
  const box = document.getElementById("error")
  if (box) box.hidden = true
}
