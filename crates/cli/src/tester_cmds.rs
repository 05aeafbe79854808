//! The tester from the command line: `inspect`, `call`, `read`, `prompt`, `export-tools`.
//! Each connects to one target (a registered server, a URL, or a command after `--`), does one
//! thing, prints it as text (or JSON with `--json`), and closes the session, ending a spawned
//! server's whole process group.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_core::mcp::{
    CallOutcome, ConnectOptions, Direction, HttpTransport, ProtocolChoice, ServerDetails,
    SessionOptions, TrafficEntry, args as tool_args,
    export::{self, Format},
    rmcp::model::{
        ContentBlock, GetPromptResult, Prompt, Resource, ResourceContents, ResourceTemplate, Tool,
    },
};
use switchboard_core::{Env, Paths};
use switchboard_runtime::{
    pins::{self, Flag},
    tester::{Target, TesterSession},
};

use crate::output::{Usage, print_json};

/// Where to connect, and how.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// A server from the registry.
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    server: Option<String>,
    /// A remote MCP endpoint.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The URL's transport; by default Streamable HTTP, falling back to legacy SSE.
    #[arg(long, value_name = "TRANSPORT", requires = "url", value_parser = ["streamable-http", "sse"])]
    transport: Option<String>,
    /// An HTTP header for the URL, e.g. `Authorization=Bearer ...` (repeatable).
    #[arg(long = "header", value_name = "K=V", requires = "url")]
    headers: Vec<String>,
    /// Speak exactly this protocol revision instead of negotiating.
    #[arg(long, value_name = "REVISION")]
    protocol: Option<String>,
    /// Seconds to wait for each answer (and for the handshake).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Print every JSON-RPC message to stderr, with timings.
    #[arg(long)]
    trace: bool,
    /// Write the traffic log to FILE as JSON lines (direction, timestamps, latency, message).
    #[arg(long, value_name = "FILE")]
    traffic_jsonl: Option<std::path::PathBuf>,
    /// A command to run as the server (argv, no shell); always last, after `--`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

impl TargetArgs {
    fn target(&self) -> anyhow::Result<Target> {
        let chosen = usize::from(self.server.is_some())
            + usize::from(self.url.is_some())
            + usize::from(!self.command.is_empty());
        if chosen != 1 {
            bail!(Usage(
                "name exactly one target: --server NAME, --url URL, or -- CMD [ARGS...]".into()
            ));
        }
        if let Some(name) = &self.server {
            return Ok(Target::Server { name: name.clone() });
        }
        if let Some(url) = &self.url {
            let transport = match self.transport.as_deref() {
                Some("sse") => Some(HttpTransport::Sse),
                Some(_) => Some(HttpTransport::StreamableHttp),
                None => None,
            };
            let mut headers = BTreeMap::new();
            for pair in &self.headers {
                let Some((k, v)) = pair.split_once('=') else {
                    bail!(Usage(format!("--header {pair:?} is not K=V")));
                };
                headers.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            return Ok(Target::Url { url: url.clone(), transport, headers });
        }
        let (command, args) = self.command.split_first().context("no command")?;
        Ok(Target::Command {
            command: command.clone(),
            args: args.to_vec(),
            env: BTreeMap::new(),
            cwd: None,
        })
    }

    fn options(&self) -> anyhow::Result<SessionOptions> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            bail!(Usage("--timeout must be a positive number of seconds".into()));
        }
        let timeout = Duration::from_secs_f64(self.timeout);
        let protocol = match &self.protocol {
            Some(revision) => {
                if !switchboard_core::mcp::REVISIONS.contains(&revision.as_str()) {
                    bail!(Usage(format!(
                        "unknown protocol revision {revision:?}; known: {}",
                        switchboard_core::mcp::REVISIONS.join(", ")
                    )));
                }
                ProtocolChoice::Force(revision.clone())
            }
            None => ProtocolChoice::Auto,
        };
        Ok(SessionOptions {
            connect: ConnectOptions { timeout, protocol, ..ConnectOptions::default() },
            request_timeout: timeout,
            ..SessionOptions::default()
        })
    }
}

/// What `inspect` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Section {
    All,
    Info,
    Tools,
    Resources,
    Templates,
    Prompts,
}

