//! Locations on all three OSes from injected environments, and every host's entry shapes.

use std::{collections::BTreeMap, ffi::OsString, path::Path};

use serde_json::json;

use super::*;

fn env(os: Os, vars: &[(&str, &str)]) -> HostEnv {
    let vars: Vec<(String, OsString)> =
        vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
    HostEnv::from_lookup(os, |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        .expect("a home")
}

fn user_path(host: HostId, env: &HostEnv) -> String {
    let files = locations(host, env, None);
    assert_eq!(files.len(), 1, "{host}: {files:?}");
    files[0].path.to_string_lossy().replace('\\', "/")
}

#[test]
fn user_config_paths_per_os() {
    let linux = env(Os::Linux, &[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/home/u/.xdg")]);
    let mac = env(Os::MacOs, &[("HOME", "/Users/u")]);
    let win = env(
        Os::Windows,
        &[
            ("USERPROFILE", "C:/Users/u"),
            ("APPDATA", "C:/Users/u/AppData/Roaming"),
            ("LOCALAPPDATA", "C:/Users/u/AppData/Local"),
        ],
    );
    let expect = [
        (
            HostId::ClaudeDesktop,
            "/home/u/.xdg/Claude/claude_desktop_config.json",
            "/Users/u/Library/Application Support/Claude/claude_desktop_config.json",
            "C:/Users/u/AppData/Roaming/Claude/claude_desktop_config.json",
        ),
        (
            HostId::Cursor,
            "/home/u/.cursor/mcp.json",
            "/Users/u/.cursor/mcp.json",
            "C:/Users/u/.cursor/mcp.json",
        ),
        (
            HostId::VsCode,
            "/home/u/.xdg/Code/User/mcp.json",
            "/Users/u/Library/Application Support/Code/User/mcp.json",
            "C:/Users/u/AppData/Roaming/Code/User/mcp.json",
        ),
        (
            HostId::Windsurf,
            "/home/u/.codeium/windsurf/mcp_config.json",
            "/Users/u/.codeium/windsurf/mcp_config.json",
            "C:/Users/u/.codeium/windsurf/mcp_config.json",
        ),
        (
            HostId::ClaudeCode,
            "/home/u/.claude.json",
            "/Users/u/.claude.json",
            "C:/Users/u/.claude.json",
        ),
        (
            HostId::Zed,
            "/home/u/.xdg/zed/settings.json",
            "/Users/u/.config/zed/settings.json",
            "C:/Users/u/AppData/Roaming/Zed/settings.json",
        ),
        (
            HostId::Cline,
            "/home/u/.xdg/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
            "/Users/u/Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
            "C:/Users/u/AppData/Roaming/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        ),
        (
            HostId::GeminiCli,
            "/home/u/.gemini/settings.json",
            "/Users/u/.gemini/settings.json",
            "C:/Users/u/.gemini/settings.json",
        ),
        (
            HostId::Codex,
            "/home/u/.codex/config.toml",
            "/Users/u/.codex/config.toml",
            "C:/Users/u/.codex/config.toml",
        ),
        (
            HostId::LmStudio,
            "/home/u/.lmstudio/mcp.json",
            "/Users/u/.lmstudio/mcp.json",
            "C:/Users/u/.lmstudio/mcp.json",
        ),
        (
            HostId::Continue,
            "/home/u/.continue/config.yaml",
            "/Users/u/.continue/config.yaml",
            "C:/Users/u/.continue/config.yaml",
        ),
        (
            HostId::Goose,
            "/home/u/.config/goose/config.yaml",
            "/Users/u/.config/goose/config.yaml",
            "C:/Users/u/AppData/Roaming/Block/goose/config/config.yaml",
        ),
        (
            HostId::RooCode,
            "/home/u/.xdg/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
            "/Users/u/Library/Application Support/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
            "C:/Users/u/AppData/Roaming/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
        ),
    ];
    assert_eq!(expect.len(), HostId::ALL.len());
    for (host, l, m, w) in expect {
        assert_eq!(user_path(host, &linux), l, "{host} on Linux");
        assert_eq!(user_path(host, &mac), m, "{host} on macOS");
        assert_eq!(user_path(host, &win), w, "{host} on Windows");
    }
    // Defaults when the XDG and Windows folder variables are unset; CODEX_HOME moves Codex.
    let bare = env(Os::Linux, &[("HOME", "/h"), ("CODEX_HOME", "/c")]);
    assert_eq!(user_path(HostId::Zed, &bare), "/h/.config/zed/settings.json");
    assert_eq!(user_path(HostId::Codex, &bare), "/c/config.toml");
    assert!(HostEnv::from_lookup(Os::Linux, |_| None).is_none(), "no home, no paths");
}

#[test]
fn project_files_formats_and_containers() {
    let linux = env(Os::Linux, &[("HOME", "/h")]);
    let project = Path::new("/work/app");
    let projects: Vec<(HostId, String, Format, &str)> = HostId::ALL
        .into_iter()
        .flat_map(|host| locations(host, &linux, Some(project)))
        .filter(|f| f.scope == Scope::Project)
        .map(|f| (f.host, f.path.to_string_lossy().into_owned(), f.format, f.container.key))
        .collect();
    assert_eq!(
        projects,
        vec![
            (HostId::Cursor, "/work/app/.cursor/mcp.json".into(), Format::Json, "mcpServers"),
            (HostId::VsCode, "/work/app/.vscode/mcp.json".into(), Format::Jsonc, "servers"),
            (HostId::ClaudeCode, "/work/app/.mcp.json".into(), Format::Json, "mcpServers"),
            (HostId::Zed, "/work/app/.zed/settings.json".into(), Format::Jsonc, "context_servers"),
            (
                HostId::GeminiCli,
                "/work/app/.gemini/settings.json".into(),
                Format::Jsonc,
                "mcpServers"
            ),
            (HostId::Codex, "/work/app/.codex/config.toml".into(), Format::Toml, "mcp_servers"),
            (HostId::RooCode, "/work/app/.roo/mcp.json".into(), Format::Json, "mcpServers"),
        ]
    );
}

#[test]
fn vscode_profiles_and_the_claude_msix_folder_are_found_on_disk() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let appdata = h.join("Roaming");
    let local = h.join("Local");
    std::fs::create_dir_all(appdata.join("Code/User/profiles/-5a1c")).unwrap();
    std::fs::create_dir_all(appdata.join("Code/User/profiles/7f3e")).unwrap();
    std::fs::create_dir_all(local.join("Packages/Claude_pzs8sxrjxfjjc")).unwrap();
    std::fs::create_dir_all(local.join("Packages/Other_123")).unwrap();
    let win = env(
        Os::Windows,
        &[
            ("USERPROFILE", h.to_str().unwrap()),
            ("APPDATA", appdata.to_str().unwrap()),
            ("LOCALAPPDATA", local.to_str().unwrap()),
        ],
    );
    let vscode = locations(HostId::VsCode, &win, None);
    let scopes: Vec<&Scope> = vscode.iter().map(|f| &f.scope).collect();
    assert_eq!(
        scopes,
        [&Scope::User, &Scope::Profile("-5a1c".into()), &Scope::Profile("7f3e".into())]
    );
    assert_eq!(vscode[2].path, appdata.join("Code/User/profiles/7f3e/mcp.json"));
    let claude = locations(HostId::ClaudeDesktop, &win, None);
    assert_eq!(
        claude[0].path,
        local.join(
            "Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/claude_desktop_config.json"
        )
    );
}

#[test]
fn host_ids_parse_and_unknown_ones_are_listed() {
    for host in HostId::ALL {
        assert_eq!(host.id().parse::<HostId>().unwrap(), host);
    }
    let error = "claude".parse::<HostId>().unwrap_err().to_string();
    assert!(
        error.contains("unknown host \"claude\"")
            && error.contains("claude-desktop, cursor, vscode"),
        "{error}"
    );
}

fn stdio_server(command: &str) -> HostServer {
    HostServer {
        name: "kb".into(),
        launch: Launch::Stdio {
            command: command.into(),
            args: vec!["-y".into(), "pkg".into()],
            env: BTreeMap::from([("TOKEN".to_string(), "t".to_string())]),
            cwd: None,
        },
    }
}

fn remote_server(sse: bool, headers: bool) -> HostServer {
    let headers = if headers {
        BTreeMap::from([("Authorization".to_string(), "Bearer x".to_string())])
    } else {
        BTreeMap::new()
    };
    HostServer {
        name: "docs".into(),
        launch: Launch::Remote { url: "http://127.0.0.1:7000/mcp".into(), headers, sse },
    }
}

#[test]
fn stdio_entries_as_each_host_reads_them() {
    let s = stdio_server("/usr/bin/npx");
    let get = |host| shape(host, &s, Os::Linux).unwrap();
    let plain = json!({"command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}});
    for host in [
        HostId::ClaudeDesktop,
        HostId::Cursor,
        HostId::Windsurf,
        HostId::GeminiCli,
        HostId::Codex,
        HostId::LmStudio,
    ] {
        assert_eq!(get(host), plain, "{host}");
    }
    let typed = json!({"type": "stdio", "command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}});
    for host in [HostId::VsCode, HostId::ClaudeCode, HostId::RooCode] {
        assert_eq!(get(host), typed, "{host}");
    }
    assert_eq!(
        get(HostId::Cline),
        json!({"type": "stdio", "command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}, "disabled": false})
    );
    assert_eq!(
        get(HostId::Zed),
        json!({"source": "custom", "command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}, "enabled": true})
    );
    assert_eq!(
        get(HostId::Continue),
        json!({"name": "kb", "type": "stdio", "command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}})
    );
    assert_eq!(
        get(HostId::Goose),
        json!({"name": "kb", "type": "stdio", "cmd": "/usr/bin/npx", "args": ["-y", "pkg"], "envs": {"TOKEN": "t"}, "enabled": true})
    );
}

#[test]
fn windows_shims_get_the_cmd_wrapper_and_cwd_only_where_documented() {
    let wrapped = shape(HostId::Cursor, &stdio_server("npx"), Os::Windows).unwrap();
    assert_eq!(wrapped["command"], "cmd");
    assert_eq!(wrapped["args"], json!(["/c", "npx", "-y", "pkg"]));
    assert_eq!(shape(HostId::Cursor, &stdio_server("npx"), Os::Linux).unwrap()["command"], "npx");
    assert_eq!(
        shape(HostId::Cursor, &stdio_server("C:/tools/node.exe"), Os::Windows).unwrap()["command"],
        "C:/tools/node.exe"
    );

    let mut with_cwd = stdio_server("/bin/srv");
    if let Launch::Stdio { cwd, .. } = &mut with_cwd.launch {
        *cwd = Some("/srv".into());
    }
    for host in [HostId::GeminiCli, HostId::Codex, HostId::Cline] {
        assert_eq!(shape(host, &with_cwd, Os::Linux).unwrap()["cwd"], "/srv", "{host}");
    }
    assert_eq!(
        shape(HostId::Cursor, &with_cwd, Os::Linux),
        Err(Unsupported::NoCwd(HostId::Cursor))
    );
}

#[test]
fn remote_entries_as_each_host_reads_them() {
    let http = remote_server(false, true);
    let sse = remote_server(true, false);
    let get = |host, s: &HostServer| shape(host, s, Os::Linux);
    let url = "http://127.0.0.1:7000/mcp";
    let auth = json!({"Authorization": "Bearer x"});
    assert_eq!(
        get(HostId::ClaudeDesktop, &http),
        Err(Unsupported::RemoteNeedsBridge(HostId::ClaudeDesktop))
    );
    for host in [HostId::Cursor, HostId::VsCode, HostId::ClaudeCode, HostId::LmStudio] {
        assert_eq!(
            get(host, &http).unwrap(),
            json!({"type": "http", "url": url, "headers": auth}),
            "{host}"
        );
        assert_eq!(get(host, &sse).unwrap(), json!({"type": "sse", "url": url}), "{host}");
    }
    assert_eq!(get(HostId::Windsurf, &http).unwrap(), json!({"serverUrl": url, "headers": auth}));
    assert_eq!(
        get(HostId::Zed, &http).unwrap(),
        json!({"url": url, "enabled": true, "headers": auth})
    );
    assert_eq!(get(HostId::Zed, &sse), Err(Unsupported::NoSse(HostId::Zed)));
    assert_eq!(
        get(HostId::Cline, &http).unwrap(),
        json!({"type": "streamableHttp", "url": url, "disabled": false, "headers": auth})
    );
    assert_eq!(
        get(HostId::RooCode, &http).unwrap(),
        json!({"type": "streamable-http", "url": url, "headers": auth})
    );
    assert_eq!(get(HostId::GeminiCli, &http).unwrap(), json!({"httpUrl": url, "headers": auth}));
    assert_eq!(get(HostId::GeminiCli, &sse).unwrap(), json!({"url": url}));
    assert_eq!(get(HostId::Codex, &http).unwrap(), json!({"url": url, "http_headers": auth}));
    assert_eq!(get(HostId::Codex, &sse), Err(Unsupported::NoSse(HostId::Codex)));
    assert_eq!(
        get(HostId::Continue, &remote_server(false, false)).unwrap(),
        json!({"name": "docs", "type": "streamable-http", "url": url})
    );
    assert_eq!(get(HostId::Continue, &http), Err(Unsupported::NoHeaders(HostId::Continue)));
    assert_eq!(
        get(HostId::Goose, &http).unwrap(),
        json!({"name": "docs", "type": "streamable_http", "uri": url, "enabled": true, "headers": auth})
    );
    let message = Unsupported::RemoteNeedsBridge(HostId::ClaudeDesktop).to_string();
    assert!(message.starts_with("claude-desktop does not read remote servers"), "{message}");
}
