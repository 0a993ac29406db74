//! The embedded directory's storage before its data file (`store.rs`): a snapshot plus an
//! append-only log. A folder in this format is read once, moved into the data file, and
//! its files renamed (`EmbeddedDirectory::open`); writing it is kept for the tests, which
//! build such folders.
//!
//! # Files in the data folder
//!
//! - `LOCK` — held (OS file lock) while a process has the folder open; a second opener is
//!   refused instead of corrupting the data.
//! - `snapshot` — the whole directory at one point: written to `snapshot.tmp`, fsynced,
//!   renamed over `snapshot`, and the folder fsynced; so a crash leaves either the old or the
//!   new snapshot, never half of one.
//! - `wal` — every write since the snapshot, appended and fsynced before the write returns.
//!
//! # Format (all integers little-endian)
//!
//! Both files start with an 8-byte magic (`HXSNAP01` / `HXWAL001`) and then hold *records*:
//!
//! ```text
//! record  = len:u32  crc32(payload):u32  payload[len]
//! ```
//!
//! A WAL record's payload is one atomic batch: `seq:u64 count:u32 op*`, where
//! `op = 1:u8 entry` (put: create or replace) or `2:u8 str` (delete by DN), `entry = dn:str
//! nattrs:u32 (name:str nvalues:u32 value:bytes*)*` and `str`/`bytes` are `len:u32 data`.
//! Sequence numbers grow by one per batch.
//!
//! The snapshot's first record is `seq:u64 count:u64` (the last batch it contains and the
//! number of entries), then one record per entry (`entry` as above), then an end record
//! `count:u64` repeated. On open, WAL batches with `seq` at or below the snapshot's are
//! skipped, so a crash between writing a snapshot and resetting the log loses nothing and
//! applies nothing twice.
//!
//! # Damage
//!
//! - A WAL whose *last* record is incomplete or fails its checksum was torn by a crash
//!   during an append that never returned: the record is dropped (and logged) and the file
//!   truncated to the last good record.
//! - Any other damage — a bad record followed by more data, a bad magic, a snapshot that
//!   fails a checksum or lacks its end record, a sequence gap — is refused with
//!   `INTERNAL`/"corrupt" naming the file and offset: never a silent loss, never a start on
//!   half the data.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

use crate::directory::Entry;
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};

const WAL_MAGIC: &[u8; 8] = b"HXWAL001";
const SNAP_MAGIC: &[u8; 8] = b"HXSNAP01";
/// Largest record accepted (an entry with big photos is well below this).
const MAX_RECORD: u32 = 256 * 1024 * 1024;

/// One change inside an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogOp {
    /// Create or replace the entry at its DN.
    Put(Entry),
    /// Remove the entry at this DN.
    Delete(Dn),
}

/// What was on disk when the folder was opened.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Entries of the snapshot.
    pub(crate) snapshot: Vec<Entry>,
    /// Batches logged after it, in order.
    pub(crate) batches: Vec<Vec<LogOp>>,
    /// Whether a torn last record was dropped.
    pub(crate) dropped_torn_record: bool,
}

/// The open log of a data folder.
#[derive(Debug)]
pub(crate) struct Log {
    #[cfg(test)]
    dir: PathBuf,
    #[cfg(test)]
    wal: File,
    #[cfg(test)]
    wal_len: u64,
    #[cfg(test)]
    next_seq: u64,
    _lock: File,
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("cannot {what} '{}': {e}", path.display()),
    )
    .with_detail("path", path.display().to_string())
}

fn corrupt(path: &Path, offset: u64, reason: &str) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!(
            "the data file '{}' is corrupt at byte {offset}: {reason}; refusing to start on partial data \
             (restore it from a backup or an LDIF export)",
            path.display()
        ),
    )
    .with_detail("path", path.display().to_string())
    .with_detail("offset", offset)
    .with_detail("reason", reason)
}

// ---- encoding ---------------------------------------------------------------------------

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    // Lengths are bounded by MAX_RECORD when reading; an entry this large cannot be written
    // meaningfully anyway.
    put_u32(buf, u32::try_from(b.len()).unwrap_or(u32::MAX));
    buf.extend_from_slice(b);
}

