//! `switchboard catalog …`: search and show the servers one can install (the bundled catalog plus
//! the last registry refresh), and refresh from an MCP Registry.

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_api as api;
use switchboard_catalog::{
    self as catalog, Argument, ArgumentKind, Input, KeyValueInput, Query, ServerJson, registry_url,
};
use switchboard_core::settings;

use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Find servers by words in their name, title, description or package.
    Search(SearchArgs),
    /// One server's packages, remotes and the inputs each asks for.
    Show {
        /// Its full name (io.github.user/weather), short name or title.
        name: String,
        /// Ask the registry for this exact version instead.
        #[arg(long)]
        version: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Fetch the registry's servers and cache them for offline use.
    Refresh {
        /// The registry's base URL (default: SWITCHBOARD_REGISTRY_URL, the `registryUrl` setting,
        /// or the official registry).
        #[arg(long, value_name = "URL")]
        registry: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words that must all match.
    query: Vec<String>,
    /// Only servers that run this way.
    #[arg(long, value_parser = ["npm", "pypi", "oci", "mcpb", "nuget", "remote"])]
    runtime: Option<String>,
    /// Only servers that offer this transport.
    #[arg(long, value_parser = ["stdio", "streamable-http", "sse"])]
    transport: Option<String>,
    /// Only servers that run without any secret (API key, token).
    #[arg(long, conflicts_with = "needs_secrets")]
    no_secrets: bool,
    /// Only servers that need a secret.
    #[arg(long)]
    needs_secrets: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &api::Context, command: CatalogCommand) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Search(args) => search(ctx, args).await,
        CatalogCommand::Show { name, version, json } => show(ctx, &name, version, json).await,
        CatalogCommand::Refresh { registry, json } => refresh(ctx, registry, json).await,
    }
}

async fn search(ctx: &api::Context, args: SearchArgs) -> anyhow::Result<()> {
    let catalog = ctx.catalog().await?;
    let query = Query {
        text: args.query.join(" "),
        runtime: args.runtime,
        transport: args.transport,
        needs_secrets: match (args.no_secrets, args.needs_secrets) {
            (true, _) => Some(false),
            (_, true) => Some(true),
            _ => None,
        },
    };
    let cards = catalog.search(&query);
    if args.json {
        return print_json(&cards);
    }
    if cards.is_empty() {
        println!("no server in the catalog matches");
        return Ok(());
    }
    let width = cards.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    println!("{:width$}  {:12}  {:14}  {:6}  DESCRIPTION", "NAME", "VERSION", "RUNS", "SECRET");
    for c in &cards {
        println!(
            "{:width$}  {:12}  {:14}  {:6}  {}",
            c.name,
            c.version,
            c.runtimes.join(","),
            if c.needs_secrets { "yes" } else { "-" },
            c.description
        );
    }
    if let Some(info) = &catalog.refreshed {
        eprintln!(
            "{} servers; registry entries from {} (refresh with `switchboard catalog refresh`)",
            cards.len(),
            info.registry
        );
    }
    Ok(())
}

async fn show(
    ctx: &api::Context,
    name: &str,
    version: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let server = ctx.lookup(name, version.as_deref()).await?;
    if json {
        return print_json(&server);
    }
    print!("{}", describe(&server));
    Ok(())
}

async fn refresh(ctx: &api::Context, registry: Option<String>, json: bool) -> anyhow::Result<()> {
    if !json {
        let settings = settings::load(&ctx.paths)?;
        let url = registry
            .clone()
            .unwrap_or_else(|| registry_url(&ctx.env, settings.registry_url.as_deref()));
        eprintln!("fetching the server list from {}", url.trim_end_matches('/'));
    }
    let info = ctx
        .catalog_refresh(registry)
        .await
        .context("the catalog was not refreshed; search and install keep using what it had")?;
    if json {
        return print_json(&Some(info));
    }
    let catalog = ctx.catalog().await?;
    println!(
        "{} servers from {}; the catalog now has {} (cached in {})",
        info.count,
        info.registry,
        catalog.entries().len(),
        catalog::cache_path(&ctx.paths.data_dir).display()
    );
    Ok(())
}

/// A server's entry as text: what it is, each way to run it, and what each asks for.
fn describe(s: &ServerJson) -> String {
    let mut out = format!("{} {}\n  {}\n", s.name, s.version, s.description);
    if let Some(t) = &s.title {
        out.push_str(&format!("  title: {t}\n"));
    }
    if let Some(r) = &s.repository {
        out.push_str(&format!("  source: {}\n", r.url));
    }
    if let Some(w) = &s.website_url {
        out.push_str(&format!("  website: {w}\n"));
    }
    for p in &s.packages {
        let version = p.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default();
        out.push_str(&format!(
            "package  {} {}{version} ({}{})\n",
            p.registry_type.as_str(),
            p.identifier,
            p.transport.kind,
            p.transport.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
        ));
        for a in p.runtime_arguments.iter().chain(&p.package_arguments) {
            out.push_str(&format!("  {}\n", argument(a)));
        }
        for e in &p.environment_variables {
            out.push_str(&format!("  {}\n", key_value("env", e)));
        }
        for h in &p.transport.headers {
            out.push_str(&format!("  {}\n", key_value("header", h)));
        }
        if let Some(sha) = &p.file_sha256 {
            out.push_str(&format!("  sha256 {sha}\n"));
        }
    }
    for r in &s.remotes {
        out.push_str(&format!("remote   {} ({})\n", r.url, r.kind));
        for h in &r.headers {
            out.push_str(&format!("  {}\n", key_value("header", h)));
        }
        for (name, v) in &r.variables {
            out.push_str(&format!("  url variable {{{name}}}{}\n", traits(v)));
        }
    }
    out
}

fn argument(a: &Argument) -> String {
    let label = match a.kind {
        ArgumentKind::Named => format!("arg {}", a.name.as_deref().unwrap_or("?")),
        ArgumentKind::Positional => {
            format!(
                "arg <{}>",
                a.value_hint.as_deref().or(a.input.value.as_deref()).unwrap_or("value")
            )
        }
    };
    format!("{label}{}{}", if a.is_repeated { " (repeatable)" } else { "" }, traits(&a.input))
}

fn key_value(kind: &str, kv: &KeyValueInput) -> String {
    format!("{kind} {}{}", kv.name, traits(&kv.input))
}

/// `: required, secret, default x — description`.
fn traits(i: &Input) -> String {
    let mut t = Vec::new();
    if i.is_required {
        t.push("required".to_string());
    }
    if i.is_secret || i.variables.values().any(|v| v.is_secret) {
        t.push("secret".into());
    }
    if let Some(d) = &i.default {
        t.push(format!("default {d}"));
    }
    if !i.choices.is_empty() {
        t.push(format!("one of {}", i.choices.join("|")));
    }
    if let Some(f) = i.format.as_deref().filter(|f| *f != "string") {
        t.push(f.to_string());
    }
    if let Some(v) = &i.value {
        t.push(format!("fixed {v}"));
    }
    let mut text = if t.is_empty() { String::new() } else { format!(" [{}]", t.join(", ")) };
    if let Some(d) = &i.description {
        text.push_str(&format!(" — {d}"));
    }
    text
}
