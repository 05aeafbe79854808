// A minimal view of the servers until the full UI lands; it only calls the `status` command.
const invoke = window.__TAURI__?.core?.invoke;

async function refresh() {
  const summary = document.getElementById('summary');
  const body = document.getElementById('servers');
  if (!invoke) {
    summary.textContent = 'Not running inside the Switchboard app.';
    return;
  }
  try {
    const servers = await invoke('status');
    summary.textContent = `${servers.length} server(s)`;
    body.replaceChildren(...servers.map((s) => {
      const row = document.createElement('tr');
      for (const cell of [s.name, s.state.kind, s.state.pid ?? '', s.restarts]) {
        const td = document.createElement('td');
        td.textContent = String(cell);
        row.append(td);
      }
      return row;
    }));
  } catch (error) {
    summary.className = 'error';
    summary.textContent = error.message ?? String(error);
  }
}

// The full UI (issue #3) follows live events; this placeholder refreshes when it is looked at.
refresh();
window.addEventListener('focus', refresh);
