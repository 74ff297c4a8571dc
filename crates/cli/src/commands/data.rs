//! `mnist-burn data`: fetch and verify the raw MNIST files.

use mnist_data::provision::{self, OnCorrupt, Provisioned};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Replace files that fail their checksum instead of stopping.
    #[arg(long)]
    repair: bool,
    /// Also write the four files, gzipped, into this folder (what the browser build fetches).
    #[arg(long, value_name = "DIR")]
    gzipped_into: Option<std::path::PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let root = provision::mnist_dir()?;
    let on_corrupt = if args.repair {
        OnCorrupt::Replace
    } else {
        OnCorrupt::Fail
    };
    match provision::ensure_files(&root, on_corrupt)? {
        Provisioned::AlreadyPresent => {
            say!("MNIST files present and verified in {}", root.display())
        }
        Provisioned::Installed(files) => say!(
            "Installed and verified {} in {}",
            files.join(", "),
            root.display()
        ),
    }
    if let Some(dir) = args.gzipped_into {
        provision::write_gzipped(&root, &dir)?;
        say!("Wrote the four files, gzipped, into {}", dir.display());
    }
    Ok(())
}