pub(crate) fn encode_entry(buf: &mut Vec<u8>, e: &Entry) {
    put_bytes(buf, e.dn.to_string().as_bytes());
    put_u32(buf, u32::try_from(e.attrs.len()).unwrap_or(u32::MAX));
    for a in e.attrs.iter() {
        put_bytes(buf, a.name().as_bytes());
        put_u32(buf, u32::try_from(a.values().len()).unwrap_or(u32::MAX));
        for v in a.values() {
            put_bytes(buf, v);
        }
    }
}

#[cfg(test)]
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    put_u32(&mut out, u32::try_from(payload.len()).unwrap_or(u32::MAX));
    put_u32(&mut out, crc32fast::hash(payload));
    out.extend_from_slice(payload);
    out
}

/// A cursor over a payload that reports truncation instead of panicking.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    fn done(&self) -> bool {
        self.pos == self.data.len()
    }
}

fn decode_entry(r: &mut Reader<'_>) -> Option<Entry> {
    let dn = Dn::parse(r.str()?).ok()?;
    let mut e = Entry::new(dn);
    let nattrs = r.u32()?;
    for _ in 0..nattrs {
        let name = r.str()?.to_owned();
        let nvals = r.u32()?;
        // Exact capacity (the count is only trusted as far as the record has data).
        let mut values = Vec::with_capacity((nvals as usize).min(r.remaining() / 4));
        for _ in 0..nvals {
            values.push(r.bytes()?.to_vec());
        }
        if !values.is_empty() {
            e.attrs.push_values(name, values);
        }
    }
    e.attrs.shrink_to_fit();
    Some(e)
}

/// An entry encoded by [`encode_entry`], alone in `bytes`.
pub(crate) fn decode_entry_record(bytes: &[u8]) -> Option<Entry> {
    let mut r = Reader {
        data: bytes,
        pos: 0,
    };
    let e = decode_entry(&mut r)?;
    r.done().then_some(e)
}

fn decode_batch(payload: &[u8]) -> Option<(u64, Vec<LogOp>)> {
    let mut r = Reader {
        data: payload,
        pos: 0,
    };
    let seq = r.u64()?;
    let n = r.u32()?;
    let mut ops = Vec::with_capacity(n.min(1024) as usize);
    for _ in 0..n {
        ops.push(match r.u8()? {
            1 => LogOp::Put(decode_entry(&mut r)?),
            2 => LogOp::Delete(Dn::parse(r.str()?).ok()?),
            _ => return None,
        });
    }
    r.done().then_some((seq, ops))
}

/// Records with their file offsets, and where a torn tail starts (if any).
type Framed<'a> = (Vec<(u64, &'a [u8])>, Option<u64>);

/// Splits a file body (after the magic) into records. Returns the records with their
/// offsets, and the offset where a torn tail starts (if any).
/// The frame at the start of `rest`, if it is a whole, well-formed record: its payload
/// and total length.
fn frame_at(rest: &[u8], min_payload: usize) -> Option<(&[u8], usize)> {
    let len = u32::from_le_bytes(rest.get(0..4)?.try_into().ok()?);
    let crc = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?);
    if len > MAX_RECORD || (len as usize) < min_payload {
        return None;
    }
    let end = 8usize.checked_add(len as usize)?;
    let payload = rest.get(8..end)?;
    (crc32fast::hash(payload) == crc).then_some((payload, end))
}

/// Splits a file body (after the magic) into records of at least `min_payload` bytes.
///
/// A bad record is accepted as a torn tail (when `allow_torn_tail`) only if no
/// well-formed record starts anywhere after it: an interrupted append leaves garbage at
/// the end, never before good data. Anything else is corruption.
fn records<'a>(
    path: &Path,
    data: &'a [u8],
    base: u64,
    allow_torn_tail: bool,
    min_payload: usize,
) -> Result<Framed<'a>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
        let offset = base + pos as u64;
        if let Some((payload, end)) = frame_at(rest, min_payload) {
            out.push((offset, payload));
            pos += end;
            continue;
        }
        let good_follows = (1..rest.len()).any(|i| {
            rest.get(i..)
                .is_some_and(|r| frame_at(r, min_payload).is_some())
        });
        if allow_torn_tail && !good_follows {
            return Ok((out, Some(offset)));
        }
        return Err(corrupt(
            path,
            offset,
            "damaged record (bad length or checksum)",
        ));
    }
    Ok((out, None))
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>> {
    match File::open(path) {
        Ok(mut f) => {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)
                .map_err(|e| io_err("read", path, &e))?;
            Ok(Some(buf))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("open", path, &e)),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("sync folder", dir, &e))
}

