//! The install form of bundled entries, the checks on answers, and what the answers resolve to.

use serde_json::json;

use super::*;
use switchboard_catalog::Catalog;

fn bundled_entry(name: &str) -> ServerJson {
    Catalog::bundled().expect("bundled").find(name).expect(name).server.clone()
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn a_required_repeated_directory_argument_is_asked_checked_and_placed() {
    let fs = bundled_entry("server-filesystem");
    let form = fields(&fs, Way::Package(0));
    assert_eq!(form.len(), 1);
    let f = &form[0];
    assert_eq!(
        (f.key.as_str(), f.kind, f.required, f.repeated, f.format.as_str()),
        ("allowed_directory", FieldKind::Argument, true, true, "filepath")
    );

    let missing = check(&fs, Way::Package(0), &answers(&[]));
    assert_eq!(
        missing,
        [
            "allowed_directory is required: A directory the server may read and write (give one or more)"
        ]
    );
    let relative = check(&fs, Way::Package(0), &answers(&[("allowed_directory", "docs")]));
    assert!(relative[0].contains("must be an absolute path"), "{relative:?}");
    let gone = check(&fs, Way::Package(0), &answers(&[("allowed_directory", "/no/such/dir/here")]));
    assert!(gone[0].contains("does not exist"), "{gone:?}");
    // A file the server will create is fine when its folder exists.
    let new_file = std::env::temp_dir().join("sb-not-yet-created.jsonl");
    let new_file = new_file.to_string_lossy();
    assert!(check(&fs, Way::Package(0), &answers(&[("allowed_directory", &new_file)])).is_empty());
    let typo = check(&fs, Way::Package(0), &answers(&[("allowed_dir", "/tmp")]));
    assert!(typo[0].contains("allowed_dir is not an input of io.github.modelcontextprotocol/server-filesystem; its inputs are: allowed_directory"), "{typo:?}");

    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    let (a, b) = (a.path().to_string_lossy().into_owned(), b.path().to_string_lossy().into_owned());
    let given = answers(&[("allowed_directory", &a), ("allowed_directory", &b)]);
    assert!(check(&fs, Way::Package(0), &given).is_empty());
    let r = resolve(&fs, Way::Package(0), &given);
    assert_eq!(r.package_args, [a, b]);
    assert!(r.env.is_empty() && !r.secret_args);
}

#[test]
fn secrets_defaults_and_choices_come_out_as_env_and_are_marked() {
    let gitlab = bundled_entry("server-gitlab");
    let form = fields(&gitlab, Way::Package(0));
    let token = form.iter().find(|f| f.key == "GITLAB_PERSONAL_ACCESS_TOKEN").expect("token");
    assert!(token.required && token.secret && token.kind == FieldKind::Env);
    let r =
        resolve(&gitlab, Way::Package(0), &answers(&[("GITLAB_PERSONAL_ACCESS_TOKEN", "glpat-x")]));
    assert_eq!(r.env["GITLAB_PERSONAL_ACCESS_TOKEN"], "glpat-x");
    assert_eq!(r.env["GITLAB_API_URL"], "https://gitlab.com/api/v4", "the default fills in");
    assert_eq!(r.secret_env, ["GITLAB_PERSONAL_ACCESS_TOKEN"]);

    let thinking = bundled_entry("server-sequential-thinking");
    let bad = check(&thinking, Way::Package(0), &answers(&[("DISABLE_THOUGHT_LOGGING", "yes")]));
    assert_eq!(bad, ["DISABLE_THOUGHT_LOGGING must be one of true, false, not \"yes\""]);
    let twice = check(
        &thinking,
        Way::Package(0),
        &answers(&[("DISABLE_THOUGHT_LOGGING", "true"), ("DISABLE_THOUGHT_LOGGING", "false")]),
    );
    assert!(twice[0].contains("given 2 times"), "{twice:?}");
}

#[test]
fn fixed_values_ask_only_for_their_variables_and_named_flags_take_their_values() {
    // docker -e GITHUB_PERSONAL_ACCESS_TOKEN={token}: the form asks for `token` only.
    let github = bundled_entry("github-mcp-server");
    let form = fields(&github, Way::Package(0));
    assert_eq!(
        form.iter().map(|f| (f.key.as_str(), f.kind, f.secret)).collect::<Vec<_>>(),
        [("token", FieldKind::Variable, true)]
    );
    let r = resolve(&github, Way::Package(0), &answers(&[("token", "ghp_1")]));
    assert_eq!(r.runtime_args, ["-e", "GITHUB_PERSONAL_ACCESS_TOKEN=ghp_1"]);
    assert!(r.secret_args);
    // The remote: Authorization = "Bearer {token}".
    let r = resolve(&github, Way::Remote(0), &answers(&[("token", "ghp_1")]));
    assert_eq!(r.headers["Authorization"], "Bearer ghp_1");
    assert_eq!(r.secret_headers, ["Authorization"]);
    assert_eq!(r.url.as_deref(), Some("https://api.githubcopilot.com/mcp/"));

    // Optional variables left out drop the whole header (Hugging Face works anonymously).
    let hf = bundled_entry("hf-mcp-server");
    let r = resolve(&hf, Way::Remote(0), &answers(&[]));
    assert!(r.headers.is_empty(), "{r:?}");
    assert!(check(&hf, Way::Remote(0), &answers(&[])).is_empty());

    let stripe = bundled_entry("com.stripe/mcp");
    let r = resolve(&stripe, Way::Package(0), &answers(&[("--api-key", "sk_test_1")]));
    assert_eq!(r.package_args, ["--tools=all", "--api-key=sk_test_1"]);
    assert!(r.secret_args);
    let sqlite = bundled_entry("server-sqlite");
    let missing = check(&sqlite, Way::Package(0), &answers(&[]));
    assert!(missing[0].starts_with("--db-path is required"), "{missing:?}");
}

#[test]
fn remote_url_variables_are_filled_with_answers_or_defaults_and_unknown_ones_stay() {
    let server: ServerJson = serde_json::from_value(json!({
        "name": "io.example/tenant",
        "description": "d",
        "version": "1.0.0",
        "remotes": [{
            "type": "streamable-http",
            "url": "https://{tenant}.example.com/{region}/mcp?x={unknown}",
            "variables": {
                "tenant": {"isRequired": true, "description": "Your tenant"},
                "region": {"default": "eu", "choices": ["eu", "us"]}
            }
        }]
    }))
    .expect("entry");
    let form = fields(&server, Way::Remote(0));
    assert_eq!(form.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["region", "tenant"]);
    assert_eq!(check(&server, Way::Remote(0), &answers(&[])), ["tenant is required: Your tenant"]);
    let r = resolve(&server, Way::Remote(0), &answers(&[("tenant", "acme")]));
    assert_eq!(r.url.as_deref(), Some("https://acme.example.com/eu/mcp?x={unknown}"));
    assert_eq!(fill("{a}{b", &|n| (n == "a").then(|| "A".into())), "A{b");
}

#[test]
fn a_fixed_value_naming_another_fields_secret_does_not_carry_it_unmarked() {
    // Found by fuzzing (catalog_entry): `URL = https://h/{API_KEY}` took the answer to the
    // secret API_KEY, and the URL, not marked secret, would have gone to the registry file.
    let server: ServerJson = serde_json::from_value(json!({
        "name": "io.example/leak",
        "description": "d",
        "version": "1.0.0",
        "packages": [{
            "registryType": "npm",
            "identifier": "leak",
            "version": "1.0.0",
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "API_KEY", "isSecret": true, "isRequired": true},
                {"name": "URL", "value": "https://h/{API_KEY}"}
            ]
        }]
    }))
    .expect("entry");
    let r = resolve(&server, Way::Package(0), &answers(&[("API_KEY", "s3cret")]));
    assert_eq!(r.env["API_KEY"], "s3cret");
    assert_eq!(r.secret_env, ["API_KEY"]);
    assert_eq!(r.env["URL"], "https://h/{API_KEY}", "an undeclared variable stays as written");
}

