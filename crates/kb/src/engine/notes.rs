//! New documents: tickets and notes written as Markdown files with YAML front matter.

use serde::Serialize;

use super::Engine;
use crate::{
    error::{Error, Result},
    roots::uri_of,
    source,
};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Created {
    pub uri: String,
    pub key: String,
    pub path: String,
}

impl Engine {
    /// Writes a new Markdown file with front matter under `<first folder>/<folder>/`, indexes it
    /// at once, and returns its names. Never overwrites: a taken name gets a numeric suffix.
    pub fn create_file(
        &self,
        folder: &str,
        title: &str,
        front: &[(&str, String)],
        body: &str,
    ) -> Result<Created> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::Invalid("the title is empty".into()));
        }
        let dir = self.roots.first().dir.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut slug: String = source::slug(title).chars().take(60).collect();
        if slug.is_empty() {
            slug = "untitled".into();
        }
        let date = today();
        let mut content = String::from("---\n");
        content.push_str(&format!("title: {}\n", yaml_string(title)));
        for (k, v) in front {
            content.push_str(&format!("{k}: {v}\n"));
        }
        content.push_str(&format!("created: {date}\n---\n\n# {title}\n\n{}\n", body.trim_end()));
        for n in 1..1000 {
            let name =
                if n == 1 { format!("{date}-{slug}.md") } else { format!("{date}-{slug}-{n}.md") };
            let path = dir.join(&name);
            let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
            let mut file = match file {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            let written = std::io::Write::write_all(&mut file, content.as_bytes())
                .and_then(|()| file.sync_all());
            if let Err(e) = written {
                let _ = std::fs::remove_file(&path);
                return Err(Error::io(&path, e));
            }
            let key = self
                .roots
                .key_of(&path)
                .ok_or_else(|| Error::OutsideRoots(path.display().to_string()))?;
            self.sync_paths(std::slice::from_ref(&path))?;
            return Ok(Created { uri: uri_of(&key), key, path: path.display().to_string() });
        }
        Err(Error::Invalid(format!("too many files named {date}-{slug} in {}", dir.display())))
    }
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    ymd(time::OffsetDateTime::now_utc().date())
}

fn ymd(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A YAML double-quoted scalar.
pub fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_year_month_day_in_utc() {
        let date =
            |unix: i64| time::OffsetDateTime::from_unix_timestamp(unix).map(|t| ymd(t.date())).ok();
        assert_eq!(date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(date(946_598_400 + 86_399).as_deref(), Some("1999-12-31"));
        assert_eq!(date(951_782_400).as_deref(), Some("2000-02-29"));
        assert_eq!(date(1_709_164_800).as_deref(), Some("2024-02-29"));
        let today = today();
        let digits = today.chars().filter(char::is_ascii_digit).count();
        assert!(today.len() == 10 && digits == 8 && &today[4..5] == "-", "{today}");
    }
}
