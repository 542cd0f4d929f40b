//! The report folder: `summary.md` with each experiment's section, and the
//! plots next to it.

use std::path::{Path, PathBuf};

use crate::plot::{self, Figure};
use crate::SimError;

pub struct Report {
    dir: PathBuf,
    sections: Vec<String>,
}

impl Report {
    pub fn new(dir: &Path) -> Result<Self, SimError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SimError::Io(format!("{}: {e}", dir.display())))?;
        Ok(Report {
            dir: dir.to_path_buf(),
            sections: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A `## title` section with `body` (Markdown).
    pub fn section(&mut self, title: &str, body: String) {
        self.sections.push(format!("## {title}\n\n{body}\n"));
    }

    /// Draws `fig` as `file` (PNG) in the folder; returns the Markdown that embeds it.
    pub fn plot(&mut self, file: &str, fig: &Figure) -> Result<String, SimError> {
        plot::draw(&self.dir.join(file), fig)?;
        Ok(format!("![{}]({file})\n", fig.title))
    }

    /// Writes `summary.md` with a heading and every section; returns its path.
    pub fn write(&self, heading: &str) -> Result<PathBuf, SimError> {
        let path = self.dir.join("summary.md");
        let text = format!("# {heading}\n\n{}", self.sections.join("\n"));
        std::fs::write(&path, text)
            .map_err(|e| SimError::Io(format!("{}: {e}", path.display())))?;
        Ok(path)
    }
}
