//! Secrets kept out of host files that can prompt for them. VS Code reads `${input:ID}` in an
//! entry's `env` and `headers` and asks for the value once, keeping it in its own secret storage,
//! when the file's `inputs` list declares the ID as a `promptString` with `password: true`. So
//! for VS Code an env variable or header that holds a secret is written as such a reference plus
//! an input of ours, and the value itself never reaches the file.

use serde_json::{Value, json};

/// Words that mark an env variable or header as holding a secret.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "AUTH",
    "AUTHORIZATION",
    "COOKIE",
    "PAT",
];

/// Whether an env variable or header named `key` holds a secret: a word of [`SECRET_WORDS`]
/// (`GITHUB_TOKEN`, `Authorization`, `X-Api-Token`) or ending in `KEY` (`OPENAI_API_KEY`,
/// `X-API-Key`, `ACCESS_KEY`).
pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    words.iter().any(|w| SECRET_WORDS.contains(w)) || words.last().is_some_and(|w| *w == "KEY")
}

/// The id of the input that holds `key` of `server`.
pub fn input_id(server: &str, key: &str) -> String {
    format!("switchboard.{server}.{key}")
}

/// Replaces the secret values in `entry`'s `env` and `headers` by `${input:ID}` references and
/// returns the inputs they need, by id. Values that already reference a variable (`${...}`) are
/// the user's choice and stay. An `Authorization: Bearer …` header keeps its scheme and asks for
/// the token only.
pub fn promote(server: &str, entry: &mut Value) -> Vec<(String, Value)> {
    let mut inputs = Vec::new();
    for field in ["env", "headers"] {
        let Some(map) = entry.get_mut(field).and_then(Value::as_object_mut) else { continue };
        for (key, value) in map.iter_mut() {
            let Some(text) = value.as_str() else { continue };
            if !looks_secret(key) || text.contains("${") {
                continue;
            }
            let id = input_id(server, key);
            let bearer = match text.split_once(' ') {
                Some((scheme, _))
                    if field == "headers" && scheme.eq_ignore_ascii_case("bearer") =>
                {
                    Some(scheme.to_string())
                }
                _ => None,
            };
            let description = match (&bearer, field) {
                (Some(_), _) => {
                    format!("{server} (via Switchboard): the token for the {key} header")
                }
                (None, "headers") => format!("{server} (via Switchboard): the {key} header"),
                _ => format!("{server} (via Switchboard): the environment variable {key}"),
            };
            *value = Value::String(match bearer {
                Some(scheme) => format!("{scheme} ${{input:{id}}}"),
                None => format!("${{input:{id}}}"),
            });
            inputs.push((
                id.clone(),
                json!({
                    "type": "promptString",
                    "id": id,
                    "description": description,
                    "password": true,
                }),
            ));
        }
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_told_by_their_names() {
        for key in [
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "OPENAI_API_KEY",
            "BRAVE_API_KEY",
            "Authorization",
            "X-API-Key",
            "x-api-token",
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "apiKey",
            "GITLAB_PAT",
        ] {
            assert!(looks_secret(key), "{key}");
        }
        for key in ["ALPHA_MODE", "X-Team", "KEYBOARD", "MONKEY_COUNT", "PATH", "AUTHOR", "HOME"] {
            assert!(!looks_secret(key), "{key}");
        }
    }

    #[test]
    fn secret_values_become_input_references_and_others_stay() {
        let mut entry = json!({
            "type": "http",
            "url": "https://x.example/mcp",
            "env": {"API_KEY": "sk-123", "MODE": "fast", "TOKEN": "${env:TOKEN}"},
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k-9"},
        });
        let inputs = promote("gh", &mut entry);
        assert_eq!(entry["env"]["API_KEY"], "${input:switchboard.gh.API_KEY}");
        assert_eq!(entry["env"]["MODE"], "fast");
        assert_eq!(entry["env"]["TOKEN"], "${env:TOKEN}");
        assert_eq!(
            entry["headers"]["Authorization"],
            "Bearer ${input:switchboard.gh.Authorization}"
        );
        assert_eq!(entry["headers"]["X-Api-Key"], "${input:switchboard.gh.X-Api-Key}");
        let ids: Vec<&str> = inputs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            ["switchboard.gh.API_KEY", "switchboard.gh.Authorization", "switchboard.gh.X-Api-Key"]
        );
        for (id, input) in &inputs {
            assert_eq!(input["id"], *id);
            assert_eq!(input["type"], "promptString");
            assert_eq!(input["password"], true);
        }
        let text = serde_json::to_string(&(entry, inputs)).expect("json");
        for secret in ["sk-123", "abc", "k-9"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
