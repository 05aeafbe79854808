// The MCP shapes the Tester renders, as the servers send them (a subset of the protocol's schema;
// fields the UI does not use are left out, and unknown ones pass through untouched).

export type JsonSchema = { [key: string]: unknown };

export interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: { [key: string]: unknown };
}

export interface Resource {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

export interface ResourceTemplate {
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

export interface PromptArgument {
  name: string;
  description?: string;
  required?: boolean;
}

export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: PromptArgument[];
}

export type ResourceContents =
  | { uri: string; mimeType?: string; text: string }
  | { uri: string; mimeType?: string; blob: string };

export type ContentBlock =
  | { type: 'text'; text: string; annotations?: unknown }
  | { type: 'image'; data: string; mimeType: string; annotations?: unknown }
  | { type: 'audio'; data: string; mimeType: string; annotations?: unknown }
  | ({ type: 'resource_link' } & Resource & { annotations?: unknown })
  | { type: 'resource'; resource: ResourceContents; annotations?: unknown };

export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: unknown;
  isError?: boolean;
}

export interface ReadResourceResult {
  contents: ResourceContents[];
}

export interface PromptMessage {
  role: string;
  content: ContentBlock;
}

export interface GetPromptResult {
  description?: string;
  messages: PromptMessage[];
}