fn load_snapshot(path: &Path) -> Result<(u64, Vec<Entry>)> {
    let Some(data) = read_file(path)? else {
        return Ok((0, Vec::new()));
    };
    if data.len() < 8 || &data[..8] != SNAP_MAGIC {
        return Err(corrupt(path, 0, "not a Heracles snapshot (bad magic)"));
    }
    let (recs, _) = records(path, &data[8..], 8, false, 8)?;
    let mut it = recs.into_iter();
    let (hoff, header) = it
        .next()
        .ok_or_else(|| corrupt(path, 8, "no header record"))?;
    let mut r = Reader {
        data: header,
        pos: 0,
    };
    let (seq, count) = match (r.u64(), r.u64()) {
        (Some(s), Some(c)) if r.done() => (s, c),
        _ => return Err(corrupt(path, hoff, "bad header record")),
    };
    let mut entries = Vec::with_capacity(usize::try_from(count.min(10_000_000)).unwrap_or(0));
    let mut ended = false;
    for (off, payload) in it {
        if ended {
            return Err(corrupt(path, off, "data after the end record"));
        }
        if entries.len() as u64 == count {
            let mut r = Reader {
                data: payload,
                pos: 0,
            };
            if r.u64() == Some(count) && r.done() {
                ended = true;
                continue;
            }
            return Err(corrupt(path, off, "bad end record"));
        }
        let mut r = Reader {
            data: payload,
            pos: 0,
        };
        match decode_entry(&mut r) {
            Some(e) if r.done() => entries.push(e),
            _ => return Err(corrupt(path, off, "undecodable entry")),
        }
    }
    if !ended {
        return Err(corrupt(path, data.len() as u64, "missing end record"));
    }
    Ok((seq, entries))
}

