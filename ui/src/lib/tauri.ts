// The Tauri implementation of Backend: the only module that imports @tauri-apps/*.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { type Backend, BackendError } from './backend';
import type { Event } from './bindings/Event';
import { parseView } from './view';

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw BackendError.from(error);
  }
}

export const tauriBackend: Backend = {
  ownerError: () => call('owner_error'),
  servers: () => call('servers'),
  addServer: (name, spec) => call('add_server', { name, spec }),
  updateServer: (name, spec) => call('update_server', { name, spec }),
  removeServer: (name) => call('remove_server', { name }),
  start: (name) => call('start_server', { name }),
  stop: (name) => call('stop_server', { name }),
  restart: (name) => call('restart_server', { name }),
  logs: (name) => call('server_logs', { name }),
  settings: () => call('get_settings'),
  saveSettings: (settings) => call('save_settings', { settings }),
  locations: () => call('data_locations'),
  autostart: () => call('autostart_enabled'),
  setAutostart: (enabled) => call('set_autostart', { enabled }),
  onEvents: (handler) => listen<Event[]>('switchboard://events', (e) => handler(e.payload)),
  onNavigate: (handler) =>
    listen<string>('switchboard://navigate', (e) => {
      const [view, server] = parseView(e.payload);
      handler(view, server);
    }),
};
