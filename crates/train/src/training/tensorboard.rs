//! TensorBoard event files, so `tensorboard --logdir runs` shows every run with no
//! conversion. An event file is a TFRecord stream of `Event` protocol buffers; the three
//! messages it needs are declared here with `prost` (field numbers from TensorBoard's
//! `event.proto` and `summary.proto`) and framed with masked CRC-32C checksums as TFRecord
//! requires.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

/// `tensorflow.Event`, with the fields a scalar log uses.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(string, optional, tag = "3")]
    file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` holding a `simple_value` scalar.
#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

/// Appends scalars to one `events.out.tfevents.*` file in a run folder.
pub struct EventWriter {
    file: BufWriter<File>,
    path: PathBuf,
}

impl EventWriter {
    /// Starts a new event file in `dir` (a resumed run gets a second one; TensorBoard reads
    /// them together).
    pub fn create(dir: &Path) -> io::Result<Self> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        let path = dir.join(format!(
            "events.out.tfevents.{}.{host}.{}",
            now.as_secs(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let mut writer = Self {
            file: BufWriter::new(file),
            path,
        };
        writer.write_event(&Event {
            wall_time: now.as_secs_f64(),
            step: 0,
            file_version: Some("brain.Event:2".into()),
            summary: None,
        })?;
        writer.flush()?;
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs `value` under `tag` at `step`.
    pub fn scalar(&mut self, tag: &str, step: usize, value: f64) -> io::Result<()> {
        let wall_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.write_event(&Event {
            wall_time,
            step: i64::try_from(step).unwrap_or(i64::MAX),
            file_version: None,
            summary: Some(Summary {
                value: vec![SummaryValue {
                    tag: tag.to_string(),
                    simple_value: Some(value as f32),
                }],
            }),
        })
    }

    /// Pushes what is buffered to the file (after every epoch), so TensorBoard sees it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// One TFRecord: length, its masked CRC, the bytes, their masked CRC.
    fn write_event(&mut self, event: &Event) -> io::Result<()> {
        let data = event.encode_to_vec();
        let length = (data.len() as u64).to_le_bytes();
        self.file.write_all(&length)?;
        self.file.write_all(&masked_crc(&length).to_le_bytes())?;
        self.file.write_all(&data)?;
        self.file.write_all(&masked_crc(&data).to_le_bytes())
    }
}

/// Steps between two logged values of the training loss and the learning rate.
pub const STEP_LOG_EVERY: usize = 10;

/// What a run logs for TensorBoard: every epoch's metrics (x axis: epoch), and every
/// [`STEP_LOG_EVERY`] steps the training loss and
/// the learning rate (x axis: global step).
/// A write that fails is reported once; training goes on without the log.
pub struct RunLog {
    writer: Option<EventWriter>,
    steps_per_epoch: usize,
    last_loss_step: Option<usize>,
}

impl RunLog {
    /// A new event file in `run_dir`; `steps_per_epoch` numbers the steps of a resumed run
    /// after those before it.
    pub fn create(run_dir: &Path, steps_per_epoch: usize) -> Self {
        let writer = EventWriter::create(run_dir)
            .map_err(|error| {
                tell!(
                    "warning: {}: cannot write the TensorBoard log: {error}",
                    run_dir.display()
                )
            })
            .ok();
        Self {
            writer,
            steps_per_epoch,
            last_loss_step: None,
        }
    }

    /// One training step (1-based within `epoch`), its loss as read from the device and its
    /// learning rate; logged every [`STEP_LOG_EVERY`] steps.
    pub fn step(&mut self, epoch: usize, step: usize, loss: f64, learning_rate: f64) {
        let global = (epoch.saturating_sub(1)) * self.steps_per_epoch + step;
        let due = self
            .last_loss_step
            .is_none_or(|last| global >= last + STEP_LOG_EVERY);
        // Both at the same steps, so the two charts line up.
        if due {
            self.last_loss_step = Some(global);
            self.write(|writer| {
                writer.scalar("step/train_loss", global, loss)?;
                writer.scalar("step/learning_rate", global, learning_rate)
            });
        }
    }

    /// One finished epoch's metrics; flushed so TensorBoard sees them at once.
    pub fn epoch(&mut self, row: &mnist_runs::EpochMetrics) {
        let epoch = row.epoch;
        self.write(|writer| {
            writer.scalar("train/loss", epoch, row.train_loss)?;
            writer.scalar("train/accuracy", epoch, row.train_acc)?;
            writer.scalar("test/loss", epoch, row.test_loss)?;
            writer.scalar("test/accuracy", epoch, row.test_acc)?;
            if let (Some(loss), Some(accuracy)) = (row.valid_loss, row.valid_acc) {
                writer.scalar("valid/loss", epoch, loss)?;
                writer.scalar("valid/accuracy", epoch, accuracy)?;
            }
            writer.flush()
        });
    }

    fn write(&mut self, log: impl FnOnce(&mut EventWriter) -> io::Result<()>) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if let Err(error) = log(writer) {
            tell!(
                "warning: {}: TensorBoard log stopped: {error}",
                writer.path().display()
            );
            self.writer = None;
        }
    }
}

/// TFRecord's checksum: CRC-32C, rotated and offset so that a CRC of CRCs stays strong.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TFRecord's checksum is CRC-32C (check value 0xE3069283), masked: rotated right by 15
    /// bits plus 0xa282ead8; the expected value worked out by hand from that formula.
    #[test]
    fn checksums_are_masked_castagnoli() {
        assert_eq!(masked_crc(b"123456789"), 0xC78A_B0E5);
    }

    #[test]
    fn writes_framed_records_that_decode_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        writer.scalar("test/accuracy", 3, 91.5).unwrap();
        writer.flush().unwrap();
        let bytes = std::fs::read(writer.path()).unwrap();
        let mut records = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let length = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
            assert_eq!(
                u32::from_le_bytes(rest[8..12].try_into().unwrap()),
                masked_crc(&rest[..8])
            );
            let data = &rest[12..12 + length];
            let crc = u32::from_le_bytes(rest[12 + length..16 + length].try_into().unwrap());
            assert_eq!(crc, masked_crc(data));
            records.push(data.to_vec());
            rest = &rest[16 + length..];
        }
        // The scalar's record, byte for byte as TensorBoard's event.proto lays it out after
        // the wall time (field 1, a double): step (field 2) = 3, summary (field 5) holding
        // one value (field 1) with tag (field 1) and simple_value (field 2, float 91.5).
        let mut expected = vec![0x10, 3, 0x2a, 22, 0x0a, 20, 0x0a, 13];
        expected.extend(b"test/accuracy");
        expected.extend([0x15, 0x00, 0x00, 0xb7, 0x42]);
        assert_eq!(records[1][0], 0x09, "the wall time comes first");
        assert_eq!(records[1][9..], expected);
        let records: Vec<Event> = records
            .iter()
            .map(|data| Event::decode(&data[..]).unwrap())
            .collect();
        assert_eq!(records[0].file_version.as_deref(), Some("brain.Event:2"));
        let value = &records[1].summary.as_ref().unwrap().value[0];
        assert_eq!((records[1].step, value.tag.as_str()), (3, "test/accuracy"));
        assert_eq!(value.simple_value, Some(91.5));
    }
}
