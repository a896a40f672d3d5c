//! The smallest typst world: one main source (the template), the bundled fonts, the job's data
//! as `sys.inputs.data`, the job's files, and the document's date as `today`.

use chrono::Datelike;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, Duration, IntoValue};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use super::Job;

pub struct DocumentWorld<'a> {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: &'a [Font],
    main: FileId,
    source: Source,
    modules: Vec<Source>,
    files: Vec<(FileId, Bytes)>,
    today: Datetime,
}

fn id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a template's file path is a valid virtual path");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

impl<'a> DocumentWorld<'a> {
    pub fn new(job: &Job, fonts: &'a [Font]) -> Self {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), job.data.to_string().into_value());
        let main = id("/main.typ");
        let d = job.date;
        Self {
            library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
            book: LazyHash::new(FontBook::from_fonts(fonts)),
            fonts,
            main,
            source: Source::new(main, job.template.to_owned()),
            modules: job.modules.iter().map(|(path, text)| Source::new(id(path), (*text).to_owned())).collect(),
            files: job.files.iter().map(|(path, bytes)| (id(path), Bytes::new(bytes.clone()))).collect(),
            today: Datetime::from_ymd(d.year(), d.month() as u8, d.day() as u8).expect("a chrono date fits typst's"),
        }
    }
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            return Ok(self.source.clone());
        }
        self.modules.iter().find(|s| s.id() == id).cloned().ok_or(FileError::AccessDenied)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.iter().find(|(f, _)| *f == id).map(|(_, b)| b.clone()).ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
