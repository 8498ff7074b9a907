//! The rulebook: a static HTML site of the terms and the rules that encode them.

use std::path::{Path, PathBuf};

use crate::ruleset::RuleSet;

/// The site: file names and their HTML.
pub struct Book {
    /// Every page, by file name.
    pub pages: Vec<(String, String)>,
}

impl Book {
    /// Builds the site for a rule set and the cases that exercise it.
    pub fn build(_rules: &RuleSet, _cases: &[PathBuf]) -> Book {
        Book { pages: Vec::new() }
    }

    /// Writes every page into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, html) in &self.pages {
            std::fs::write(dir.join(name), html)?;
        }
        Ok(())
    }
}
