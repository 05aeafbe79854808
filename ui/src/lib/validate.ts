// The add/edit form: its fields, their validation (the same rules the core enforces, checked
// before anything is sent), and conversion to a ServerSpec.
import type { RemoteTransport } from './bindings/RemoteTransport';
import type { RestartPolicy } from './bindings/RestartPolicy';
import type { ServerSpec } from './bindings/ServerSpec';

export interface ServerForm {
  name: string;
  kind: 'stdio' | 'remote';
  command: string;
  /** One argument per line: no shell quoting to get wrong. */
  args: string;
  /** KEY=VALUE per line. */
  env: string;
  cwd: string;
  url: string;
  transport: RemoteTransport;
  /** Name: value per line. */
  headers: string;
  restart: RestartPolicy;
  enabled: boolean;
  /** Started by a host's first call, stopped when idle. */
  lazy: boolean;
  /** A process per host session (it cannot be shared). */
  perSession: boolean;
  /** The names of the values kept in the secret store: not shown, carried through an edit. */
  secrets: string[];
}

export type FormErrors = Partial<Record<keyof ServerForm, string>>;

export function emptyForm(restart: RestartPolicy): ServerForm {
  return {
    name: '', kind: 'stdio', command: '', args: '', env: '', cwd: '', url: '',
    transport: 'streamable-http', headers: '', restart, enabled: true, lazy: false,
    perSession: false, secrets: [],
  };
}

export function formFromSpec(name: string, spec: ServerSpec): ServerForm {
  const form = emptyForm(spec.restart);
  form.name = name;
  form.enabled = spec.enabled;
  form.lazy = spec.lazy ?? false;
  form.perSession = spec.perSession ?? false;
  form.secrets = spec.secrets ?? [];
  if (spec.type === 'stdio') {
    form.command = spec.command;
    form.args = (spec.args ?? []).join('\n');
    form.env = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\n');
    form.cwd = spec.cwd ?? '';
  } else {
    form.kind = 'remote';
    form.url = spec.url;
    form.transport = spec.transport;
    form.headers = Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');
  }
  return form;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

function pairs(text: string, separator: string, check: (key: string) => boolean): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf(separator);
    const key = at > 0 ? line.slice(0, at).trim() : '';
    if (!key || !check(key)) return `"${line}" is not ${separator === '=' ? 'KEY=VALUE' : 'Name: value'}`;
    if (key in out) return `${key} is given twice`;
    out[key] = line.slice(at + 1).trim();
  }
  return out;
}

/** Checks the form; returns the spec to send, or the errors to show. */
export function validate(form: ServerForm): { spec: ServerSpec } | { errors: FormErrors } {
  const errors: FormErrors = {};
  if (!NAME.test(form.name)) {
    errors.name = form.name
      ? 'Use 1 to 64 lowercase letters, digits, "-", "_" or ".", starting with a letter or digit.'
      : 'A name is required.';
  }
  let spec: ServerSpec | null = null;
  if (form.kind === 'stdio') {
    if (!form.command.trim()) errors.command = 'A command is required, for example npx or uvx.';
    const env = pairs(form.env, '=', (k) => !/[\s=]/.test(k));
    if (typeof env === 'string') errors.env = env;
    else if (!errors.command) {
      spec = {
        type: 'stdio', command: form.command.trim(), args: lines(form.args), env,
        ...(form.cwd.trim() ? { cwd: form.cwd.trim() } : {}),
        enabled: form.enabled, restart: form.restart,
      };
    }
  } else {
    let url: URL | null = null;
    try {
      url = new URL(form.url.trim());
    } catch {
      errors.url = 'Enter a full URL, for example http://127.0.0.1:3000/mcp.';
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
      errors.url = 'The URL must start with http:// or https://.';
    }
    const headers = pairs(form.headers, ':', (k) => HEADER_NAME.test(k));
    if (typeof headers === 'string') errors.headers = headers;
    else if (!errors.url) {
      spec = { type: 'remote', url: form.url.trim(), transport: form.transport, headers, enabled: form.enabled, restart: form.restart };
    }
  }
  if (Object.keys(errors).length > 0 || !spec) return { errors };
  // What the form does not edit as text rides along: the secret names (without them the server
  // would start without its keys), and how hosts reach it.
  if (form.secrets.length > 0) spec.secrets = form.secrets;
  if (form.lazy && spec.type === 'stdio') spec.lazy = true;
  if (form.perSession && spec.type === 'stdio') spec.perSession = true;
  return { spec };
}