/// Opens a session, runs `work`, prints the trace if asked, and closes the session.
async fn with_session<T>(
    paths: &Paths,
    env: &Env,
    target: &TargetArgs,
    work: impl AsyncFnOnce(&TesterSession) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let session = TesterSession::open(paths, env, target.target()?, &target.options()?).await?;
    let result = work(&session).await;
    if target.trace {
        for entry in session.session().traffic().entries() {
            eprintln!("{}", trace_line(&entry));
        }
    }
    // What the server logged (`notifications/message`) goes to stderr, as a host would show it.
    for message in session.session().log_messages() {
        let logger = message.logger.map(|l| format!(" {l}")).unwrap_or_default();
        let data = match &message.data {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        eprintln!("[server {}{logger}] {data}", message.level);
    }
    let written = match &target.traffic_jsonl {
        Some(path) => std::fs::write(path, session.session().traffic().to_json_lines())
            .with_context(|| format!("writing the traffic log to {}", path.display())),
        None => Ok(()),
    };
    session.close().await;
    let result = result?;
    written?;
    Ok(result)
}

fn trace_line(entry: &TrafficEntry) -> String {
    let arrow = match entry.direction {
        Direction::Sent => "->",
        Direction::Received => "<-",
        Direction::Invalid => "!!",
    };
    let latency = entry.latency_ms.map(|ms| format!(" ({ms:.1} ms)")).unwrap_or_default();
    let method = entry.method.as_deref().unwrap_or("");
    let mut text = serde_json::to_string(&entry.message).unwrap_or_default();
    if text.len() > 2000 {
        let cut = (0..=2000).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text = format!("{}… ({} bytes)", &text[..cut], entry.bytes);
    }
    format!("[{:>9.1} ms] {arrow} {method}{latency} {text}", entry.elapsed_ms)
}

/// What `inspect` found: the sections asked for, as the server sent them.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<ServerDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<Tool>>,
    /// Tool descriptions that look like they try to steer the model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Vec<Resource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_templates: Option<Vec<ResourceTemplate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompts: Option<Vec<Prompt>>,
}

pub async fn inspect(
    paths: &Paths,
    env: &Env,
    section: Section,
    target: TargetArgs,
) -> anyhow::Result<()> {
    let json = target.json;
    with_session(paths, env, &target, async |session| {
        let s = session.session();
        let want = |x: Section| section == Section::All || section == x;
        let mut found = Inspection::default();
        if want(Section::Info) {
            found.info = Some(s.details().clone());
        }
        if want(Section::Tools) {
            let tools = session.check(s.list_tools().await).await?.items;
            found.flags = tools.iter().flat_map(flags_of).collect();
            found.tools = Some(tools);
        }
        if want(Section::Resources) {
            found.resources = Some(session.check(s.list_resources().await).await?.items);
        }
        if want(Section::Templates) {
            found.resource_templates =
                Some(session.check(s.list_resource_templates().await).await?.items);
        }
        if want(Section::Prompts) {
            found.prompts = Some(session.check(s.list_prompts().await).await?.items);
        }
        if json {
            // One section prints as itself; all of them as an object of sections.
            return match section {
                Section::All => print_json(&found),
                Section::Info => print_json(&found.info),
                Section::Tools => {
                    // The array stays an array; the warnings go where a person sees them.
                    for flag in &found.flags {
                        eprintln!("warning: {}", flag_text(flag));
                    }
                    print_json(&found.tools)
                }
                Section::Resources => print_json(&found.resources),
                Section::Templates => print_json(&found.resource_templates),
                Section::Prompts => print_json(&found.prompts),
            };
        }
        if let Some(info) = &found.info {
            print_info(info);
        }
        if let Some(tools) = &found.tools {
            heading(section, &format!("tools ({})", tools.len()));
            for tool in tools {
                print_tool(tool);
                for flag in found.flags.iter().filter(|f| f.tool == tool.name.as_ref()) {
                    println!("    ! flagged: {}", flag_text(flag));
                }
            }
        }
        if let Some(resources) = &found.resources {
            heading(section, &format!("resources ({})", resources.len()));
            for r in resources {
                println!("{}  {}{}", r.uri, r.name, paren(r.mime_type.as_deref()));
            }
        }
        if let Some(templates) = &found.resource_templates {
            heading(section, &format!("resource templates ({})", templates.len()));
            for t in templates {
                println!("{}  {}{}", t.uri_template, t.name, paren(t.mime_type.as_deref()));
            }
        }
        if let Some(prompts) = &found.prompts {
            heading(section, &format!("prompts ({})", prompts.len()));
            for p in prompts {
                let args: Vec<String> = p
                    .arguments
                    .iter()
                    .flatten()
                    .map(|a| {
                        let star = if a.required == Some(true) { "*" } else { "" };
                        format!("{}{star}", a.name)
                    })
                    .collect();
                println!(
                    "{}({})  {}",
                    p.name,
                    args.join(", "),
                    p.description.as_deref().unwrap_or("")
                );
            }
        }
        Ok(())
    })
    .await
}

