//! Test support: the corpus path, an engine over a temp folder, and a search shorthand.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use switchboard_kb::{Config, Engine, index::SearchQuery};

/// The test corpus in the repository (`testdata/mcp-docs`): 344 real MCP documentation pages.
pub fn corpus() -> PathBuf {
    switchboard_testkit::testdata::mcp_docs()
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub struct Kb {
    pub dir: tempfile::TempDir,
    engine: Option<Arc<Engine>>,
}

impl Kb {
    /// An engine over `<tmp>/docs` with its index in `<tmp>/index`, after `files` are written.
    pub fn with(files: &[(&str, &str)]) -> Kb {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            write(&dir.path().join("docs").join(name), text);
        }
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let engine = Engine::open(&Kb::config_in(dir.path())).unwrap();
        Kb { dir, engine: Some(engine) }
    }

    pub fn config_in(dir: &Path) -> Config {
        Config { roots: vec![dir.join("docs")], index_dir: dir.join("index") }
    }

    pub fn docs(&self) -> PathBuf {
        self.dir.path().join("docs")
    }

    pub fn engine(&self) -> &Arc<Engine> {
        self.engine.as_ref().unwrap()
    }

    /// Closes the engine (releasing the index writer's lock) and opens the same folders again.
    pub fn reopen(&mut self) {
        self.close();
        self.engine = Some(Engine::open(&Kb::config_in(self.dir.path())).unwrap());
    }

    pub fn close(&mut self) {
        self.engine = None;
    }

    /// Keys of the documents a search finds, best first.
    pub fn find(&self, text: &str) -> Vec<String> {
        let q = SearchQuery { text: text.into(), limit: 20, ..SearchQuery::default() };
        self.engine().search(&q).unwrap().into_iter().map(|h| h.key).collect()
    }
}

pub const WAIT: Duration = Duration::from_secs(20);
