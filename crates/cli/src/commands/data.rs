//! `mnist-burn data`: fetch and verify the raw MNIST files.

use mnist_data::provision::{self, OnCorrupt, Provisioned};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Replace files that fail their checksum instead of stopping.
    #[arg(long)]
    repair: bool,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let root = provision::mnist_dir()?;
    let on_corrupt = match args.repair {
        true => OnCorrupt::Replace,
        false => OnCorrupt::Fail,
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
    Ok(())
}
