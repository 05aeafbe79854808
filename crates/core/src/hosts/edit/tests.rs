use serde_json::json;

use super::*;

#[test]
fn explore() {
    let v = json!({"command": "/usr/bin/npx", "args": ["-y", "pkg"], "env": {"K": "v"}});
    let cases: Vec<(Format, Container, &str)> = vec![
        (Format::Json, Container::map("mcpServers"), ""),
        (Format::Json, Container::map("mcpServers"), "{}"),
        (Format::Json, Container::map("mcpServers"), "{\"a\": 1}"),
        (Format::Json, Container::map("mcpServers"), "{\n  \"a\": 1\n}\n"),
        (
            Format::Json,
            Container::map("mcpServers"),
            "{\r\n\t\"mcpServers\": {\r\n\t\t\"x\": {\"command\": \"y\"}\r\n\t}\r\n}\r\n",
        ),
        (
            Format::Jsonc,
            Container::map("servers"),
            "// top\n{\n  \"servers\": {\n    \"x\": {}, // c\n  },\n}\n",
        ),
        (
            Format::Toml,
            Container::map("mcp_servers"),
            "# c\nmodel = \"o3\"\n\n[mcp_servers.x]\ncommand = \"y\" # keep\n\n[other]\na = 1\n",
        ),
        (Format::Toml, Container::map("mcp_servers"), ""),
        (
            Format::Yaml,
            Container::map("extensions"),
            "extensions:\n  dev:\n    cmd: x # c\n    args: []\nGOOSE_MODEL: gpt\n",
        ),
        (
            Format::Yaml,
            Container::named_list("mcpServers"),
            "name: a\nmcpServers:\n- name: x\n  command: y\nmodels: []\n",
        ),
        (Format::Yaml, Container::map("extensions"), "extensions: {}\n"),
    ];
    for (format, c, text) in cases {
        let value = if c.named_list {
            json!({"name": "sb", "command": "npx", "args": ["a"]})
        } else {
            v.clone()
        };
        let added = upsert(format, c, text, "sb", &value).unwrap();
        let removed = remove(format, c, &added, "sb").unwrap();
        println!(
            "=== {format:?}\n{text}\n--- added\n{added}\n--- removed\n{removed}\n--- same: {}",
            removed == text
        );
    }
}
