//! Parquet files of exported tables (feature `parquet`): batches to any
//! writer, and a whole store or lineage subgraph to a directory, one file
//! per table, each written under a temporary name and renamed into place,
//! so a crash never leaves a partial file under a table's name.
//!
//! ```
//! use keelson_lineage::export::parquet::{ParquetOptions, write_store_dir};
//! use keelson_lineage::{Artifact, MetadataStore, NodeType, SqliteStore, TypeOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = SqliteStore::open_in_memory().await?;
//! let data = store.put_type(&NodeType::artifact("Dataset"), TypeOptions::default()).await?;
//! store.put_artifacts(&[Artifact::new(data, "s3://data/v1")]).await?;
//!
//! let dir = std::env::temp_dir().join(format!("keelson-export-doc-{}", std::process::id()));
//! let files = write_store_dir(&store, &dir, &ParquetOptions::default()).await?;
//! assert_eq!(files.len(), 8);
//! assert!(files.iter().any(|f| f.path.ends_with("artifacts.parquet") && f.rows == 1));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::batch::{export_error, graph_batches};
use super::{ExportOptions, Table, TableExport};
use crate::error::Result;
use crate::lineage::LineageGraph;
use crate::store::MetadataStore;

/// The compression of the Parquet files' column chunks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// None.
    Uncompressed,
    /// Snappy: fast, read by every tool.
    Snappy,
    /// Zstandard at its default level: small files, read by every current
    /// tool.
    #[default]
    Zstd,
    /// LZ4 (the raw framing of Parquet's `LZ4_RAW`).
    Lz4,
}

impl Compression {
    fn codec(self) -> Codec {
        match self {
            Compression::Uncompressed => Codec::UNCOMPRESSED,
            Compression::Snappy => Codec::SNAPPY,
            Compression::Zstd => Codec::ZSTD(ZstdLevel::default()),
            Compression::Lz4 => Codec::LZ4_RAW,
        }
    }
}

/// How Parquet files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Column chunk compression ([`Compression::Zstd`] by default).
    pub compression: Compression,
    /// Nodes per page read from the store by the whole-store export
    /// ([`ExportOptions::DEFAULT_PAGE_SIZE`] by default).
    pub page_size: u32,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        Self {
            compression: Compression::default(),
            page_size: ExportOptions::DEFAULT_PAGE_SIZE,
        }
    }
}

/// One Parquet file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Its table.
    pub table: Table,
    /// Its path (in the directory given, named `<table>.parquet`).
    pub path: PathBuf,
    /// Its rows.
    pub rows: u64,
}

