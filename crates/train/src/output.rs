//! Standard output for a command-line tool: when the reader goes away (`mnist-burn inspect |
//! head`), the program exits quietly as any filter does, instead of panicking in `println!`.

use std::fmt;
use std::io::{self, Write};

/// Writes `text` to standard output; exits with status 0 if the pipe was closed.
pub fn write(text: fmt::Arguments) {
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("cannot write to standard output: {error}");
    }
}

/// `println!` that ends the program quietly when standard output is a closed pipe.
macro_rules! say {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