fn heading(section: Section, text: &str) {
    if section == Section::All {
        println!("\n{text}:");
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn paren(value: Option<&str>) -> String {
    value.map(|v| format!("  ({v})")).unwrap_or_default()
}

fn print_info(details: &ServerDetails) {
    let n = &details.negotiated;
    println!(
        "server:       {} {}",
        n.server_name.as_deref().unwrap_or("(unnamed)"),
        n.server_version.as_deref().unwrap_or("")
    );
    println!(
        "protocol:     {}{} over {}",
        n.protocol_version,
        if n.stateless { " (stateless)" } else { "" },
        details.transport
    );
    // Capabilities are kept as the server sent them (unknown ones included): `name (flags)`.
    let capabilities: Vec<String> = details
        .capabilities
        .as_object()
        .map(|caps| {
            caps.iter()
                .map(|(name, value)| {
                    let flags: Vec<&str> = value
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .filter(|(_, v)| **v == json!(true))
                                .map(|(k, _)| k.as_str())
                                .collect()
                        })
                        .unwrap_or_default();
                    if flags.is_empty() {
                        name.clone()
                    } else {
                        format!("{name} ({})", flags.join(", "))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    println!(
        "capabilities: {}",
        if capabilities.is_empty() { "none".into() } else { capabilities.join(", ") }
    );
    if let Some(instructions) = &n.instructions {
        println!("instructions: {}", instructions.trim());
    }
}

/// Why `tool`'s description looks like it tries to steer the model, if it does.
fn flags_of(tool: &Tool) -> Vec<Flag> {
    serde_json::to_value(tool)
        .map(|value| pins::flags(&pins::ToolPin::of(&value)))
        .unwrap_or_default()
}

fn flag_text(flag: &Flag) -> String {
    format!("{} ({}: {})", flag.tool, flag.kind, flag.detail)
}

fn print_tool(tool: &Tool) {
    println!("{}  {}", tool.name, first_line(tool.description.as_deref().unwrap_or("")));
    // The input schema is the server's JSON Schema, read as JSON.
    let schema = Value::Object((*tool.input_schema).clone());
    let required = tool_args::required_names(&schema);
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            let star = if required.contains(&name.as_str()) { "*" } else { "" };
            let kind = match &prop["type"] {
                Value::String(t) => t.clone(),
                Value::Array(ts) => {
                    ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("|")
                }
                _ if prop.get("$ref").is_some() => "object".into(),
                _ if prop.get("anyOf").is_some() || prop.get("oneOf").is_some() => "one of".into(),
                _ => "any".into(),
            };
            let description = first_line(str_of(prop, "description"));
            println!(
                "    {name}{star}: {kind}{}",
                if description.is_empty() { String::new() } else { format!("  {description}") }
            );
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

pub async fn call(
    paths: &Paths,
    env: &Env,
    tool: String,
    pairs: Vec<String>,
    args_json: Option<String>,
    target: TargetArgs,
) -> anyhow::Result<()> {
    let base = match &args_json {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => bail!(Usage("--args-json must be a JSON object".into())),
            Err(e) => bail!(Usage(format!("--args-json is not JSON: {e}"))),
        },
        None => Map::new(),
    };
    let json = target.json;
    let outcome = with_session(paths, env, &target, async |session| {
        let s = session.session();
        let Some(found) = session.check(s.tool(&tool).await).await? else {
            let names: Vec<String> = s
                .list_tools()
                .await
                .map(|l| l.items.iter().map(|t| t.name.to_string()).collect())
                .unwrap_or_default();
            bail!(Usage(format!("the server has no tool {tool:?}; it has: {}", names.join(", "))));
        };
        let schema = Value::Object(found.input_schema.as_ref().clone());
        let arguments = tool_args::build(&pairs, &schema, base).map_err(|e| Usage(e.0))?;
        let missing = tool_args::missing_required(&arguments, &schema);
        if !missing.is_empty() {
            bail!(Usage(format!("{tool} needs {}", missing.join(", "))));
        }
        Ok(session.call_tool(&tool, arguments, None, None).await?)
    })
    .await?;
    print_outcome(&outcome, json)
}

fn print_outcome(outcome: &CallOutcome, json: bool) -> anyhow::Result<()> {
    for p in &outcome.progress {
        let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        eprintln!(
            "progress {}{total}{}",
            p.progress,
            p.message.as_deref().map(|m| format!(" {m}")).unwrap_or_default()
        );
    }
    if let Some(check) = &outcome.structured {
        for error in &check.errors {
            eprintln!("warning: structuredContent does not match the outputSchema: {error}");
        }
    }
    let failed = outcome.result.is_error == Some(true);
    if json {
        print_json(outcome)?;
    } else {
        let mut printed = false;
        for content in &outcome.result.content {
            printed = true;
            if failed {
                eprintln!("{}", describe_content(content));
            } else {
                println!("{}", describe_content(content));
            }
        }
        if let Some(structured) = &outcome.result.structured_content
            && !failed
        {
            if printed {
                println!("structuredContent:");
            }
            println!("{}", serde_json::to_string_pretty(structured)?);
        }
        eprintln!("({:.1} ms)", outcome.elapsed_ms);
    }
    if failed {
        bail!("the tool reported an error (isError)");
    }
    Ok(())
}

fn describe_content(content: &ContentBlock) -> String {
    match content {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => {
            format!("[image {}, {} bytes base64]", image.mime_type, image.data.len())
        }
        ContentBlock::Audio(audio) => {
            format!("[audio {}, {} bytes base64]", audio.mime_type, audio.data.len())
        }
        ContentBlock::Resource(embedded) => describe_resource(&embedded.resource),
        ContentBlock::ResourceLink(link) => format!("[link] {}  {}", link.uri, link.name),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn describe_resource(resource: &ResourceContents) -> String {
    match resource {
        ResourceContents::TextResourceContents { uri, text, .. } => {
            format!("[resource {uri}]\n{text}")
        }
        ResourceContents::BlobResourceContents { uri, blob, mime_type, .. } => format!(
            "[resource {uri}, {} bytes base64{}]",
            blob.len(),
            mime_type.as_deref().map(|m| format!(", {m}")).unwrap_or_default()
        ),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

pub async fn read(paths: &Paths, env: &Env, uri: String, target: TargetArgs) -> anyhow::Result<()> {
    let json = target.json;
    let result = with_session(paths, env, &target, async |session| {
        Ok(session.check(session.session().read_resource(&uri).await).await?)
    })
    .await?;
    if json {
        return print_json(&result);
    }
    for contents in &result.contents {
        println!("{}", describe_resource(contents));
    }
    Ok(())
}

pub async fn prompt(
    paths: &Paths,
    env: &Env,
    name: String,
    pairs: Vec<String>,
    target: TargetArgs,
) -> anyhow::Result<()> {
    let mut arguments = Map::new();
    for pair in &pairs {
        let Some((k, v)) = pair.split_once('=') else {
            bail!(Usage(format!("{pair:?} is not KEY=VALUE")));
        };
        // Prompt arguments are strings by definition.
        arguments.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let json = target.json;
    let result: GetPromptResult = with_session(paths, env, &target, async |session| {
        Ok(session.check(session.session().get_prompt(&name, arguments).await).await?)
    })
    .await?;
    if json {
        return print_json(&result);
    }
    if let Some(description) = &result.description {
        println!("{description}\n");
    }
    for message in &result.messages {
        let role = serde_json::to_value(&message.role).ok();
        let role = role.as_ref().and_then(Value::as_str).unwrap_or("?");
        println!("[{role}] {}", describe_content(&message.content));
    }
    Ok(())
}

pub async fn export_tools(
    paths: &Paths,
    env: &Env,
    format: String,
    target: TargetArgs,
) -> anyhow::Result<()> {
    let format: Format = format.parse().map_err(Usage)?;
    let tools = with_session(paths, env, &target, async |session| {
        Ok(session.check(session.session().list_tools().await).await?.items)
    })
    .await?;
    let exported = export::export(&tools, format);
    for renamed in &exported.renamed {
        eprintln!("note: tool {:?} exported as {:?}", renamed.from, renamed.to);
    }
    for problem in &exported.problems {
        eprintln!("note: {}: {}", problem.tool, problem.problem);
    }
    for flag in tools.iter().flat_map(flags_of) {
        eprintln!("warning: flagged: {}", flag_text(&flag));
    }
    print_json(&exported.tools)
}
