// The Tauri implementation of Backend: the only module that imports @tauri-apps/*.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { type Backend, BackendError } from './backend';
import type { Commands } from './bindings/Commands';
import type { Event } from './bindings/Event';
import type { GetPromptResult, ReadResourceResult } from './mcp';
import { parseView } from './view';

type Args<K extends keyof Commands> = Commands[K]['args'];
type Result<K extends keyof Commands> = Commands[K]['result'];

/** Invokes a command with the argument and result types generated from its Rust signature. */
async function call<K extends keyof Commands>(
  command: K,
  ...args: Record<string, never> extends Args<K> ? [] : [Args<K>]
): Promise<Result<K>> {
  try {
    return await invoke<Result<K>>(command, args[0]);
  } catch (error) {
    throw BackendError.from(error);
  }
}

export const tauriBackend: Backend = {
  ownerError: () => call('owner_error'),
  servers: () => call('servers'),
  gatewayTraffic: () => call('gateway_traffic'),
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
  testerOpen: (target, protocol, timeoutSecs) => call('tester_open', { target, protocol, timeoutSecs }),
  testerOffer: (id) => call('tester_offer', { id }),
  testerCall: (id, tool, args, callId, timeoutSecs) =>
    call('tester_call', { id, tool, arguments: args, callId, timeoutSecs }),
  testerCancel: (callId) => call('tester_cancel', { callId }),
  // The server's own JSON, passed through untouched by Rust; `lib/mcp.ts` types its shape.
  testerRead: (id, uri) => call('tester_read', { id, uri }) as Promise<ReadResourceResult>,
  testerPrompt: (id, name, args) =>
    call('tester_prompt', { id, name, arguments: args }) as Promise<GetPromptResult>,
  testerTraffic: (id, after) => call('tester_traffic', { id, after }),
  testerTrafficJsonLines: (id) => call('tester_traffic_json_lines', { id }),
  testerHistory: (id) => call('tester_history', { id }),
  testerExport: (id, format, tool) => call('tester_export', { id, format, tool }),
  testerClose: (id) => call('tester_close', { id }),
  onKbStatus: (handler) => listen('switchboard://kb-status', () => handler()),
  onTesterTraffic: (handler) => listen<number>('switchboard://tester-traffic', (e) => handler(e.payload)),
  kbInfo: () => call('kb_info'),
  kbCall: (tool, args) => call('kb_call', { tool, arguments: args }),
  kbSetFolders: (folders) => call('kb_set_folders', { folders }),
  hostsStatus: () => call('hosts_status'),
  hostsPreview: (host, servers) => call('hosts_preview', { host, servers }),
  hostsWrite: (host, servers) => call('hosts_write', { host, servers }),
  hostsUndo: (host) => call('hosts_undo', { host }),
  hostsConnect: (host, mode, dryRun) => call('hosts_connect', { host, mode, dryRun }),
  hostsDisconnect: (host, dryRun) => call('hosts_disconnect', { host, dryRun }),
  hostsConnections: () => call('hosts_connections'),
  hostsImport: (host, name, dryRun) => call('hosts_import', { host, name, dryRun }),
  hostsBudget: (host) => call('hosts_budget', { host }),
  hostsAvailability: () => call('hosts_availability'),
  // Drift and install progress travel on the one event stream, like the supervisor's events.
  onHostsDrift: (handler) =>
    listen<Event[]>('switchboard://events', (e) => {
      for (const event of e.payload) if (event.event === 'host_drift') handler(event.report);
    }),
  catalogSearch: (query) => call('catalog_search', { query }),
  catalogRefresh: () => call('catalog_refresh'),
  installForm: (entry) => call('install_form', { entry }),
  install: (entry, name, answers) => call('install_server', { entry, name, answers }),
  uninstall: (name) => call('uninstall_server', { name }),
  pinsDiff: (name) => call('pins_diff', { name }),
  pinsApprove: (name) => call('pins_approve', { name }),
  onInstallProgress: (handler) =>
    listen<Event[]>('switchboard://events', (e) => {
      for (const event of e.payload) if (event.event === 'install_progress') handler(event.progress);
    }),
  onEvents: (handler) => listen<Event[]>('switchboard://events', (e) => handler(e.payload)),
  onNavigate: (handler) =>
    listen<string>('switchboard://navigate', (e) => {
      const [view, server] = parseView(e.payload);
      handler(view, server);
    }),
};