impl Log {
    /// Opens (creating if needed) the data folder and reads what it holds.
    pub(crate) fn open(dir: &Path) -> Result<(Log, Recovered)> {
        std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, &e))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("open", &lock_path, &e))?;
        if lock.try_lock().is_err() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!(
                    "the data folder '{}' is in use by another process",
                    dir.display()
                ),
            )
            .with_detail("path", dir.display().to_string()));
        }
        let snap_path = dir.join("snapshot");
        let (snap_seq, snapshot) = load_snapshot(&snap_path)?;

        let wal_path = dir.join("wal");
        let mut recovered = Recovered {
            snapshot,
            ..Recovered::default()
        };
        let mut next_seq = snap_seq + 1;
        let mut good_len = 8u64;
        let existing = read_file(&wal_path)?;
        let created = existing.is_none();
        if let Some(data) = existing.filter(|d| !d.is_empty()) {
            if data.len() < 8 || &data[..8] != WAL_MAGIC {
                return Err(corrupt(&wal_path, 0, "not a Heracles log (bad magic)"));
            }
            let (recs, torn) = records(&wal_path, &data[8..], 8, true, 12)?;
            for (off, payload) in recs {
                let Some((seq, ops)) = decode_batch(payload) else {
                    return Err(corrupt(&wal_path, off, "undecodable batch"));
                };
                good_len = off + 8 + payload.len() as u64;
                if seq <= snap_seq {
                    continue; // already in the snapshot
                }
                if seq != next_seq {
                    return Err(corrupt(
                        &wal_path,
                        off,
                        &format!("sequence gap: expected {next_seq}, found {seq}"),
                    ));
                }
                next_seq = seq + 1;
                recovered.batches.push(ops);
            }
            if let Some(off) = torn {
                tracing::warn!(
                    path = %wal_path.display(),
                    offset = off,
                    "dropping a torn last log record (a write interrupted by a crash; it was never acknowledged)"
                );
                recovered.dropped_torn_record = true;
            }
        }
        let mut wal = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&wal_path)
            .map_err(|e| io_err("open", &wal_path, &e))?;
        let len = wal
            .metadata()
            .map_err(|e| io_err("stat", &wal_path, &e))?
            .len();
        if len < 8 {
            wal.set_len(0)
                .map_err(|e| io_err("truncate", &wal_path, &e))?;
            wal.write_all(WAL_MAGIC)
                .and_then(|()| wal.sync_all())
                .map_err(|e| io_err("write", &wal_path, &e))?;
        } else if len > good_len {
            wal.set_len(good_len)
                .and_then(|()| wal.sync_all())
                .map_err(|e| io_err("truncate", &wal_path, &e))?;
        }
        if created {
            sync_dir(dir)?;
        }
        Ok((
            Log {
                #[cfg(test)]
                dir: dir.to_owned(),
                #[cfg(test)]
                wal,
                #[cfg(test)]
                wal_len: good_len,
                #[cfg(test)]
                next_seq,
                _lock: lock,
            },
            recovered,
        ))
    }

    /// Appends one atomic batch and makes it durable before returning.
    #[cfg(test)]
    pub(crate) fn append(&mut self, ops: &[LogOp]) -> Result<()> {
        let mut payload = Vec::with_capacity(256);
        payload.extend_from_slice(&self.next_seq.to_le_bytes());
        put_u32(&mut payload, u32::try_from(ops.len()).unwrap_or(u32::MAX));
        for op in ops {
            match op {
                LogOp::Put(e) => {
                    payload.push(1);
                    encode_entry(&mut payload, e);
                }
                LogOp::Delete(dn) => {
                    payload.push(2);
                    put_bytes(&mut payload, dn.to_string().as_bytes());
                }
            }
        }
        if payload.len() > MAX_RECORD as usize {
            return Err(Error::new(
                ErrorCode::ValidationFailed,
                "the change is too large to store",
            ));
        }
        let rec = frame(&payload);
        let path = self.dir.join("wal");
        let written = self.wal.write_all(&rec).and_then(|()| self.wal.sync_data());
        if let Err(e) = written {
            // Leave the file as it was, so a half-written record can't precede later ones.
            let _ = self.wal.set_len(self.wal_len);
            return Err(io_err("append to", &path, &e));
        }
        self.wal_len += rec.len() as u64;
        self.next_seq += 1;
        Ok(())
    }

    /// Writes a snapshot of `entries` (the state after every appended batch) and empties
    /// the log.
    #[cfg(test)]
    pub(crate) fn compact<'a>(
        &mut self,
        entries: impl ExactSizeIterator<Item = &'a Entry>,
    ) -> Result<()> {
        let tmp = self.dir.join("snapshot.tmp");
        let path = self.dir.join("snapshot");
        let seq = self.next_seq - 1;
        let count = entries.len() as u64;
        let mut out =
            std::io::BufWriter::new(File::create(&tmp).map_err(|e| io_err("create", &tmp, &e))?);
        let mut write = |bytes: &[u8]| out.write_all(bytes).map_err(|e| io_err("write", &tmp, &e));
        write(SNAP_MAGIC)?;
        let mut header = Vec::with_capacity(16);
        header.extend_from_slice(&seq.to_le_bytes());
        header.extend_from_slice(&count.to_le_bytes());
        write(&frame(&header))?;
        let mut buf = Vec::with_capacity(512);
        for e in entries {
            buf.clear();
            encode_entry(&mut buf, e);
            write(&frame(&buf))?;
        }
        write(&frame(&count.to_le_bytes()))?;
        let file = out
            .into_inner()
            .map_err(|e| io_err("write", &tmp, e.error()))?;
        file.sync_all().map_err(|e| io_err("sync", &tmp, &e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| io_err("rename", &tmp, &e))?;
        sync_dir(&self.dir)?;
        // The snapshot now holds everything; start a fresh log. Batches still in the old log
        // carry seq <= the snapshot's and would be skipped anyway.
        let wal_path = self.dir.join("wal");
        self.wal
            .set_len(8)
            .and_then(|()| self.wal.sync_all())
            .map_err(|e| io_err("truncate", &wal_path, &e))?;
        self.wal_len = 8;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Seek;

    fn entry(cn: &str) -> Entry {
        Entry::new(Dn::parse(&format!("cn={cn},dc=example,dc=com")).unwrap())
            .with("objectClass", ["organizationalRole"])
            .with("cn", [cn])
            .with("photo", [vec![0u8, 255, 1]])
    }

    #[test]
    fn appends_survive_reopen_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, rec) = Log::open(dir.path()).unwrap();
            assert!(rec.snapshot.is_empty() && rec.batches.is_empty());
            log.append(&[LogOp::Put(entry("a"))]).unwrap();
            log.append(&[LogOp::Put(entry("b")), LogOp::Delete(entry("a").dn)])
                .unwrap();
        }
        let (mut log, rec) = Log::open(dir.path()).unwrap();
        assert_eq!(rec.batches.len(), 2);
        assert_eq!(rec.batches[1][0], LogOp::Put(entry("b")));
        let b = entry("b");
        log.compact([&b].into_iter()).unwrap();
        log.append(&[LogOp::Put(entry("c"))]).unwrap();
        drop(log);
        let (_log, rec) = Log::open(dir.path()).unwrap();
        assert_eq!(rec.snapshot, vec![entry("b")]);
        assert_eq!(rec.batches, vec![vec![LogOp::Put(entry("c"))]]);
    }

    #[test]
    fn second_opener_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_log, _) = Log::open(dir.path()).unwrap();
        let err = Log::open(dir.path()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
    }

    #[test]
    fn torn_tail_is_dropped_but_corruption_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _) = Log::open(dir.path()).unwrap();
            log.append(&[LogOp::Put(entry("a"))]).unwrap();
            log.append(&[LogOp::Put(entry("b"))]).unwrap();
        }
        let wal = dir.path().join("wal");
        let full = std::fs::read(&wal).unwrap();
        // Torn: cut the last record in half.
        std::fs::write(&wal, &full[..full.len() - 10]).unwrap();
        {
            let (_log, rec) = Log::open(dir.path()).unwrap();
            assert!(rec.dropped_torn_record);
            assert_eq!(rec.batches.len(), 1);
        }
        // The torn bytes were truncated away: reopening is clean.
        {
            let (mut log, rec) = Log::open(dir.path()).unwrap();
            assert!(!rec.dropped_torn_record);
            log.append(&[LogOp::Put(entry("c"))]).unwrap();
        }
        // Corrupt: flip a byte inside the FIRST record; later records follow it.
        let mut data = std::fs::read(&wal).unwrap();
        data[20] ^= 0xff;
        std::fs::write(&wal, &data).unwrap();
        let err = Log::open(dir.path()).unwrap_err();
        assert!(err.message().contains("corrupt"), "{err}");
        // Bad magic.
        let mut f = OpenOptions::new().write(true).open(&wal).unwrap();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.write_all(b"XXXXXXXX").unwrap();
        drop(f);
        assert!(Log::open(dir.path()).is_err());
    }

    #[test]
    fn damage_before_good_records_is_never_taken_for_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _) = Log::open(dir.path()).unwrap();
            for n in ["a", "b", "c"] {
                log.append(&[LogOp::Put(entry(n))]).unwrap();
            }
        }
        let wal = dir.path().join("wal");
        let mut data = std::fs::read(&wal).unwrap();
        // Make the first record's length point past the end of the file.
        data[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&wal, &data).unwrap();
        let err = Log::open(dir.path()).unwrap_err();
        assert!(err.message().contains("corrupt"), "{err}");

        // A zero-filled tail (a file extended but never written) is a torn tail.
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _) = Log::open(dir.path()).unwrap();
            log.append(&[LogOp::Put(entry("a"))]).unwrap();
        }
        let wal = dir.path().join("wal");
        let mut data = std::fs::read(&wal).unwrap();
        data.extend_from_slice(&[0u8; 64]);
        std::fs::write(&wal, &data).unwrap();
        let (_log, rec) = Log::open(dir.path()).unwrap();
        assert!(rec.dropped_torn_record);
        assert_eq!(rec.batches.len(), 1);
    }

    #[test]
    fn damaged_snapshot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, _) = Log::open(dir.path()).unwrap();
            let (a, b) = (entry("a"), entry("b"));
            log.compact([&a, &b].into_iter()).unwrap();
        }
        let snap = dir.path().join("snapshot");
        let data = std::fs::read(&snap).unwrap();
        std::fs::write(&snap, &data[..data.len() - 3]).unwrap();
        let err = Log::open(dir.path()).unwrap_err();
        assert!(err.message().contains("corrupt"), "{err}");
    }
}
