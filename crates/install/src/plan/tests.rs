//! Install plans for each runtime against the bundled entries: the exact commands, missing runtimes, remotes, wrong inputs.

use std::path::PathBuf;

use super::*;
use crate::Answers;
use switchboard_catalog::Catalog;

fn entry(name: &str) -> ServerJson {
    Catalog::bundled().expect("bundled").find(name).expect(name).server.clone()
}

fn all_tools() -> Toolbox {
    Toolbox {
        node: Some("/opt/node/bin/node".into()),
        npm: Some("/opt/node/bin/npm".into()),
        uv: Some("/opt/uv/uv".into()),
        container: Some("/usr/bin/docker".into()),
    }
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

const PACKAGES: &str = "/data/packages";

#[test]
fn an_npm_package_is_installed_into_its_own_prefix_and_started_with_node() {
    let plan = plan(&entry("server-everything"), None, &[], &all_tools(), PACKAGES.as_ref())
        .expect("plan");
    let prefix =
        PathBuf::from("/data/packages/npm/modelcontextprotocol_server-everything@2026.8.31");
    assert_eq!(plan.way, Way::Package(0));
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(
        plan.steps[0].argv,
        [
            "/opt/node/bin/npm",
            "install",
            "--prefix",
            prefix.to_str().expect("utf-8"),
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--loglevel=error",
            "@modelcontextprotocol/server-everything@2026.8.31"
        ]
    );
    assert_eq!(
        plan.start,
        Start::NodePackage {
            node: "/opt/node/bin/node".into(),
            prefix: prefix.clone(),
            package: "@modelcontextprotocol/server-everything".into()
        }
    );
    assert_eq!(plan.package_dir, Some(prefix));
}

#[test]
fn a_version_with_path_separators_cannot_move_the_package_folder_out_of_packages() {
    // Found by the catalog_entry fuzz target's property: the version went into the folder name
    // as it was, so `1/../../../../etc` named /etc, which an uninstall would have removed.
    let mut server = entry("server-everything");
    server.packages[0].version = Some("1/../../../../etc".into());
    let plan = plan(&server, None, &[], &all_tools(), PACKAGES.as_ref()).expect("plan");
    let dir = plan.package_dir.expect("package folder");
    assert_eq!(
        dir,
        PathBuf::from(
            "/data/packages/npm/modelcontextprotocol_server-everything@1_.._.._.._.._etc"
        )
    );
    assert!(dir.components().all(|c| !matches!(c, std::path::Component::ParentDir)), "{dir:?}");
    assert_eq!(package_folder("x", "1.0.0+build"), "x@1.0.0_build");
}

#[test]
fn a_pypi_package_is_a_uv_tool_in_folders_of_ours() {
    let plan = plan(
        &entry("server-time"),
        None,
        &answers(&[("--local-timezone", "Europe/Paris")]),
        &all_tools(),
        PACKAGES.as_ref(),
    )
    .expect("plan");
    let step = &plan.steps[0];
    assert_eq!(
        step.argv,
        ["/opt/uv/uv", "tool", "install", "--force", "mcp-server-time==2026.10.19"]
    );
    assert_eq!(step.env["UV_TOOL_DIR"], "/data/packages/uv/mcp-server-time@2026.10.19/tools");
    assert_eq!(step.env["UV_TOOL_BIN_DIR"], "/data/packages/uv/mcp-server-time@2026.10.19/bin");
    assert_eq!(plan.args, ["--local-timezone=Europe/Paris"]);
}

#[test]
fn an_oci_image_is_pulled_and_run_with_env_passed_by_name_only() {
    let mut qdrant = entry("mcp-server-qdrant");
    qdrant.packages[0].registry_type = RegistryType::Oci;
    qdrant.packages[0].identifier = "docker.io/qdrant/mcp".into();
    qdrant.packages[0].version = Some("0.8.1".into());
    let plan = plan(
        &qdrant,
        None,
        &answers(&[
            ("QDRANT_URL", "http://localhost:6333"),
            ("COLLECTION_NAME", "notes"),
            ("QDRANT_API_KEY", "s3cret"),
        ]),
        &all_tools(),
        PACKAGES.as_ref(),
    )
    .expect("plan");
    assert_eq!(plan.steps[0].argv, ["/usr/bin/docker", "pull", "docker.io/qdrant/mcp:0.8.1"]);
    let Start::Command { command, args } = &plan.start else { panic!("{:?}", plan.start) };
    assert_eq!(command, "/usr/bin/docker");
    assert_eq!(
        args,
        &[
            "run",
            "-i",
            "--rm",
            "-e",
            "COLLECTION_NAME",
            "-e",
            "QDRANT_API_KEY",
            "-e",
            "QDRANT_URL",
            "docker.io/qdrant/mcp:0.8.1"
        ]
    );
    assert_eq!(plan.secret_env, ["QDRANT_API_KEY"]);
    let shown = serde_json::to_string(&plan).expect("json");
    assert!(!shown.contains("s3cret"), "the plan as shown carries the secret: {shown}");

    // GitHub declares its token as a docker -e argument: said so in the notes.
    let github = plan_for("github-mcp-server", &answers(&[("token", "ghp_1")]));
    assert!(github.notes.iter().any(|n| n.contains("process list")), "{:?}", github.notes);
}

fn plan_for(name: &str, given: &[(String, String)]) -> Plan {
    plan(&entry(name), None, given, &all_tools(), PACKAGES.as_ref()).expect(name)
}

#[test]
fn a_missing_runtime_says_what_to_install_or_falls_back_to_a_remote() {
    let no_node = Toolbox { node: None, npm: None, ..all_tools() };
    let error =
        plan(&entry("server-memory"), None, &[], &no_node, PACKAGES.as_ref()).expect_err("no node");
    let text = error.to_string();
    assert!(
        text.contains("needs Node.js (node and npm)") && text.contains("Nothing was installed"),
        "{text}"
    );
    let no_uv = Toolbox { uv: None, ..all_tools() };
    let error =
        plan(&entry("server-time"), None, &[], &no_uv, PACKAGES.as_ref()).expect_err("no uv");
    assert!(error.to_string().contains("needs uv"), "{error}");

    // Context7 has a remote too: used, with a note saying why.
    let plan = plan(&entry("context7"), None, &[], &no_node, PACKAGES.as_ref()).expect("remote");
    assert_eq!(plan.way, Way::Remote(0));
    assert!(
        matches!(&plan.start, Start::Remote { url, .. } if url == "https://mcp.context7.com/mcp")
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("using its remote server") && n.contains("Node.js")),
        "{:?}",
        plan.notes
    );
    assert!(plan.steps.is_empty());
}

