//! The first serial port (COM1), where every line the guest prints goes; QEMU
//! copies it to its standard output.

use core::fmt;
use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;

/// Serialises lines from the two CPUs.
pub static LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// Sets COM1 to 115200 baud, 8N1, no interrupts.
pub fn init() {
    let setup: [(u16, u8); 6] = [(1, 0), (3, 0x80), (0, 1), (1, 0), (3, 3), (2, 0xc7)];
    for (offset, value) in setup {
        // SAFETY: COM1's registers; writing them changes nothing but the port.
        unsafe { Port::<u8>::new(COM1 + offset).write(value) };
    }
}

fn put(byte: u8) {
    // SAFETY: reading the line-status register and writing the data register of
    // COM1 have no effect beyond the port.
    unsafe {
        let mut status = Port::<u8>::new(COM1 + 5);
        while status.read() & 0x20 == 0 {}
        Port::<u8>::new(COM1).write(byte);
    }
}

/// A `fmt::Write` onto COM1.
pub struct Serial;

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                put(b'\r');
            }
            put(b);
        }
        Ok(())
    }
}

/// Prints to COM1.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _guard = $crate::serial::LOCK.lock();
        let _ = core::fmt::Write::write_fmt(&mut $crate::serial::Serial, format_args!($($arg)*));
    }};
}

/// Prints a line to COM1.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let _guard = $crate::serial::LOCK.lock();
        let _ = core::fmt::Write::write_fmt(&mut $crate::serial::Serial, format_args!($($arg)*));
        let _ = core::fmt::Write::write_str(&mut $crate::serial::Serial, "\n");
    }};
}

/// Ends the run through QEMU's `isa-debug-exit` device: QEMU exits with status
/// `(code << 1) | 1`, so 0x10 gives 33 (pass) and 0x11 gives 35 (fail).
pub fn exit(pass: bool) -> ! {
    // SAFETY: port 0xf4 is the debug-exit device `run.sh` gives QEMU; writing it
    // stops the machine.
    unsafe { Port::<u32>::new(0xf4).write(if pass { 0x10 } else { 0x11 }) };
    loop {
        x86_64::instructions::hlt();
    }
}