#[test]
fn an_answer_shared_by_a_secret_argument_and_an_env_variable_is_secret_in_both() {
    // Found by fuzzing (catalog_entry): the argument `--token` is secret, an env variable of
    // the same name is not; both take the one answer, and the env copy went unmarked.
    let server: ServerJson = serde_json::from_value(json!({
        "name": "io.example/shared-key",
        "description": "d",
        "version": "1.0.0",
        "packages": [{
            "registryType": "npm",
            "identifier": "shared",
            "version": "1.0.0",
            "transport": {"type": "stdio"},
            "packageArguments": [{"type": "named", "name": "--token", "isSecret": true}],
            "environmentVariables": [{"name": "--token"}]
        }]
    }))
    .expect("entry");
    let form = fields(&server, Way::Package(0));
    assert_eq!(
        form.iter().map(|f| (f.key.as_str(), f.secret)).collect::<Vec<_>>(),
        [("--token", true)]
    );
    let r = resolve(&server, Way::Package(0), &answers(&[("--token", "s3cret")]));
    assert_eq!(r.package_args, ["--token=s3cret"]);
    assert!(r.secret_args);
    assert_eq!(r.env["--token"], "s3cret");
    assert_eq!(r.secret_env, ["--token"], "the env copy of the secret is marked");
}