#[test]
fn a_remote_gets_its_url_transport_and_secret_headers() {
    let plan = plan_for("deepwiki", &[]);
    assert!(matches!(
        &plan.start,
        Start::Remote { transport: RemoteTransport::StreamableHttp, .. }
    ));
    let sse =
        super::plan(&entry("deepwiki"), Some(Way::Remote(1)), &[], &all_tools(), PACKAGES.as_ref())
            .expect("sse");
    assert!(
        matches!(&sse.start, Start::Remote { transport: RemoteTransport::Sse, url, .. } if url.ends_with("/sse"))
    );
    let gh = super::plan(
        &entry("github-mcp-server"),
        Some(Way::Remote(0)),
        &answers(&[("token", "ghp_2")]),
        &all_tools(),
        PACKAGES.as_ref(),
    )
    .expect("remote");
    let Start::Remote { headers, .. } = &gh.start else { panic!() };
    assert_eq!(headers["Authorization"], "Bearer ghp_2");
    assert_eq!(gh.secret_headers, ["Authorization"]);
}

#[test]
fn wrong_inputs_stop_the_plan_with_every_reason() {
    let error = plan(
        &entry("server-slack"),
        None,
        &answers(&[("SLACK_TEAM", "T1")]),
        &all_tools(),
        PACKAGES.as_ref(),
    )
    .expect_err("inputs");
    let text = error.to_string();
    for part in
        ["SLACK_TEAM is not an input", "SLACK_BOT_TOKEN is required", "SLACK_TEAM_ID is required"]
    {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(error.is_usage());
    assert_eq!(package_folder("@scope/name", "1.0.0"), "scope_name@1.0.0");
}

#[cfg(unix)]
#[test]
fn the_toolbox_finds_runtimes_on_the_path_given_first() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    for name in ["node", "npm", "podman"] {
        let path = dir.path().join(name);
        std::fs::write(&path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let tools =
        Toolbox::find(switchboard_core::process::Search::path(Some(dir.path().as_os_str())));
    assert_eq!(tools.node, Some(dir.path().join("node")));
    assert_eq!(tools.npm, Some(dir.path().join("npm")));
    // docker is preferred when there is one; otherwise the podman given here.
    assert!(tools.container.is_some());
    assert!(tools.missing_for(&RegistryType::Npm).is_none());
    assert!(tools.missing_for(&RegistryType::Other("cargo".into())).is_some());
}