/// Record batches of one table into a Parquet stream, one batch at a time.
pub struct BatchWriter<W: Write + Send> {
    inner: ArrowWriter<W>,
    table: Table,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for BatchWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("table", &self.table)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> BatchWriter<W> {
    /// A writer of `table`'s batches in `schema` (e.g.
    /// [`TableExport::schema`]) to `writer`.
    pub fn new(
        writer: W,
        table: Table,
        schema: SchemaRef,
        options: &ParquetOptions,
    ) -> Result<Self> {
        let props = WriterProperties::builder()
            .set_compression(options.compression.codec())
            .build();
        let inner = ArrowWriter::try_new(writer, schema, Some(props))
            .map_err(|e| export_error(table, None, e))?;
        Ok(Self {
            inner,
            table,
            rows: 0,
        })
    }

    /// Writes a batch (row groups are flushed as they fill).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.inner
            .write(batch)
            .map_err(|e| export_error(self.table, None, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the footer; returns the writer and the rows written.
    pub fn finish(self) -> Result<(W, u64)> {
        let table = self.table;
        let w = self
            .inner
            .into_inner()
            .map_err(|e| export_error(table, None, e))?;
        Ok((w, self.rows))
    }
}

/// Writes `batches` of `table` (all in `schema`) as one Parquet stream to
/// `writer`; returns the rows written.
pub fn write_batches<W: Write + Send>(
    writer: W,
    table: Table,
    schema: SchemaRef,
    batches: &[RecordBatch],
    options: &ParquetOptions,
) -> Result<u64> {
    let mut w = BatchWriter::new(writer, table, schema, options)?;
    for b in batches {
        w.write(b)?;
    }
    Ok(w.finish()?.1)
}

/// A file written under a temporary name in its directory and renamed to
/// its final name once complete and synced; dropped before that, the
/// temporary file is removed.
struct PendingFile {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

static PENDING: AtomicU64 = AtomicU64::new(0);

impl PendingFile {
    fn create(table: Table, path: &Path) -> Result<(Self, File)> {
        let io = |what: &str, p: &Path, e: std::io::Error| {
            export_error(table, None, format!("{what} {}: {e}", p.display()))
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                export_error(table, None, format!("{} names no file", path.display()))
            })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io("create directory", dir, e))?;
        }
        let n = PENDING.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
        Ok((
            Self {
                tmp,
                path: path.to_owned(),
                committed: false,
            },
            file,
        ))
    }

    fn commit(mut self, table: Table, file: File) -> Result<()> {
        let io = |what: &str, p: &Path, e: std::io::Error| {
            export_error(table, None, format!("{what} {}: {e}", p.display()))
        };
        file.sync_all().map_err(|e| io("sync", &self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io("rename to", &self.path, e))?;
        self.committed = true;
        // The rename is durable once the directory is synced too.
        #[cfg(unix)]
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io("sync directory", dir, e))?;
        }
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the file is incomplete and under a temporary name.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes an export to the Parquet file `path`, page by page (about one
/// page in memory), replacing the file atomically when complete.
pub async fn write_table_file<S: MetadataStore + ?Sized>(
    mut export: TableExport<'_, S>,
    path: &Path,
    options: &ParquetOptions,
) -> Result<WrittenFile> {
    let table = export.table();
    let (pending, file) = PendingFile::create(table, path)?;
    let mut writer = BatchWriter::new(file, table, export.schema(), options)?;
    while let Some(batch) = export.next_batch().await? {
        writer.write(&batch)?;
    }
    let (file, rows) = writer.finish()?;
    pending.commit(table, file)?;
    Ok(WrittenFile {
        table,
        path: path.to_owned(),
        rows,
    })
}

fn table_path(dir: &Path, table: Table) -> PathBuf {
    dir.join(format!("{}.parquet", table.name()))
}

/// Writes every table of the handle's namespace to `dir` (created if
/// missing) as `<table>.parquet` ([`Table::ALL`]); returns the files in
/// that order.
pub async fn write_store_dir<S: MetadataStore + ?Sized>(
    store: &S,
    dir: &Path,
    options: &ParquetOptions,
) -> Result<Vec<WrittenFile>> {
    let mut files = Vec::with_capacity(Table::ALL.len());
    for table in Table::ALL {
        let export_options = ExportOptions::new().page_size(options.page_size);
        let export = TableExport::new(store, table, export_options).await?;
        files.push(write_table_file(export, &table_path(dir, table), options).await?);
    }
    Ok(files)
}

/// Writes a lineage subgraph to `dir` (created if missing), one
/// `<table>.parquet` per table of [`graph_batches`]; returns the files.
pub fn write_graph_dir(
    graph: &LineageGraph,
    dir: &Path,
    options: &ParquetOptions,
) -> Result<Vec<WrittenFile>> {
    let mut files = Vec::new();
    for (table, batch) in graph_batches(graph)? {
        let path = table_path(dir, table);
        let (pending, file) = PendingFile::create(table, &path)?;
        let mut writer = BatchWriter::new(file, table, batch.schema(), options)?;
        writer.write(&batch)?;
        let (file, rows) = writer.finish()?;
        pending.commit(table, file)?;
        files.push(WrittenFile { table, path, rows });
    }
    Ok(files)
}
